// The callback manager: the registry of callbacks, the disable decision for each call, and the
// dispatcher that hands every event to each callback's queue off the call's path.
import { EventEmitter } from 'eventemitter3';
import { assertCallback, callbackKind, type Callback, type CallbackReporter, type RedactMessages } from './callback.js';
import { CallbackQueue, type CallbackStats, type Hook, type OverflowPolicy } from './callback-queue.js';
import {
  DEFAULT_DISABLE_HEADER,
  MAX_DISABLE_VALUE_LENGTH,
  NOTHING_DISABLED,
  decideDisabled,
  type DisableDecision,
  type DisableRequest,
  type PolicyConfig,
  type PolicyTarget,
} from './disable-policy.js';
import { CallEventSchema, type CallEvent, type DisableSource, type IgnoredDisable } from './event.js';
import { checkOptionNames } from './option-names.js';
import { LlmCallbacksError, toError } from './errors.js';
import { applyRedaction } from './redact-content.js';
import { installSignalHandlers, resolveSignalOptions, type HandleSignalsOptions } from './signal-handling.js';

/** Options of {@link createCallbackManager}: the callbacks, the disable policy and delivery limits. */
export interface CallbackManagerOptions {
  /** Callbacks to register, in order. */
  callbacks?: readonly Callback[];
  /** true (default): calls may switch callbacks off. false: every callback runs on every call. */
  allowDynamicCallbackDisabling?: boolean;
  /** Header name(s) read for disable requests, case-insensitive. Default `x-litellm-disable-callbacks`. */
  disableHeaders?: string | readonly string[];
  /** Longest time one hook call may take (default 10 000 ms); a callback's own `timeoutMs` wins. */
  timeoutMs?: number;
  /** Events each callback may have waiting before overflow (default 10 000). */
  maxQueueSize?: number;
  /** Which event an overflowing queue drops (default `drop-oldest`). Every drop is counted and reported. */
  overflow?: OverflowPolicy;
  /** Hook calls one callback may have running at once (default 16). */
  concurrency?: number;
  /** Longest disable header or option value accepted, in characters (default 8192). */
  maxDisableValueLength?: number;
  /**
   * Replace message content (prompts, completions, streamed output, tool-call arguments) with a
   * marker before events reach callbacks; a callback's own `redactMessages` wins. Default false.
   */
  redactMessages?: RedactMessages;
  /**
   * On SIGTERM / SIGINT (and beforeExit) flush within a bound before the process goes, then let the
   * signal have its normal effect. `true` uses the defaults (5 000 ms); see {@link HandleSignalsOptions}.
   */
  handleSignals?: boolean | HandleSignalsOptions;
}

/** The shape of LiteLLM's `GET /callbacks/list`. */
export interface CallbackList {
  success: string[];
  failure: string[];
  success_and_failure: string[];
}

/** Payload of the manager's `callbackError` event: a callback's hook threw, rejected, timed out, or the callback reported a failed delivery. */
export interface CallbackErrorInfo {
  /** The callback's name. */
  callback: string;
  hook: Hook;
  error: Error;
  /** The event being delivered, for onSuccess / onFailure. */
  eventId?: string;
  /** true when the hook outlived its timeout (the error is a CallbackTimeoutError). */
  timedOut: boolean;
}

/** Payload of the manager's `callbacksDisabled` event: which callbacks one call switched off, and which sources asked. */
export interface CallbacksDisabledInfo {
  callId: string;
  disabled: readonly string[];
  sources: Readonly<Record<string, readonly DisableSource[]>>;
}

/** Payload of the manager's `disableIgnored` event: disable requests of one call that were not applied (see {@link IgnoredDisable}). */
export interface DisableIgnoredInfo {
  callId: string;
  ignored: readonly IgnoredDisable[];
}

