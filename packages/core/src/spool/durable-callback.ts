// durableCallback(): wraps any callback so that an event is on local disk (written and fsync'd)
// before its hook resolves, is handed to the wrapped callback from there, and is deleted only once
// the wrapped callback confirmed delivery. A process killed at any point leaves its events in the
// spool directory; the next process using the directory adopts and delivers them.
//
// Two ways to deliver, chosen by what the wrapped callback offers:
// - batch sinks (`deliverBatch(batch)`, e.g. s3Callback): each sealed segment is delivered as one
//   batch whose id is the same on every attempt and in every process, so a sink that derives its
//   object key from it overwrites instead of duplicating when a delivery is repeated after a crash;
// - any other callback: events are handed to its hooks as they are spooled, and a sealed segment is
//   deleted once all its hook calls succeeded and the callback's own `flush()` resolved. A replay
//   calls the hooks again, so such a sink receives at least once (it should dedupe on `event.id`).
import type { Callback, CallbackReporter } from '../callback.js';
import type { CallEvent } from '../event.js';
import { LlmCallbacksError, toError } from '../errors.js';
import { readSegment, SegmentStore, type SegmentFile } from './segment-store.js';
import type { FileHandle } from 'node:fs/promises';
import { checkOptionNames } from '../option-names.js';

/** One sealed spool segment handed to a batch sink. */
export interface SpooledBatch {
  /**
   * `{writer}-{sequence}`: the same for every delivery attempt of these events, in this process or
   * a later one. Derive object keys from it to make a repeated delivery overwrite.
   */
  readonly id: string;
  /** Epoch ms the segment was opened (stable too; usable for a date in the key). */
  readonly createdAt: number;
  /** The events, in the order they were acknowledged. */
  readonly events: readonly CallEvent[];
}

/** A callback that can take a spooled segment whole: resolve once it is delivered, reject otherwise. */
export interface BatchDelivery {
  deliverBatch(batch: SpooledBatch): Promise<void>;
}

/** Options of `durableCallback`: where events are spooled on disk, and how spooled segments are sealed and delivered. */
export interface DurableCallbackOptions {
  /** Spool directory (created if missing, mode 0700). Local disk; see README for sharing it. */
  directory: string;
  /** A segment is sealed (and delivered) once it holds this many events (default 100). */
  segmentMaxEvents?: number;
  /** ... or this many bytes (default 4 MiB) ... */
  segmentMaxBytes?: number;
  /** ... or this long after its first event, in ms (default 2 000). */
  segmentMaxAgeMs?: number;
  /**
   * Most bytes the spool may hold on disk (default 256 MiB). Past it, an event is not spooled: it is
   * handed to the wrapped callback in memory only, counted in `overflowed`, and its hook rejects
   * (so the manager reports it as a `callbackError` with the event id).
   */
  maxBytes?: number;
  /** Segments being delivered at once (default 2). */
  concurrency?: number;
  /** Backoff between delivery attempts of one segment: doubles from `baseDelayMs` (default 1 000) up to `maxDelayMs` (default 60 000). */
  retry?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Longest time shutdown() spends delivering before leaving the rest on disk (default 5 000 ms). */
  shutdownTimeoutMs?: number;
  /** How often to look for directories of writers that died meanwhile (default 30 000 ms). */
  rescanIntervalMs?: number;
}

/** Counters of one durable callback since it was created. */
export interface SpoolStats {
  /** Events written and fsync'd (their hook resolved). */
  spooled: number;
  /** Events whose segment the wrapped callback confirmed, and which were deleted from disk. */
  delivered: number;
  /** Of `delivered`, events read back from segments an earlier or other (dead) process left. */
  replayed: number;
  /** Segment delivery attempts that failed (each reported; the segment stays and is retried). */
  deliveryFailures: number;
  /** Events refused by `maxBytes` (handed over in memory only, hook rejected). */
  overflowed: number;
  /** Events whose write to disk failed (handed over in memory only, hook rejected). */
  writeErrors: number;
  /** Complete lines read back that were not events (skipped and reported). */
  corruptLines: number;
  /** Partial last lines found in segments left by a crash (ignored: never acknowledged). */
  tornTails: number;
  /** Segments on disk not yet delivered, and their bytes (the one being written included). */
  pendingSegments: number;
  pendingBytes: number;
}

