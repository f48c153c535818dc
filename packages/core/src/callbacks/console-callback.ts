// Built-in callback: one readable line per call on the console (or any writer), for development.
import { defineCallback, type Callback } from '../callback.js';
import type { CallEvent } from '../event.js';
import { LlmCallbacksError } from '../errors.js';
import { checkOptionNames } from '../option-names.js';

/** Options of {@link consoleCallback}. */
export interface ConsoleCallbackOptions {
  /** Callback name (default `console`). */
  name?: string;
  /** Where lines go (default: console.log). */
  write?: (line: string) => void;
}

/** Formats an event as one line: status, API, model, latency, tokens, and what went wrong. */
export function formatEventLine(event: CallEvent): string {
  const parts = [event.status === 'success' ? 'ok  ' : 'FAIL', event.callType, event.model, `${Math.round(event.latencyMs)}ms`];
  if (event.stream) parts.push(`stream${event.streamEnd && event.streamEnd !== 'completed' ? `(${event.streamEnd})` : ''}`);
  if (event.timeToFirstTokenMs !== undefined) parts.push(`ttft=${Math.round(event.timeToFirstTokenMs)}ms`);
  if (event.usage) parts.push(`tokens=${event.usage.promptTokens}+${event.usage.completionTokens}`);
  if (event.error) parts.push(`${event.error.name}${event.error.status ? ` ${event.error.status}` : ''}: ${event.error.message}`);
  if (event.disabledCallbacks.length > 0) parts.push(`disabled=[${event.disabledCallbacks.join(',')}]`);
  // One line per event, always: line breaks in provider messages or model names become spaces.
  return `[llm] ${parts.join(' ')} id=${event.id}`.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ');
}

/** A built-in callback that writes one readable line per call (see {@link formatEventLine}) to the console or a given writer; for development. */
export function consoleCallback(options: ConsoleCallbackOptions = {}): Callback {
  checkOptionNames('consoleCallback(options)', options ?? {}, Object.keys({ name: true, write: true } satisfies Record<keyof ConsoleCallbackOptions, true>));
  if (options.write !== undefined && options.write !== null && typeof options.write !== 'function') {
    throw new LlmCallbacksError('INVALID_OPTIONS', `consoleCallback({ write }): write must be a function taking one line, got ${typeof options.write}.`);
  }
  const write = options.write ?? ((line: string) => console.log(line));
  const log = (event: CallEvent): void => write(formatEventLine(event));
  return defineCallback({ name: options.name ?? 'console', onSuccess: log, onFailure: log });
}