/** Payload of the manager's `eventDropped` event: an event one callback will never receive. */
export interface EventDroppedInfo {
  callback: string;
  eventId: string;
  /**
   * `queue-full`: the manager's queue for the callback overflowed; `shutdown`: reported after
   * shutdown; `overflow` / `gave-up`: the callback itself dropped it (its own buffer was full, or
   * delivery failed for good).
   */
  reason: 'queue-full' | 'shutdown' | 'overflow' | 'gave-up';
}

/** Payload of the manager's `internalError` event: a bug or unexpected failure inside llm-callbacks itself, contained so it never reaches the caller. */
export interface InternalErrorInfo {
  /** What was being done. */
  where: string;
  error: Error;
  eventId?: string;
}

/** Events the manager emits (eventemitter3; listeners that throw are isolated). */
export interface CallbackManagerEvents {
  /** A callback threw, rejected or timed out. */
  callbackError: (info: CallbackErrorInfo) => void;
  /** A call switched callbacks off. */
  callbacksDisabled: (info: CallbacksDisabledInfo) => void;
  /** A call asked to disable names that match no callback, or gave an unusable value. */
  disableIgnored: (info: DisableIgnoredInfo) => void;
  /** A call asked to disable a callback that is locked (manager-wide or `required`). */
  disableRefused: (info: DisableIgnoredInfo) => void;
  /** An event could not be queued for a callback. */
  eventDropped: (info: EventDroppedInfo) => void;
  /** Something inside llm-callbacks failed; the call itself was not affected. */
  internalError: (info: InternalErrorInfo) => void;
}

/** Per-call audit counters of the disable policy, since the manager was created. */
export interface AuditStats {
  /** Calls that switched at least one callback off (each emitted `callbacksDisabled`). */
  disablingCalls: number;
  /** Calls with at least one disable attempt a lock refused (each emitted `disableRefused`). */
  refusedCalls: number;
  /** Calls with disable requests that were not usable (each emitted `disableIgnored`). */
  ignoredCalls: number;
  /** Calls whose policy decision failed and therefore disabled nothing (each emitted `internalError`). */
  policyErrors: number;
}

/** What `flush()` and `shutdown()` resolve to: whether everything was delivered in time, and per-callback counters. */
export interface DeliveryReport {
  /** true when every queue drained and every callback's flush finished within the time allowed. */
  complete: boolean;
  /** Events still queued or being handled, all callbacks together. */
  pending: number;
  /**
   * Reported calls that started and have not ended yet (a provider still answering, a stream not
   * read to its end yet, or one abandoned half-read): their events come later, so this report does
   * not cover them. A stream nobody finishes reading never ends: read it out, break out of it or
   * abort it.
   */
  callsInFlight: number;
  /** Counters per callback (by canonical name). */
  callbacks: Record<string, CallbackStats>;
  /** The per-callback counters summed over the callbacks registered now. */
  totals: CallbackStats;
  /** How calls used the disable policy. */
  audit: AuditStats;
}

/** Options of `manager.flush()` and `manager.shutdown()`. */
export interface FlushOptions {
  /** Longest time to wait (default 30 000 ms for flush, 10 000 ms for shutdown). */
  timeoutMs?: number;
}

interface RegistryEntry {
  callback: Callback;
  queue: CallbackQueue;
}

const DEFAULTS = { timeoutMs: 10_000, maxQueueSize: 10_000, overflow: 'drop-oldest', concurrency: 16 } as const;