/** A callback wrapped by {@link durableCallback}. */
export interface DurableCallback extends Callback {
  /** The wrapped callback. */
  readonly inner: Callback;
  readonly directory: string;
  stats(): SpoolStats;
}

const DEFAULTS = {
  segmentMaxEvents: 100,
  segmentMaxBytes: 4 * 1024 * 1024,
  segmentMaxAgeMs: 2_000,
  maxBytes: 256 * 1024 * 1024,
  concurrency: 2,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
  shutdownTimeoutMs: 5_000,
  rescanIntervalMs: 30_000,
} as const;

type Resolved = Required<Omit<DurableCallbackOptions, 'retry'>> & { baseDelayMs: number; maxDelayMs: number };

interface Pending {
  event: CallEvent;
  line: Buffer;
  resolve(): void;
  reject(error: Error): void;
}

interface Active {
  id: string;
  path: string;
  createdAt: number;
  handle: FileHandle;
  events: number;
  bytes: number;
  ids: string[];
  live: Array<Promise<boolean>>;
  timer?: NodeJS.Timeout;
}

interface Tracked {
  file: SegmentFile;
  /** Own segments: the ids, known without reading the file back. */
  ids?: string[];
  /** Own segments in per-event mode: the hook calls made while spooling. */
  live?: Array<Promise<boolean>>;
  attempts: number;
  state: 'queued' | 'delivering' | 'waiting';
  timer?: NodeJS.Timeout;
  waiters: Array<(delivered: boolean) => void>;
}

/**
 * Wraps `callback` with a durable spool in `options.directory`: see the file header and the README
 * ("Durable spool"). The result has the wrapped callback's name, hooks and `required` flag.
 */
export function durableCallback(callback: Callback, options: DurableCallbackOptions): DurableCallback {
  const spool = new Spool(callback, resolveOptions(callback, options));
  const hook = (event: CallEvent): Promise<void> => spool.append(event);
  const durable: DurableCallback = {
    name: callback.name,
    inner: callback,
    directory: options.directory,
    ...(callback.required === undefined ? {} : { required: callback.required }),
    ...(callback.timeoutMs === undefined ? {} : { timeoutMs: callback.timeoutMs }),
    ...(callback.maxQueueSize === undefined ? {} : { maxQueueSize: callback.maxQueueSize }),
    ...(callback.overflow === undefined ? {} : { overflow: callback.overflow }),
    ...(typeof callback.onSuccess === 'function' ? { onSuccess: hook } : {}),
    ...(typeof callback.onFailure === 'function' ? { onFailure: hook } : {}),
    flush: () => spool.flush(),
    shutdown: () => spool.shutdown(),
    onRegister: (reporter) => spool.register(reporter),
    stats: () => spool.stats(),
  };
  // Settings the manager applies before the hook (per-callback redaction, say) stay the wrapped
  // callback's, so the spool on disk holds exactly what the sink would have received.
  for (const key of Object.keys(callback)) {
    const value = (callback as unknown as Record<string, unknown>)[key];
    if (!(key in durable) && (key === 'redactMessages' || typeof value !== 'function')) {
      Object.defineProperty(durable, key, { value, enumerable: true });
    }
  }
  return durable;
}

const DURABLE_OPTION_NAMES = Object.keys({
  directory: true,
  segmentMaxEvents: true,
  segmentMaxBytes: true,
  segmentMaxAgeMs: true,
  maxBytes: true,
  concurrency: true,
  retry: true,
  shutdownTimeoutMs: true,
  rescanIntervalMs: true,
} satisfies Record<keyof DurableCallbackOptions, true>);

