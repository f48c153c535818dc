// The manager's optional `handleSignals`: flush within a bound when the process is told to stop
// (SIGTERM, SIGINT) or is about to exit on its own (beforeExit), then let the stop happen as it
// would have without us. A listener on a signal cancels Node's default action (exit), so when ours
// is the only one, the signal is raised again once the flush is done; when the application listens
// too, stopping is its decision and we only flush.
import { LlmCallbacksError } from './errors.js';
import { checkOptionNames } from './option-names.js';

/** When and how long the manager flushes on process signals and `beforeExit`. */
export interface HandleSignalsOptions {
  /** Signals to flush on (default SIGTERM and SIGINT). */
  signals?: readonly NodeJS.Signals[];
  /** Longest time the flush may take before the process goes anyway (default 5 000 ms). */
  timeoutMs?: number;
  /** Also flush on `beforeExit`, when the event loop has emptied (default true). */
  beforeExit?: boolean;
}

export interface ResolvedSignalOptions {
  signals: readonly NodeJS.Signals[];
  timeoutMs: number;
  beforeExit: boolean;
}

/** What the handlers need from the manager. */
export interface Flushable {
  flush(options: { timeoutMs: number }): Promise<unknown>;
  /** A number that changes whenever an event is reported, so beforeExit flushes only when needed. */
  readonly activity: number;
}

const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

export function resolveSignalOptions(value: boolean | HandleSignalsOptions | undefined): ResolvedSignalOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { signals: DEFAULT_SIGNALS, timeoutMs: 5_000, beforeExit: true };
  if (typeof value !== 'object' || value === null) {
    throw new LlmCallbacksError('INVALID_OPTIONS', `handleSignals must be true, false or { signals, timeoutMs, beforeExit }, got ${JSON.stringify(value)}.`);
  }
  checkOptionNames(
    'handleSignals',
    value,
    Object.keys({ signals: true, timeoutMs: true, beforeExit: true } satisfies Record<keyof HandleSignalsOptions, true>),
  );
  const signals = value.signals ?? DEFAULT_SIGNALS;
  if (!Array.isArray(signals) || signals.some((s) => typeof s !== 'string' || !/^SIG[A-Z0-9]+$/.test(s))) {
    throw new LlmCallbacksError('INVALID_OPTIONS', `handleSignals.signals must be a list of signal names such as 'SIGTERM', got ${JSON.stringify(signals)}.`);
  }
  const timeoutMs = value.timeoutMs ?? 5_000;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new LlmCallbacksError('INVALID_OPTIONS', `handleSignals.timeoutMs must be a positive number of milliseconds, got ${JSON.stringify(timeoutMs)}.`);
  }
  return { signals, timeoutMs, beforeExit: value.beforeExit !== false };
}

/** Installs the handlers; returns the function that removes them (shutdown() calls it). */
export function installSignalHandlers(manager: Flushable, options: ResolvedSignalOptions): () => void {
  let flushing = false;
  let flushedAt: number | undefined;
  const handlers = new Map<NodeJS.Signals, () => void>();

  const uninstall = (): void => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    handlers.clear();
    process.removeListener('beforeExit', onBeforeExit);
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    // Ours is the only listener: without it Node would have exited, so we must exit the same way.
    const alone = process.listenerCount(signal) === 1;
    if (flushing) {
      // A second signal while flushing (Ctrl-C twice): stop waiting.
      uninstall();
      if (alone) process.kill(process.pid, signal);
      return;
    }
    flushing = true;
    const done = (): void => {
      uninstall();
      // Raised again with no listener left, the signal has its default effect: the process ends
      // as killed by it (exit status 128 + n), exactly as if we had never listened.
      if (alone) process.kill(process.pid, signal);
    };
    manager.flush({ timeoutMs: options.timeoutMs }).then(done, done);
  };

  const onBeforeExit = (): void => {
    // The loop is empty: flushing schedules work, so beforeExit comes again afterwards; flush again
    // only if something was reported since, or the process would never exit.
    if (flushing || flushedAt === manager.activity) return;
    flushedAt = manager.activity;
    void manager.flush({ timeoutMs: options.timeoutMs }).catch(() => undefined);
  };

  for (const signal of options.signals) {
    const handler = (): void => onSignal(signal);
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  if (options.beforeExit) process.on('beforeExit', onBeforeExit);
  return uninstall;
}