/** Owns the callbacks of one service: register them, decide disables, deliver events. */
export class CallbackManager extends EventEmitter<CallbackManagerEvents> {
  readonly allowDynamicCallbackDisabling: boolean;
  readonly disableHeaders: readonly string[];
  private readonly policy: PolicyConfig;
  private readonly queueOptions: { timeoutMs: number; maxQueueSize: number; overflow: OverflowPolicy; concurrency: number };
  /** Registered callbacks by lower-cased name, in registration order. */
  private readonly registry = new Map<string, RegistryEntry>();
  /** The policy's view of the registry, kept beside it so a decision allocates nothing up front. */
  private readonly targets = new Map<string, PolicyTarget>();
  /** Queues of callbacks unregistered while they still had work: drained, then forgotten. */
  private readonly retired = new Set<CallbackQueue>();
  /** Events being assembled (a response body being read, say): flush waits for them. */
  private readonly building = new Set<Promise<unknown>>();
  private openCalls = 0;
  private readonly reportedOnce = new Set<string>();
  private readonly audit: AuditStats = { disablingCalls: 0, refusedCalls: 0, ignoredCalls: 0, policyErrors: 0 };
  private readonly redactMessages: RedactMessages;
  private uninstallSignals: (() => void) | undefined;
  private reported = 0;
  private closed = false;