function resolveOptions(callback: Callback, options: DurableCallbackOptions): Resolved {
  const where = `durableCallback(${typeof callback?.name === 'string' ? JSON.stringify(callback.name) : 'callback'})`;
  if (typeof callback !== 'object' || callback === null || (typeof callback.onSuccess !== 'function' && typeof callback.onFailure !== 'function')) {
    throw new LlmCallbacksError('INVALID_CALLBACK', `${where}: the first argument must be a callback with onSuccess and/or onFailure.`);
  }
  if (!options || typeof options.directory !== 'string' || options.directory.trim() === '' || options.directory.includes('\0')) {
    throw new LlmCallbacksError('INVALID_OPTIONS', `${where}: options.directory must be the path of a local directory to spool events in.`);
  }
  checkOptionNames(where, options, DURABLE_OPTION_NAMES);
  if (options.retry !== undefined) {
    if (typeof options.retry !== 'object' || options.retry === null) {
      throw new LlmCallbacksError('INVALID_OPTIONS', `${where}: options.retry must be an object like { baseDelayMs, maxDelayMs }.`);
    }
    checkOptionNames(`${where} options.retry`, options.retry, ['baseDelayMs', 'maxDelayMs']);
  }
  const positive = (value: unknown, fallback: number, name: string): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new LlmCallbacksError('INVALID_OPTIONS', `${where}: ${name} must be a positive number, got ${JSON.stringify(value)}.`);
    }
    return value;
  };
  return {
    directory: options.directory,
    segmentMaxEvents: Math.floor(positive(options.segmentMaxEvents, DEFAULTS.segmentMaxEvents, 'segmentMaxEvents')),
    segmentMaxBytes: positive(options.segmentMaxBytes, DEFAULTS.segmentMaxBytes, 'segmentMaxBytes'),
    segmentMaxAgeMs: positive(options.segmentMaxAgeMs, DEFAULTS.segmentMaxAgeMs, 'segmentMaxAgeMs'),
    maxBytes: positive(options.maxBytes, DEFAULTS.maxBytes, 'maxBytes'),
    concurrency: Math.floor(positive(options.concurrency, DEFAULTS.concurrency, 'concurrency')),
    baseDelayMs: positive(options.retry?.baseDelayMs, DEFAULTS.baseDelayMs, 'retry.baseDelayMs'),
    maxDelayMs: positive(options.retry?.maxDelayMs, DEFAULTS.maxDelayMs, 'retry.maxDelayMs'),
    shutdownTimeoutMs: positive(options.shutdownTimeoutMs, DEFAULTS.shutdownTimeoutMs, 'shutdownTimeoutMs'),
    rescanIntervalMs: positive(options.rescanIntervalMs, DEFAULTS.rescanIntervalMs, 'rescanIntervalMs'),
  };
}

/** Raised into the manager's reports for an event that is not on disk (handed over in memory only). */
export class SpoolWriteError extends Error {
  override readonly name = 'SpoolWriteError';
}

class Spool {
  private readonly store: SegmentStore;
  private readonly batch: BatchDelivery | undefined;
  private reporter: CallbackReporter;
  private ready: Promise<void> | undefined;
  private closed = false;
  private stopped = false;
  private rescanTimer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  // Writing
  private readonly queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private active: Active | undefined;
  private sealRequested = false;
  private reservedBytes = 0;
  /** Bytes of the sealed and adopted segments on disk (the active one is counted on its own). */
  private trackedBytes = 0;
  /** The last failure to open the directory: retried at most once a second, reported once per try. */
  private startFailure: { at: number; error: Error } | undefined;
  // Delivering
  private readonly segments = new Map<string, Tracked>();
  private readonly order: Tracked[] = [];
  private inFlight = 0;
  private readonly counters = { spooled: 0, delivered: 0, replayed: 0, deliveryFailures: 0, overflowed: 0, writeErrors: 0, corruptLines: 0, tornTails: 0 };

  constructor(
    private readonly inner: Callback,
    private readonly options: Resolved,
  ) {
    this.store = new SegmentStore(options.directory);
    const candidate = inner as Callback & Partial<BatchDelivery>;
    this.batch = typeof candidate.deliverBatch === 'function' ? (candidate as unknown as BatchDelivery) : undefined;
    this.reporter = consoleReporter(inner.name);
  }

