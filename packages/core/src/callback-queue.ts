// One callback's delivery queue: bounded, isolated, with a timeout on every hook call.
// Each registered callback gets its own queue, so a slow, hanging or throwing callback can only
// delay itself, never another callback and never the LLM call that produced the event.
import type { Callback } from './callback.js';
import type { CallEvent } from './event.js';
import { toError } from './errors.js';

/** Where a callback problem happened; `delivery` is one the callback reported itself (see CallbackReporter). */
export type Hook = 'onSuccess' | 'onFailure' | 'flush' | 'shutdown' | 'onRegister' | 'delivery';
/** What a callback's full queue gives up for a new event: the oldest queued event (`drop-oldest`, the default) or the new one (`drop-newest`). Every drop is counted and emitted as `eventDropped`. */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest';

/** Counters of one callback since the manager was created. */
export interface CallbackStats {
  /** Hook calls that completed. */
  delivered: number;
  /** Hook calls that threw or rejected. */
  failed: number;
  /** Hook calls that did not settle within the timeout (they count once, here, not as failed). */
  timedOut: number;
  /** Events never handed to the callback: queue overflow, or arriving after shutdown. */
  dropped: number;
  /** Events queued or being handled right now. */
  pending: number;
  /** Calls that switched this callback off. */
  disabled: number;
  /** Attempts to switch this callback off that a lock refused (manager-wide or `required`). */
  refused: number;
  /**
   * Events the sink itself confirmed as stored, for callbacks that say so through
   * `CallbackReporter.delivered` (the batching adapters do). `delivered` counts hook calls that
   * completed, which for a batching sink means "accepted into its buffer", not "stored".
   */
  confirmed: number;
}

export interface QueueOptions {
  readonly timeoutMs: number;
  readonly maxQueueSize: number;
  readonly overflow: OverflowPolicy;
  readonly concurrency: number;
}

export interface QueueReporter {
  error(callback: string, hook: Hook, error: Error, event: CallEvent | undefined, timedOut: boolean): void;
  dropped(callback: string, event: CallEvent, reason: 'queue-full' | 'shutdown'): void;
}

/** Thrown into reports when a hook outlives its timeout. */
export class CallbackTimeoutError extends Error {
  override readonly name = 'CallbackTimeoutError';
  constructor(callback: string, hook: Hook, timeoutMs: number) {
    super(`Callback "${callback}" ${hook} did not settle within ${timeoutMs} ms; raise its timeoutMs if it is legitimately slow.`);
  }
}

interface Item {
  event: CallEvent;
  hook: 'onSuccess' | 'onFailure';
  /** Enqueue order, so settled() can wait for what was queued up to a point and no later. */
  seq: number;
}

export class CallbackQueue {
  readonly stats: CallbackStats = { delivered: 0, failed: 0, timedOut: 0, dropped: 0, pending: 0, disabled: 0, refused: 0, confirmed: 0 };
  private readonly items: Item[] = [];
  private head = 0;
  private running = 0;
  private pumping = false;
  private idleWaiters: Array<() => void> = [];
  private seq = 0;
  private settleWaiters: Array<{ mark: number; remaining: number; resolve: () => void }> = [];
  private readonly timeoutMs: number;
  private readonly maxQueueSize: number;
  private readonly overflow: OverflowPolicy;

  constructor(
    readonly callback: Callback,
    private readonly options: QueueOptions,
    private readonly reporter: QueueReporter,
  ) {
    this.timeoutMs = callback.timeoutMs ?? options.timeoutMs;
    // A callback's own bound wins over the manager's (a compliance sink may want a deeper queue).
    this.maxQueueSize = callback.maxQueueSize ?? options.maxQueueSize;
    this.overflow = callback.overflow ?? options.overflow;
  }

  get size(): number {
    return this.items.length - this.head + this.running;
  }

  enqueue(event: CallEvent, hook: 'onSuccess' | 'onFailure'): void {
    if (this.items.length - this.head >= this.maxQueueSize) {
      if (this.overflow === 'drop-newest') {
        this.drop(event, 'queue-full');
        return;
      }
      const oldest = this.items[this.head];
      this.items[this.head] = undefined as unknown as Item;
      this.head += 1;
      this.stats.pending -= 1;
      if (oldest) {
        this.finished(oldest);
        this.drop(oldest.event, 'queue-full');
      }
    }
    this.items.push({ event, hook, seq: ++this.seq });
    this.stats.pending += 1;
    this.pump();
  }