  constructor(options: CallbackManagerOptions = {}) {
    super();
    checkOptionsShape(options);
    // Only an absent option takes the default: null, 'false' or 0 must be refused, never read as true.
    const allow = options.allowDynamicCallbackDisabling === undefined ? true : options.allowDynamicCallbackDisabling;
    if (typeof allow !== 'boolean') {
      throw new LlmCallbacksError(
        'INVALID_OPTIONS',
        `allowDynamicCallbackDisabling must be true or false, got ${JSON.stringify(allow)}; a lock must never be guessed.`,
      );
    }
    const headers = options.disableHeaders ?? [DEFAULT_DISABLE_HEADER];
    if (typeof headers !== 'string' && !Array.isArray(headers)) {
      throw new LlmCallbacksError('INVALID_OPTIONS', `disableHeaders must be a header name or a list of header names, got ${typeof headers}.`);
    }
    const headerList: unknown[] = typeof headers === 'string' ? [headers] : [...(headers as readonly unknown[])];
    for (const h of headerList) {
      if (typeof h !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h)) {
        throw new LlmCallbacksError('INVALID_OPTIONS', `disableHeaders: ${JSON.stringify(h)} is not a valid HTTP header name.`);
      }
    }
    this.allowDynamicCallbackDisabling = allow;
    this.disableHeaders = Object.freeze((headerList as string[]).map((h) => h.toLowerCase()));
    this.policy = {
      allowDynamicCallbackDisabling: allow,
      headerNames: this.disableHeaders,
      maxValueLength: positive(options.maxDisableValueLength, MAX_DISABLE_VALUE_LENGTH, 'maxDisableValueLength'),
    };
    const overflow = options.overflow ?? DEFAULTS.overflow;
    if (overflow !== 'drop-oldest' && overflow !== 'drop-newest') {
      throw new LlmCallbacksError('INVALID_OPTIONS', `overflow must be 'drop-oldest' or 'drop-newest', got ${JSON.stringify(overflow)}.`);
    }
    this.queueOptions = {
      timeoutMs: positive(options.timeoutMs, DEFAULTS.timeoutMs, 'timeoutMs'),
      maxQueueSize: positive(options.maxQueueSize, DEFAULTS.maxQueueSize, 'maxQueueSize'),
      concurrency: positive(options.concurrency, DEFAULTS.concurrency, 'concurrency'),
      overflow,
    };
    const redact = options.redactMessages ?? false;
    if (typeof redact !== 'boolean' && typeof redact !== 'function') {
      throw new LlmCallbacksError('INVALID_OPTIONS', `redactMessages must be true, false or a function (event) => event, got ${JSON.stringify(redact)}.`);
    }
    this.redactMessages = redact;
    const signals = resolveSignalOptions(options.handleSignals);
    for (const callback of options.callbacks ?? []) this.register(callback);
    if (signals) this.uninstallSignals = installSignalHandlers(this, signals);
  }

  /** Adds a callback. Throws when the name is taken (case-insensitively) or the callback has no hook. */
  register(callback: Callback): this {
    assertCallback(callback);
    const key = callback.name.toLowerCase();
    const existing = this.registry.get(key);
    if (existing) {
      throw new LlmCallbacksError(
        'DUPLICATE_CALLBACK',
        `A callback named "${existing.callback.name}" is already registered (names are case-insensitive): give "${callback.name}" another name, or unregister the first.`,
      );
    }
    const queue = new CallbackQueue(callback, this.queueOptions, {
      error: (name, hook, error, event, timedOut) => this.emitSafe('callbackError', { callback: name, hook, error, eventId: event?.id, timedOut }),
      dropped: (name, event, reason) => this.emitSafe('eventDropped', { callback: name, eventId: event.id, reason }),
    });
    this.registry.set(key, { callback, queue });
    this.targets.set(key, { name: callback.name, required: callback.required === true });
    this.attachReporter(callback, queue);
    return this;
  }

  /** Hands the callback its channel for problems found outside hook calls (background uploads). */
  private attachReporter(callback: Callback, queue: CallbackQueue): void {
    if (typeof callback.onRegister !== 'function') return;
    const reporter: CallbackReporter = {
      error: (error, details) => {
        const ids = details?.eventIds ?? [];
        this.emitSafe('callbackError', {
          callback: callback.name,
          hook: 'delivery',
          error: toError(error),
          ...(ids.length === 1 ? { eventId: ids[0] } : {}),
          timedOut: false,
        });
      },
      dropped: (eventIds, reason) => {
        for (const eventId of eventIds) {
          queue.stats.dropped += 1;
          this.emitSafe('eventDropped', { callback: callback.name, eventId, reason });
        }
      },
      delivered: (eventIds) => {
        queue.stats.confirmed += Array.isArray(eventIds) ? eventIds.length : 0;
      },
    };
    try {
      callback.onRegister(reporter);
    } catch (error) {
      this.emitSafe('callbackError', { callback: callback.name, hook: 'onRegister', error: toError(error), timedOut: false });
    }
  }

  /** Removes a callback by name (case-insensitive); what it had queued is still delivered. */
  unregister(name: string): boolean {
    const key = String(name).toLowerCase();
    const entry = this.registry.get(key);
    if (!entry) return false;
    this.registry.delete(key);
    this.targets.delete(key);
    this.retire(entry.queue);
    return true;
  }

  /** Keeps an unregistered callback's queue counted (and waited for by flush) until it drains. */
  private retire(queue: CallbackQueue): void {
    if (queue.size === 0 || this.retired.has(queue)) return;
    this.retired.add(queue);
    void queue.idle().then(() => this.retired.delete(queue));
  }

  /** Changes whenever an event is reported (for handleSignals' beforeExit flush). */
  get activity(): number {
    return this.reported;
  }

  /** How many callbacks are registered. */
  get size(): number {
    return this.registry.size;
  }

  /** The registered callbacks, in registration order. */
  callbacks(): Callback[] {
    return [...this.registry.values()].map((e) => e.callback);
  }

  /** Registered names by the hooks they implement: the JSON of LiteLLM's `GET /callbacks/list`. */
  list(): CallbackList {
    const result: CallbackList = { success: [], failure: [], success_and_failure: [] };
    for (const { callback } of this.registry.values()) result[callbackKind(callback)].push(callback.name);
    return result;
  }

  /**
   * Decides which callbacks a call disables and reports what was disabled, ignored or refused.
   * Wrappers call this once, when the call starts.
   */
  decide(request: DisableRequest, callId: string): DisableDecision {
    let decision: DisableDecision;
    try {
      decision = decideDisabled(this.targets, this.policy, request);
      if (decision.internalError) {
        this.audit.policyErrors += 1;
        this.emitSafe('internalError', { where: 'disable policy (failed closed: nothing disabled)', error: decision.internalError, eventId: callId });
      }
      if (decision.disabled.length > 0) {
        this.audit.disablingCalls += 1;
        this.emitSafe('callbacksDisabled', { callId, disabled: decision.disabled, sources: decision.sources });
      }
      if (decision.ignored.length > 0) {
        const refused = decision.ignored.filter((i) => i.reason === 'locked' || i.reason === 'required');
        const ignored = decision.ignored.filter((i) => i.reason !== 'locked' && i.reason !== 'required');
        if (ignored.length > 0) {
          this.audit.ignoredCalls += 1;
          this.emitSafe('disableIgnored', { callId, ignored });
        }
        if (refused.length > 0) {
          this.audit.refusedCalls += 1;
          this.countRefused(refused.map((r) => r.name));
          this.emitSafe('disableRefused', { callId, ignored: refused });
        }
      }
    } catch (error) {
      // Bookkeeping around the decision failed (it never should): the call must still go ahead,
      // and it must disable nothing.
      this.audit.policyErrors += 1;
      decision = { ...NOTHING_DISABLED, internalError: toError(error) };
      try {
        this.reportInternalError('disable policy (failed closed: nothing disabled)', error, callId);
      } catch {
        // Reporting is what failed; the decision above stands.
      }
    }
    return decision;
  }

  /** One refusal per callback per call, however many sources asked. */
  private countRefused(names: Iterable<unknown>): void {
    const seen = new Set<string>();
    for (const name of names) {
      const key = String(name).toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = this.registry.get(key);
      if (entry) entry.queue.stats.refused += 1;
    }
  }

  /**
   * Delivers one event to every callback that has the matching hook and is not in
   * `event.disabledCallbacks`. Returns at once; delivery happens on a later turn of the event loop.
   */
  report(event: CallEvent): void {
    this.reported += 1;
    // The event goes to the callbacks registered now (one unregistered before the dispatcher runs
    // still gets it); an event reported once shutdown() has begun is dropped and reported.
    const targets = [...this.registry];
    const closed = this.closed;
    setImmediate(() => this.dispatch(event, targets, closed));
  }

  /**
   * For wrappers: marks a call as started; the returned function (idempotent) marks it ended. The
   * count is reported as `callsInFlight` by stats(), flush() and shutdown().
   */
  openCall(): () => void {
    this.openCalls += 1;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.openCalls -= 1;
    };
  }

  /** Keeps `flush()` waiting until `work` (an event being assembled) settles. */
  track(work: Promise<unknown>): void {
    this.building.add(work);
    const done = (): void => {
      this.building.delete(work);
    };
    work.then(done, done);
  }

  /** Reports a failure inside llm-callbacks itself (an event that could not be built, say). */
  reportInternalError(where: string, error: unknown, eventId?: string): void {
    this.emitSafe('internalError', { where, error: toError(error), ...(eventId ? { eventId } : {}) });
  }

  /** Counters per callback, and what is pending. */
  stats(): DeliveryReport {
    const callbacks: Record<string, CallbackStats> = {};
    const totals: CallbackStats = { delivered: 0, failed: 0, timedOut: 0, dropped: 0, pending: 0, disabled: 0, refused: 0, confirmed: 0 };
    let pending = this.building.size;
    for (const { callback, queue } of this.registry.values()) {
      callbacks[callback.name] = { ...queue.stats };
      for (const key of Object.keys(totals) as Array<keyof CallbackStats>) totals[key] += queue.stats[key];
      pending += queue.size;
    }
    for (const queue of this.retired) pending += queue.size;
    return { complete: pending === 0, pending, callsInFlight: this.openCalls, callbacks, totals, audit: { ...this.audit } };
  }

  /**
   * Resolves when every event reported so far has been handed to its callbacks and every callback's
   * own `flush()` has resolved, or when `timeoutMs` passes. Never rejects.
   */
  async flush(options: FlushOptions = {}): Promise<DeliveryReport> {
    return this.drain('flush', options.timeoutMs ?? 30_000);
  }

  /** Flushes, then shuts every callback down; bounded by `timeoutMs`. Later events are dropped and reported. */
  async shutdown(options: FlushOptions = {}): Promise<DeliveryReport> {
    this.uninstallSignals?.();
    this.uninstallSignals = undefined;
    const report = await this.drain('shutdown', options.timeoutMs ?? 10_000);
    this.closed = true;
    return report;
  }

  private async drain(hook: 'flush' | 'shutdown', timeoutMs: number): Promise<DeliveryReport> {
    const deadline = Date.now() + timeoutMs;
    const work = (async (): Promise<boolean> => {
      // Events still being assembled, then one turn for report()'s setImmediate, then the queues.
      while (this.building.size > 0) await Promise.allSettled([...this.building]);
      // Shutting down: events of calls in flight are in (above); anything reported from now on is
      // dropped and reported, never handed to a callback that is being shut down.
      if (hook === 'shutdown') this.closed = true;
      await new Promise<void>((resolve) => setImmediate(resolve));
      const queues = [...[...this.registry.values()].map((e) => e.queue), ...this.retired];
      await Promise.all(queues.map((q) => q.settled()));
      const results = await Promise.all([...this.registry.values()].map((e) => e.queue.lifecycle(hook, Math.max(1, deadline - Date.now()))));
      return results.every(Boolean);
    })();
    const inTime = await withDeadline(work, deadline);
    const report = this.stats();
    return { ...report, complete: inTime === true && report.pending === 0 };
  }

  private dispatch(event: CallEvent, targets: ReadonlyArray<[string, RegistryEntry]>, closed: boolean): void {
    // Read defensively: a malformed event (even a non-object) must not crash the process.
    const eventId = typeof event === 'object' && event !== null && typeof event.id === 'string' ? event.id : undefined;
    try {
      const checked = CallEventSchema.safeParse(event);
      if (!checked.success) {
        // Deliver anyway (losing it would be worse) but say loudly that the event is malformed.
        this.emitSafe('internalError', {
          where: 'event schema check',
          eventId,
          error: new Error(`event ${String(eventId)} does not match CallEventSchema: ${checked.error.message}`),
        });
      }
      const hook = event.status === 'success' ? 'onSuccess' : 'onFailure';
      const names: unknown[] = Array.isArray(event.disabledCallbacks) ? event.disabledCallbacks : [];
      const disabled = new Set(names.map((n) => String(n).toLowerCase()));
      const recipients: Array<[string, RegistryEntry]> = [];
      for (const target of targets) {
        const [key, { callback, queue }] = target;
        if (typeof callback[hook] !== 'function') continue;
        if (disabled.has(key)) {
          // Checked again here, not only in the policy: an event built elsewhere (a custom wrapper
          // calling report() itself) must not skip a locked callback either.
          if (this.allowDynamicCallbackDisabling && callback.required !== true) {
            queue.stats.disabled += 1;
            continue;
          }
          queue.stats.refused += 1;
        }
        recipients.push(target);
      }
      // One frozen event for all: a callback that tries to change it fails (and is reported) instead
      // of changing what the others receive; cheaper than a copy per callback.
      if (recipients.length > 1) deepFreeze(event);
      const redacted = new Map<RedactMessages, CallEvent>();
      recipients.forEach(([key, entry]) => {
        const delivered = this.redactedFor(event, entry.callback, redacted, recipients.length > 1);
        if (closed) return entry.queue.drop(delivered, 'shutdown');
        entry.queue.enqueue(delivered, hook);
        if (this.registry.get(key) !== entry) this.retire(entry.queue);
      });
    } catch (error) {
      this.emitSafe('internalError', { where: 'dispatch', eventId, error: toError(error) });
    }
  }

  /** The event as `callback` may see it: redacted once per redaction setting and shared. */
  private redactedFor(event: CallEvent, callback: Callback, cache: Map<RedactMessages, CallEvent>, shared: boolean): CallEvent {
    const redact = callback.redactMessages ?? this.redactMessages;
    if (redact === false) return event;
    let copy = cache.get(redact);
    if (!copy) {
      const { event: result, error } = applyRedaction(event, redact);
      if (error) this.reportInternalError(`redactMessages for "${callback.name}" (failed closed: content dropped)`, error, event.id);
      copy = result;
      if (shared) deepFreeze(copy);
      cache.set(redact, copy);
    }
    return copy;
  }

  /** Emits without letting a throwing listener escape; with no listener, warns once per kind. */
  private emitSafe<K extends keyof CallbackManagerEvents>(name: K, info: Parameters<CallbackManagerEvents[K]>[0]): void {
    if (this.listenerCount(name) === 0) {
      if (name === 'callbackError' || name === 'internalError' || name === 'eventDropped') this.warnOnce(name, info);
      return;
    }
    try {
      (this.emit as (n: K, i: typeof info) => boolean)(name, info);
    } catch (error) {
      this.warnOnce('listener', { where: `a "${name}" listener threw`, error: toError(error) });
    }
  }

  private warnOnce(kind: string, info: unknown): void {
    const detail = info as { callback?: string; hook?: string; where?: string; error?: Error; reason?: string };
    const key = `${kind}:${detail.callback ?? detail.where ?? ''}:${detail.hook ?? detail.reason ?? ''}`;
    if (this.reportedOnce.has(key)) return;
    this.reportedOnce.add(key);
    const who = detail.callback ? `callback "${detail.callback}"${detail.hook ? ` ${detail.hook}` : ''}` : (detail.where ?? kind);
    const what = detail.error?.message ?? detail.reason ?? '';
    console.warn(
      `[llm-callbacks] ${kind} from ${who}: ${what} (shown once; listen to manager.on('${kind === 'listener' ? 'internalError' : kind}') to handle these, and see manager.stats())`,
    );
  }
}

