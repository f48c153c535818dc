// Finding the tracer to report through: the service's own when it initialised dd-trace, otherwise
// one initialised here, only when the options ask for it, and never a second time.
import ddTrace from 'dd-trace';
import type { Tracer, TracerOptions } from './dd-trace-types.js';
import type { ResolvedOptions } from './options.js';

/** Where the tracer came from: the service had initialised it, or this adapter did. */
export type TracerSource = 'existing' | 'initialised';

export interface ResolvedTracer {
  tracer: Tracer;
  source: TracerSource;
  /** True when `init` options were given but ignored because the tracer was already initialised. */
  initIgnored: boolean;
}

/**
 * dd-trace keeps one tracer per process in `global._ddtrace` (every copy of the package returns
 * it), and its `init()` sets `_initialized` and returns early on a second call. There is no public
 * "is initialised" accessor in dd-trace 5, so this reads that field.
 */
export function isInitialised(tracer: Tracer): boolean {
  return (tracer as unknown as { _initialized?: unknown })._initialized === true;
}

/** The init options used when the adapter initialises dd-trace itself. */
export function initOptionsFor(options: ResolvedOptions): TracerOptions {
  const given: TracerOptions = options.init ?? {};
  const llmobs = { ...(options.mlApp !== undefined ? { mlApp: options.mlApp } : {}), agentlessEnabled: false, ...(given.llmobs ?? {}) };
  return {
    // Never turn on automatic instrumentation (http, pg, ...) that the service did not ask for.
    plugins: false,
    startupLogs: false,
    ...(options.service !== undefined ? { service: options.service } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...given,
    llmobs,
  };
}

/** Reported (as `callbackError`) when dd-trace was never initialised in this process and the options did not ask the adapter to initialise it; the message says how to fix it. */
export class TracerNotInitialisedError extends Error {
  override readonly name = 'TracerNotInitialisedError';
  constructor() {
    super(
      'datadogCallback: dd-trace is not initialised in this process. Call require("dd-trace").init({ llmobs: { mlApp } }) when the service starts ' +
        '(or import "dd-trace/init"), or let the adapter initialise it: datadogCallback({ init: { url, llmobs: { mlApp } } }).',
    );
  }
}

/** Resolves (and at most once initialises) the tracer. Throws {@link TracerNotInitialisedError}. */
export function resolveTracer(options: ResolvedOptions): ResolvedTracer {
  const tracer = options.tracer ?? (ddTrace as Tracer);
  if (isInitialised(tracer)) return { tracer, source: 'existing', initIgnored: options.init !== undefined };
  if (options.tracer === undefined && options.init === undefined) throw new TracerNotInitialisedError();
  tracer.init(initOptionsFor(options));
  return { tracer, source: 'initialised', initIgnored: false };
}