  register(reporter: CallbackReporter): void {
    this.reporter = reporter;
    if (typeof this.inner.onRegister === 'function') {
      try {
        this.inner.onRegister(reporter);
      } catch (error) {
        reporter.error(error);
      }
    }
    // Replay what earlier processes left as soon as the callback is in use.
    this.start().catch(() => undefined);
  }

  stats(): SpoolStats {
    return { ...this.counters, pendingSegments: this.segments.size + (this.active && this.active.events > 0 ? 1 : 0), pendingBytes: this.pendingBytes() };
  }

  /** Opens the directory and adopts what dead writers left; retried by the next call after a failure. */
  private start(): Promise<void> {
    const failed = this.startFailure;
    if (!this.ready && failed && Date.now() - failed.at < 1_000) return Promise.reject(failed.error);
    this.ready ??= (async () => {
      await this.store.open();
      await this.rescan();
      if (!this.stopped) {
        this.rescanTimer = setInterval(() => void this.rescan().catch((error) => this.report(error)), this.options.rescanIntervalMs);
        this.rescanTimer.unref();
      }
    })().catch((error: unknown) => {
      this.ready = undefined;
      const wrapped = new Error(`${this.inner.name}: cannot use the spool directory ${this.options.directory}: ${toError(error).message}`, { cause: error });
      this.startFailure = { at: Date.now(), error: wrapped };
      this.report(wrapped);
      throw wrapped;
    });
    return this.ready;
  }

