// What a callback is: a named sink with success and/or failure hooks, and how one is checked.
import type { CallEvent } from './event.js';
import { LlmCallbacksError } from './errors.js';
import { checkNearMisses } from './option-names.js';

type MaybePromise<T> = T | Promise<T>;

/**
 * Given to a callback when it is registered, for what it finds outside a hook call: a sink that
 * batches and uploads in the background reports its failures and give-ups here, so they reach the
 * manager's `callbackError` / `eventDropped` events and `stats()` like everything else.
 */
export interface CallbackReporter {
  /** A delivery problem, such as an upload attempt that failed (emitted as `callbackError`, hook `delivery`). */
  error(error: unknown, details?: { readonly eventIds?: readonly string[] }): void;
  /** Events this callback accepted and then had to give up on (emitted as `eventDropped`; counted as dropped). */
  dropped(eventIds: readonly string[], reason: 'overflow' | 'gave-up'): void;
  /**
   * Events the sink confirmed as stored (counted as `confirmed` in `stats()`). The manager's
   * reporter always has it; optional so a reporter written for an older core still type-checks:
   * call it as `reporter.delivered?.(ids)`.
   */
  delivered?(eventIds: readonly string[]): void;
}

/**
 * Message-content redaction: `true` replaces prompts, completions, streamed output and tool-call
 * arguments with a marker (core's `redactMessageContent`); a function returns the event to deliver
 * instead. A function that throws, or returns something that is not an object, fails closed: the
 * callback gets the event with its request and response content dropped.
 */
export type RedactMessages = boolean | ((event: CallEvent) => CallEvent);

/**
 * A logging callback. Implement `onSuccess`, `onFailure` or both; which ones decides the list
 * (`success`, `failure`, `success_and_failure`) the callback appears in.
 */
export interface Callback {
  /** Unique among a manager's callbacks, compared case-insensitively; the name used to disable it. */
  readonly name: string;
  /** Called once for every successful call this callback is not disabled for. */
  onSuccess?(event: CallEvent): MaybePromise<void>;
  /** Called once for every failed call this callback is not disabled for. */
  onFailure?(event: CallEvent): MaybePromise<void>;
  /** Resolve when everything handed to this callback so far has been delivered (or given up). */
  flush?(): MaybePromise<void>;
  /** Flush and release clients, timers and sockets. */
  shutdown?(): MaybePromise<void>;
  /** Called once when the callback is registered with a manager. */
  onRegister?(reporter: CallbackReporter): void;
  /** Locked: no header, option or scope can disable this callback, even when disabling is allowed. */
  readonly required?: boolean;
  /** Longest time one hook call may take before it is reported as timed out (default: the manager's). */
  readonly timeoutMs?: number;
  /** Events this callback's queue may hold before overflow (default: the manager's `maxQueueSize`). */
  readonly maxQueueSize?: number;
  /** Which event an overflow of this callback's queue drops (default: the manager's `overflow`). */
  readonly overflow?: 'drop-oldest' | 'drop-newest';
  /** Redaction for this callback only; when unset, the manager's `redactMessages` applies. */
  readonly redactMessages?: RedactMessages;
}

/** Which lists of `manager.list()` a callback belongs to, from the hooks it implements. */
export type CallbackKind = 'success' | 'failure' | 'success_and_failure';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Fields whose misspelling would silently drop a lock, a redaction or a hook: near misses are refused. */
const GUARDED_FIELDS = ['required', 'redactMessages', 'onSuccess', 'onFailure'] as const;
/** Names people reach for instead of a guarded field. */
const FIELD_ALIASES: Readonly<Record<string, string>> = {
  isRequired: 'required',
  redact: 'redactMessages',
  redactContent: 'redactMessages',
  redactedMessages: 'redactMessages',
  onError: 'onFailure',
  onFail: 'onFailure',
};

/** Checks a callback's shape and returns it unchanged; throws {@link LlmCallbacksError} when unusable. */
export function defineCallback<C extends Callback>(callback: C): C {
  assertCallback(callback);
  return callback;
}

export function assertCallback(value: unknown): asserts value is Callback {
  if (typeof value !== 'object' || value === null) {
    throw new LlmCallbacksError(
      'INVALID_CALLBACK',
      `A callback must be an object like { name, onSuccess, onFailure }, got ${value === null ? 'null' : typeof value}.`,
    );
  }
  const cb = value as Record<string, unknown>;
  const name = cb['name'];
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new LlmCallbacksError(
      'INVALID_CALLBACK',
      `Callback name ${JSON.stringify(name)} is not valid: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (names are matched case-insensitively and may not contain commas, since disable headers are comma-separated).`,
    );
  }
  for (const hook of ['onSuccess', 'onFailure', 'flush', 'shutdown', 'onRegister'] as const) {
    if (cb[hook] !== undefined && typeof cb[hook] !== 'function') {
      throw new LlmCallbacksError('INVALID_CALLBACK', `Callback "${name}": ${hook} must be a function, got ${typeof cb[hook]}.`);
    }
  }
  // A misspelt `required` would leave a compliance callback switchable: refuse near misses.
  checkNearMisses(`Callback "${name}"`, cb, GUARDED_FIELDS, FIELD_ALIASES, 'INVALID_CALLBACK');
  if (typeof cb['onSuccess'] !== 'function' && typeof cb['onFailure'] !== 'function') {
    throw new LlmCallbacksError(
      'INVALID_CALLBACK',
      `Callback "${name}" has neither onSuccess nor onFailure: implement at least one hook, or it would never receive an event.`,
    );
  }
  if (cb['required'] !== undefined && typeof cb['required'] !== 'boolean') {
    throw new LlmCallbacksError('INVALID_CALLBACK', `Callback "${name}": required must be a boolean, got ${typeof cb['required']}.`);
  }
  const redact = cb['redactMessages'];
  if (redact !== undefined && typeof redact !== 'boolean' && typeof redact !== 'function') {
    throw new LlmCallbacksError(
      'INVALID_CALLBACK',
      `Callback "${name}": redactMessages must be true, false or a function (event) => event, got ${typeof redact}.`,
    );
  }
  const timeout = cb['timeoutMs'];
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout))) {
    throw new LlmCallbacksError('INVALID_CALLBACK', `Callback "${name}": timeoutMs must be a positive number of milliseconds, got ${String(timeout)}.`);
  }
  const maxQueueSize = cb['maxQueueSize'];
  if (maxQueueSize !== undefined && (typeof maxQueueSize !== 'number' || !Number.isInteger(maxQueueSize) || maxQueueSize < 1)) {
    throw new LlmCallbacksError(
      'INVALID_CALLBACK',
      `Callback "${name}": maxQueueSize must be a whole number of events, at least 1, got ${String(maxQueueSize)}.`,
    );
  }
  const overflow = cb['overflow'];
  if (overflow !== undefined && overflow !== 'drop-oldest' && overflow !== 'drop-newest') {
    throw new LlmCallbacksError('INVALID_CALLBACK', `Callback "${name}": overflow must be 'drop-oldest' or 'drop-newest', got ${JSON.stringify(overflow)}.`);
  }
}

/** Which list of `manager.list()` a callback belongs to: `success` (only `onSuccess`), `failure` (only `onFailure`) or `success_and_failure` (both). */
export function callbackKind(callback: Callback): CallbackKind {
  const success = typeof callback.onSuccess === 'function';
  const failure = typeof callback.onFailure === 'function';
  return success && failure ? 'success_and_failure' : success ? 'success' : 'failure';
}