/** Freezes an event and everything in it (events are plain data, so this terminates). */
function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
}

const OPTION_NAMES: ReadonlySet<string> = new Set<keyof CallbackManagerOptions>([
  'callbacks',
  'allowDynamicCallbackDisabling',
  'disableHeaders',
  'timeoutMs',
  'maxQueueSize',
  'overflow',
  'concurrency',
  'maxDisableValueLength',
  'redactMessages',
  'handleSignals',
]);

/** A misspelt option (`tymeoutMs`) must not be silently ignored: for a lock, that would be unsafe. */
function checkOptionsShape(options: unknown): asserts options is CallbackManagerOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new LlmCallbacksError(
      'INVALID_OPTIONS',
      `createCallbackManager(options): options must be an object like { callbacks: [...] }, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}.`,
    );
  }
  checkOptionNames('createCallbackManager', options, OPTION_NAMES);
  const callbacks = (options as CallbackManagerOptions).callbacks;
  if (callbacks !== undefined && !Array.isArray(callbacks)) {
    throw new LlmCallbacksError(
      'INVALID_OPTIONS',
      `createCallbackManager: callbacks must be an array of callbacks, got ${typeof callbacks}; wrap a single one as [callback].`,
    );
  }
}

/** Creates a {@link CallbackManager}. */
export function createCallbackManager(options: CallbackManagerOptions = {}): CallbackManager {
  return new CallbackManager(options);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new LlmCallbacksError('INVALID_OPTIONS', `${name} must be a positive finite number, got ${JSON.stringify(value)}.`);
  }
  return value;
}

const MAX_TIMER_MS = 2_147_483_647;

/** Resolves with the work's result, or with `timeout` when the deadline passes first. */
async function withDeadline<T>(work: Promise<T>, deadline: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timeout'>((resolve) => {
    // Not unref'd: the caller is awaiting this bound, and the timer is cleared as soon as work ends.
    // Clamped: Node turns a delay above 2^31-1 ms (Infinity included) into 1 ms.
    timer = setTimeout(() => resolve('timeout'), Math.min(MAX_TIMER_MS, Math.max(0, deadline - Date.now())));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