  private rescan(): Promise<void> {
    this.scanning ??= (async () => {
      try {
        await this.store.adoptAbandoned();
        for (const file of await this.store.list()) {
          if (!file.adopted || this.segments.has(file.id)) continue;
          this.track({ file, attempts: 0, state: 'queued', waiters: [] });
        }
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  // ---- writing -------------------------------------------------------------------------------

  /** The hook: resolves once the event is on disk; rejects (after a best-effort in-memory hand-over) when it cannot be. */
  async append(event: CallEvent): Promise<void> {
    const id = typeof event?.id === 'string' ? event.id : 'unknown';
    if (this.closed) throw new Error(`${this.inner.name}: event ${id} arrived after shutdown() and was not spooled.`);
    let line: Buffer;
    try {
      if (typeof event !== 'object' || event === null) throw new TypeError(`an event must be an object, got ${event === null ? 'null' : typeof event}`);
      line = Buffer.from(`${JSON.stringify(event)}\n`, 'utf8');
    } catch (error) {
      return this.fallback(event, `it cannot be written as JSON (${toError(error).message})`, 'writeErrors');
    }
    try {
      await this.start();
    } catch (error) {
      return this.fallback(event, toError(error).message, 'writeErrors');
    }
    if (this.pendingBytes() + this.reservedBytes + line.length > this.options.maxBytes) {
      return this.fallback(event, `the spool is full (maxBytes ${this.options.maxBytes}; ${this.segments.size} segment(s) waiting for delivery)`, 'overflowed');
    }
    this.reservedBytes += line.length;
    try {
      await new Promise<void>((resolve, reject) => {
        this.queue.push({ event, line, resolve, reject });
        this.pumpWrites();
      });
    } catch (error) {
      return this.fallback(event, `writing it failed (${toError(error).message})`, 'writeErrors');
    } finally {
      this.reservedBytes -= line.length;
    }
  }

  private pendingBytes(): number {
    return (this.active ? this.active.bytes : 0) + this.trackedBytes;
  }

  /** Not on disk: hand the event over in memory so it may still arrive, and reject the hook so it is counted and reported. */
  private fallback(event: CallEvent, why: string, counter: 'overflowed' | 'writeErrors'): never {
    this.counters[counter] += 1;
    void this.callInner(event);
    const id = typeof event?.id === 'string' ? event.id : 'unknown';
    throw new SpoolWriteError(
      `${this.inner.name}: event ${id} is not in the spool: ${why}. It was handed to the callback in memory only, so a crash before delivery would lose it.${counter === 'overflowed' ? ' Raise maxBytes, or look at the delivery errors reported before this one.' : ' Check the disk and the permissions of the spool directory.'}`,
    );
  }

  private pumpWrites(): Promise<void> {
    this.writing ??= this.writeLoop().finally(() => {
      this.writing = undefined;
      if (this.queue.length > 0 || (this.sealRequested && this.active)) void this.pumpWrites();
    });
    return this.writing;
  }

  /** Group commit: every event queued while the previous write was syncing goes out in one write + fsync. */
  private async writeLoop(): Promise<void> {
    while (this.queue.length > 0 || (this.sealRequested && this.active)) {
      if (this.queue.length === 0) {
        await this.sealActive();
        continue;
      }
      let active: Active;
      try {
        active = this.active ?? (await this.openSegment());
      } catch (error) {
        for (const p of this.queue.splice(0)) p.reject(toError(error));
        continue;
      }
      const group: Pending[] = [];
      let bytes = 0;
      while (
        this.queue.length > 0 &&
        active.events + group.length < this.options.segmentMaxEvents &&
        (group.length === 0 || active.bytes + bytes + (this.queue[0] as Pending).line.length <= this.options.segmentMaxBytes)
      ) {
        const next = this.queue.shift() as Pending;
        group.push(next);
        bytes += next.line.length;
      }
      try {
        await active.handle.write(Buffer.concat(group.map((p) => p.line)));
        await active.handle.datasync();
      } catch (error) {
        // Cut off a partial write, so the next line starts on a line boundary; then start afresh.
        await active.handle.truncate(active.bytes).catch(() => undefined);
        for (const p of group) p.reject(toError(error));
        await this.sealActive();
        continue;
      }
      active.events += group.length;
      active.bytes += bytes;
      for (const p of group) {
        active.ids.push(typeof p.event?.id === 'string' ? p.event.id : 'unknown');
        if (!this.batch) active.live.push(this.callInner(p.event));
        this.counters.spooled += 1;
        p.resolve();
      }
      if (this.sealRequested || active.events >= this.options.segmentMaxEvents || active.bytes >= this.options.segmentMaxBytes) {
        await this.sealActive();
      }
    }
  }

  private async openSegment(): Promise<Active> {
    let created: Awaited<ReturnType<SegmentStore['create']>>;
    try {
      created = await this.store.create();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // Our directory was removed under us (a temp cleaner, an operator): make it again, lock and all.
      this.report(new Error(`${this.inner.name}: the spool's directory ${this.store.ownDir} disappeared; it is created again.`, { cause: error }));
      await this.store.open();
      created = await this.store.create();
    }
    const active: Active = { ...created, events: 0, bytes: 0, ids: [], live: [] };
    active.timer = setTimeout(() => {
      this.sealRequested = true;
      void this.pumpWrites();
    }, this.options.segmentMaxAgeMs);
    active.timer.unref();
    this.active = active;
    return active;
  }

  /** Closes the segment being written and queues it for delivery. Only called from the write loop. */
  private async sealActive(): Promise<void> {
    this.sealRequested = false;
    const active = this.active;
    this.active = undefined;
    if (!active) return;
    clearTimeout(active.timer);
    await active.handle.close().catch((error: unknown) => this.report(error));
    let path = active.path;
    if (active.events === 0) {
      await this.store.remove({ id: active.id, path, createdAt: active.createdAt, bytes: 0, adopted: false }).catch(() => undefined);
      return;
    }
    try {
      path = await this.store.seal(active.path);
    } catch (error) {
      // Still deliverable from its .open name in this process; a later process adopts either name.
      this.report(error);
    }
    this.track({
      file: { id: active.id, path, createdAt: active.createdAt, bytes: active.bytes, adopted: false },
      ids: active.ids,
      ...(this.batch ? {} : { live: active.live }),
      attempts: 0,
      state: 'queued',
      waiters: [],
    });
  }

  /** Resolves once the segment being written is sealed (and queued for delivery). */
  private async sealNow(): Promise<void> {
    if (!this.ready) return;
    await this.ready.catch(() => undefined);
    while (this.writing) await this.writing;
    if (!this.active) return;
    this.sealRequested = true;
    await this.pumpWrites();
  }

  // ---- delivering ----------------------------------------------------------------------------

  private track(tracked: Tracked): void {
    this.segments.set(tracked.file.id, tracked);
    this.trackedBytes += tracked.file.bytes;
    this.order.push(tracked);
    this.pumpDeliveries();
  }

  private pumpDeliveries(): void {
    if (this.stopped) return;
    while (this.inFlight < this.options.concurrency) {
      const index = this.order.findIndex((t) => t.state === 'queued');
      if (index === -1) return;
      const [tracked] = this.order.splice(index, 1) as [Tracked];
      tracked.state = 'delivering';
      this.inFlight += 1;
      void this.deliver(tracked).finally(() => {
        this.inFlight -= 1;
        this.pumpDeliveries();
      });
    }
  }

  private async deliver(tracked: Tracked): Promise<void> {
    const { file } = tracked;
    let ids = tracked.ids ?? [];
    try {
      let events: CallEvent[] | undefined;
      if (this.batch || !tracked.live) {
        const content = await readSegment(file.path).catch((error: unknown) => {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // delivered and removed meanwhile
          throw error;
        });
        if (!content) {
          if (!file.adopted && ids.length > 0) {
            // Our own sealed segment vanished before delivery (removed from outside): say what is lost.
            this.report(
              new Error(`${this.inner.name}: spooled segment ${file.path} disappeared before it was delivered; its ${ids.length} event(s) are lost.`),
              ids,
            );
            this.reporter.dropped(ids, 'gave-up');
          }
          this.forget(tracked, file.adopted);
          return;
        }
        if (content.corrupt > 0 && tracked.attempts === 0) {
          this.counters.corruptLines += content.corrupt;
          this.report(new Error(`${this.inner.name}: spooled segment ${file.path} has ${content.corrupt} line(s) that are not events; they are skipped.`));
        }
        if (content.tornTail && tracked.attempts === 0) this.counters.tornTails += 1;
        events = content.lines.map((line) => JSON.parse(line) as CallEvent);
        ids = events.map((e) => e.id);
      }
      if (this.batch) {
        if (events && events.length > 0) await this.batch.deliverBatch({ id: file.id, createdAt: file.createdAt, events });
      } else {
        const results = await Promise.all(tracked.live ?? (events ?? []).map((e) => this.callInner(e)));
        tracked.live = undefined; // a later attempt hands every event over again
        const failed = results.filter((ok) => !ok).length;
        if (failed > 0) throw new Error(`the callback failed for ${failed} of its ${results.length} events (reported above)`);
        if (typeof this.inner.flush === 'function') await this.inner.flush();
      }
      await this.store.remove(file);
      this.counters.delivered += ids.length;
      if (file.adopted) this.counters.replayed += ids.length;
      this.forget(tracked, true);
    } catch (error) {
      tracked.attempts += 1;
      this.counters.deliveryFailures += 1;
      const delay = this.backoff(tracked.attempts);
      this.report(
        new Error(
          `${this.inner.name}: spooled segment ${file.id} (${ids.length || 'unknown number of'} event(s)) was not delivered on attempt ${tracked.attempts}: ${toError(error).message}. It stays in ${this.options.directory} and is tried again in ${delay} ms${this.closed ? ' (or by the next process using the directory)' : ''}.`,
          { cause: error },
        ),
        ids,
      );
      tracked.state = 'waiting';
      this.order.push(tracked);
      for (const waiter of tracked.waiters.splice(0)) waiter(false);
      if (!this.stopped) {
        tracked.timer = setTimeout(() => this.retryNow(tracked), delay);
        tracked.timer.unref();
      }
    }
  }

  private retryNow(tracked: Tracked): void {
    clearTimeout(tracked.timer);
    tracked.timer = undefined;
    if (tracked.state !== 'waiting') return;
    tracked.state = 'queued';
    this.pumpDeliveries();
  }

  private forget(tracked: Tracked, delivered: boolean): void {
    if (this.segments.get(tracked.file.id) === tracked) {
      this.segments.delete(tracked.file.id);
      this.trackedBytes -= tracked.file.bytes;
    }
    const index = this.order.indexOf(tracked);
    if (index !== -1) this.order.splice(index, 1);
    for (const waiter of tracked.waiters.splice(0)) waiter(delivered);
  }

  private backoff(attempt: number): number {
    const cap = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(cap / 2 + (Math.random() * cap) / 2);
  }

  /** Hands one event to the wrapped callback's hook; false (reported) when the hook fails. */
  private async callInner(event: CallEvent): Promise<boolean> {
    const hook = event?.status === 'failure' ? this.inner.onFailure : this.inner.onSuccess;
    if (typeof hook !== 'function') return true;
    try {
      await hook.call(this.inner, event);
      return true;
    } catch (error) {
      this.report(error, [typeof event?.id === 'string' ? event.id : 'unknown']);
      return false;
    }
  }

  /** Waits for one delivery attempt of every segment known now (starting waiting ones at once). */
  private async attemptAll(): Promise<Tracked[]> {
    const snapshot = [...this.segments.values()];
    const outcomes = await Promise.all(
      snapshot.map(
        (t) =>
          new Promise<boolean>((resolve) => {
            t.waiters.push(resolve);
            if (t.state === 'waiting') this.retryNow(t);
          }),
      ),
    );
    return snapshot.filter((_, i) => !outcomes[i]);
  }

  /** Seals what is being written and waits for one delivery attempt of everything spooled; rejects when something is still undelivered. */
  async flush(): Promise<void> {
    await this.start();
    await this.sealNow();
    const failed = await this.attemptAll();
    if (this.batch && typeof this.inner.flush === 'function') await this.inner.flush();
    if (failed.length > 0) {
      throw new Error(
        `${this.inner.name}: ${failed.length} spooled segment(s) are not delivered yet (each failure was reported); they stay in ${this.options.directory} and are retried.`,
      );
    }
  }

  /**
   * Stops taking events, delivers what it can within shutdownTimeoutMs, shuts the wrapped callback
   * down and releases the directory. What is left stays on disk for the next process (not dropped).
   */
  async shutdown(): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      if (this.ready) {
        await this.sealNow();
        await Promise.race([
          this.attemptAll(),
          new Promise((resolve) => {
            timer = setTimeout(resolve, this.options.shutdownTimeoutMs);
          }),
        ]);
      }
    } finally {
      clearTimeout(timer);
      this.stopped = true;
      clearInterval(this.rescanTimer);
      for (const t of this.segments.values()) clearTimeout(t.timer);
    }
    let innerError: unknown;
    try {
      if (typeof this.inner.shutdown === 'function') await this.inner.shutdown();
    } catch (error) {
      innerError = error;
    }
    const left = this.segments.size;
    if (this.ready) await this.store.release().catch((error: unknown) => this.report(error));
    if (left > 0) {
      throw new Error(
        `${this.inner.name}: shutdown() left ${left} undelivered segment(s) in ${this.options.directory}; the next process using the directory delivers them.`,
        {
          cause: innerError,
        },
      );
    }
    if (innerError !== undefined) throw innerError;
  }

  private report(error: unknown, eventIds?: readonly string[]): void {
    try {
      this.reporter.error(error, eventIds && eventIds.length > 0 ? { eventIds } : undefined);
    } catch {
      // A reporter must never break the spool.
    }
  }
}

/** Until a manager registers the callback, problems go to the console (once per kind). */
function consoleReporter(name: string): CallbackReporter {
  let warned = false;
  // Built as a plain value (not a typed literal) so it fits CallbackReporter with or without its newer methods.
  const reporter = {
    error: (error: unknown): void => {
      if (warned) return;
      warned = true;
      console.warn(`[llm-callbacks] ${name} (spool): ${toError(error).message} (shown once; register the callback with a manager to receive every report)`);
    },
    dropped: (): void => undefined,
    delivered: (): void => undefined,
  };
  return reporter;
}