  drop(event: CallEvent, reason: 'queue-full' | 'shutdown'): void {
    this.stats.dropped += 1;
    this.reporter.dropped(this.callback.name, event, reason);
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Resolves when every event queued or running now has been handled or dropped. Unlike idle(), it
   * does not wait for events queued later, so a flush under steady load still ends.
   */
  settled(): Promise<void> {
    const remaining = this.size;
    if (remaining === 0) return Promise.resolve();
    return new Promise((resolve) => this.settleWaiters.push({ mark: this.seq, remaining, resolve }));
  }

  private finished(item: Item): void {
    if (this.settleWaiters.length === 0) return;
    this.settleWaiters = this.settleWaiters.filter((waiter) => {
      if (item.seq > waiter.mark || --waiter.remaining > 0) return true;
      waiter.resolve();
      return false;
    });
  }

  /** Calls the callback's own flush or shutdown, isolated and bounded like a hook. */
  async lifecycle(hook: 'flush' | 'shutdown', timeoutMs: number): Promise<boolean> {
    const fn = this.callback[hook];
    if (typeof fn !== 'function') return true;
    return this.invoke(hook, () => fn.call(this.callback), undefined, Math.min(timeoutMs, this.timeoutMs * 10));
  }

  private pump(): void {
    // A synchronous hook finishes inside deliver() and calls pump() again: the loop below picks up
    // the next item instead, so a long queue of synchronous deliveries never deepens the stack.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.running < this.options.concurrency && this.head < this.items.length) {
        const item = this.items[this.head] as Item;
        this.items[this.head] = undefined as unknown as Item;
        this.head += 1;
        this.running += 1;
        this.deliver(item);
      }
    } finally {
      this.pumping = false;
    }
    // Compact now and then so a long-lived queue does not keep a growing array of holes.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
  }

  private deliver(item: Item): void {
    const hook = this.callback[item.hook];
    const outcome = typeof hook === 'function' ? this.invoke(item.hook, () => hook.call(this.callback, item.event), item.event, this.timeoutMs) : true;
    // A synchronous hook is done already: no promise, no timer (the common no-op or in-memory sink).
    if (typeof outcome === 'boolean') this.delivered(item);
    else void outcome.then(() => this.delivered(item));
  }

  private delivered(item: Item): void {
    this.running -= 1;
    this.stats.pending -= 1;
    this.finished(item);
    this.pump();
    if (this.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /**
   * Runs one hook call; true when it completed in time. Never throws. A hook that returns no
   * promise has finished when it returns (a synchronous loop cannot be timed out anyway), so it
   * gets its answer at once; one that returns a promise races the timeout.
   */
  private invoke(hook: Hook, run: () => unknown, event: CallEvent | undefined, timeoutMs: number): boolean | Promise<boolean> {
    let result: unknown;
    try {
      result = run();
    } catch (error) {
      this.settle(hook, event, error, true);
      return false;
    }
    if (!isThenable(result)) {
      this.settle(hook, event, undefined, false);
      return true;
    }
    return this.race(hook, result, event, timeoutMs);
  }

  private settle(hook: Hook, event: CallEvent | undefined, error: unknown, failed: boolean): void {
    if (hook === 'onSuccess' || hook === 'onFailure') {
      if (failed) this.stats.failed += 1;
      else this.stats.delivered += 1;
    }
    if (failed) this.reporter.error(this.callback.name, hook, toError(error), event, false);
  }

  private race(hook: Hook, pending: PromiseLike<unknown>, event: CallEvent | undefined, timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const timer = setTimeout(
        () => {
          if (settled) return;
          settled = true;
          if (hook === 'onSuccess' || hook === 'onFailure') this.stats.timedOut += 1;
          this.reporter.error(this.callback.name, hook, new CallbackTimeoutError(this.callback.name, hook, timeoutMs), event, true);
          resolve(false);
        },
        Math.min(timeoutMs, 2_147_483_647),
      ); // Node turns a delay above 2^31-1 ms into 1 ms: clamp.
      // A hung callback must never keep the host process alive.
      timer.unref();
      const finish = (error: unknown, failed: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.settle(hook, event, error, failed);
        resolve(!failed);
      };
      try {
        Promise.resolve(pending).then(
          () => finish(undefined, false),
          (error: unknown) => finish(error, true),
        );
      } catch (error) {
        finish(error, true);
      }
    });
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
