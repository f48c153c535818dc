// Knowing when LLM Observability spans really reached the agent. dd-trace's `llmobs.flush()` only
// starts the upload and reports nothing back, and its span writer is private to its module. What
// it does publish is its log, on the `datadog:log:*` diagnostics channels (the same channels its
// `init({ logger })` option listens to), whether or not logging is switched on:
//   debug  "Encoded LLMObs payload: <json>"                 once per upload, just before it is sent;
//                                                            the JSON lists the span ids it carries
//   debug  "Sent <n> LLMObs span events to <url>"           the agent answered 2xx
//   error  "Error sending <n> LLMObs span events to <url>: <reason>"   final failure (after dd-trace's
//                                                            own retries of network errors)
// The tracker reads these (dd-trace is pinned to 5.132.0; the texts are checked by this package's
// tests) and matches each outcome to the oldest upload in flight with the same span count. Two
// concurrent uploads of the same size that end differently could be swapped: both must be in flight
// at once and one must fail while the other succeeds.
import { channel, type Channel } from 'node:diagnostics_channel';

const ENCODED = 'Encoded LLMObs payload: ';
const SENT = /^Sent (\d+) LLMObs span events to (\S+)/;
const FAILED = /^Error sending (\d+) LLMObs span events to (\S+?): ([\s\S]*)$/;
const INVALID_KEY = /The provided Datadog API key is invalid/;

export interface UploadOutcome {
  spanIds: readonly string[];
  /** Undefined when the agent accepted the upload. */
  error?: Error;
}

/** What one adapter instance wants to hear about: uploads carrying any of its spans. */
export interface UploadListener {
  onUploadStarted(spanIds: readonly string[]): void;
  onUploadFinished(outcome: UploadOutcome): void;
}

interface Upload {
  spanIds: string[];
}

/** Error of an upload the agent refused or could not be reached for. */
export class DatadogDeliveryError extends Error {
  override readonly name = 'DatadogDeliveryError';
}

function spanIdsOf(json: string): string[] | undefined {
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch {
    return undefined;
  }
  const events = Array.isArray(payload) ? payload : [payload];
  const ids: string[] = [];
  let isSpanPayload = false;
  for (const event of events) {
    if (typeof event !== 'object' || event === null) continue;
    const record = event as { event_type?: unknown; spans?: unknown };
    if (record.event_type !== 'span' || !Array.isArray(record.spans)) continue;
    isSpanPayload = true;
    for (const span of record.spans) {
      const id = (span as { span_id?: unknown } | null)?.span_id;
      if (typeof id === 'string') ids.push(id);
    }
  }
  return isSpanPayload ? ids : undefined;
}

/** One per process: parses dd-trace's log once and fans the uploads out to every adapter instance. */
class UploadObserver {
  private readonly listeners = new Set<UploadListener>();
  private readonly inFlight: Upload[] = [];
  private readonly debug: Channel = channel('datadog:log:debug');
  private readonly error: Channel = channel('datadog:log:error');
  private subscribed = false;

  private readonly onDebug = (message: unknown): void => {
    if (typeof message !== 'string') return;
    if (message.startsWith(ENCODED)) {
      const ids = spanIdsOf(message.slice(ENCODED.length));
      if (ids === undefined) return; // an evaluation-metric upload
      this.inFlight.push({ spanIds: ids });
      for (const listener of this.listeners) listener.onUploadStarted(ids);
      return;
    }
    const sent = SENT.exec(message);
    if (sent) this.finish(Number(sent[1]));
  };

  private readonly onError = (message: unknown): void => {
    const text = message instanceof Error ? message.message : typeof message === 'string' ? message : '';
    const failed = FAILED.exec(text);
    if (failed)
      this.finish(
        Number(failed[1]),
        new DatadogDeliveryError(`Datadog agent at ${failed[2]} did not accept ${failed[1]} LLM Observability span(s): ${failed[3]}`),
      );
    else if (INVALID_KEY.test(text)) this.finish(undefined, new DatadogDeliveryError(text));
  };

  private finish(count: number | undefined, error?: Error): void {
    const at = count === undefined ? 0 : this.inFlight.findIndex((u) => u.spanIds.length === count);
    if (at < 0 || at >= this.inFlight.length) return;
    const [upload] = this.inFlight.splice(at, 1) as [Upload];
    const outcome: UploadOutcome = error ? { spanIds: upload.spanIds, error } : { spanIds: upload.spanIds };
    for (const listener of this.listeners) listener.onUploadFinished(outcome);
  }

  add(listener: UploadListener): void {
    this.listeners.add(listener);
    if (!this.subscribed) {
      this.debug.subscribe(this.onDebug);
      this.error.subscribe(this.onError);
      this.subscribed = true;
    }
  }

  remove(listener: UploadListener): void {
    this.listeners.delete(listener);
    // While subscribed, dd-trace formats every debug line; stop listening when nobody needs it.
    if (this.listeners.size === 0 && this.subscribed) {
      this.debug.unsubscribe(this.onDebug);
      this.error.unsubscribe(this.onError);
      this.subscribed = false;
      this.inFlight.length = 0;
    }
  }
}

const observer = new UploadObserver();

type SpanState = { eventId: string; sent: boolean };

/**
 * The spans one adapter handed to dd-trace and has not yet seen accepted or refused by the agent.
 * `track()` is called before the span is finished (dd-trace may upload synchronously).
 */
export class DeliveryTracker implements UploadListener {
  private readonly pending = new Map<string, SpanState>();
  private waiters: Array<() => void> = [];
  private active = false;

  constructor(
    private readonly handlers: {
      delivered(eventIds: string[]): void;
      failed(eventIds: string[], error: Error): void;
    },
  ) {}

  start(): void {
    if (this.active) return;
    this.active = true;
    observer.add(this);
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    observer.remove(this);
  }

  track(spanId: string, eventId: string): void {
    this.pending.set(spanId, { eventId, sent: false });
  }

  /** Forget a span that dd-trace never accepted (the caller reports it). */
  untrack(spanId: string): void {
    this.pending.delete(spanId);
    this.notify();
  }

  /** Span ids waiting for the agent's answer. */
  pendingSpanIds(): string[] {
    return [...this.pending.keys()];
  }

  eventIdsOf(spanIds: Iterable<string>): string[] {
    const out: string[] = [];
    for (const id of spanIds) {
      const state = this.pending.get(id);
      if (state) out.push(state.eventId);
    }
    return out;
  }

  onUploadStarted(spanIds: readonly string[]): void {
    for (const id of spanIds) {
      const state = this.pending.get(id);
      if (state) state.sent = true;
    }
  }

  onUploadFinished({ spanIds, error }: UploadOutcome): void {
    const mine = spanIds.filter((id) => this.pending.has(id));
    if (mine.length === 0) return;
    const eventIds = this.eventIdsOf(mine);
    for (const id of mine) this.pending.delete(id);
    if (error) this.handlers.failed(eventIds, error);
    else this.handlers.delivered(eventIds);
    this.notify();
  }

  /** Resolves true when none of `spanIds` is pending any more, false when `timeoutMs` passed first. */
  waitFor(spanIds: readonly string[], timeoutMs: number): Promise<boolean> {
    const done = () => spanIds.every((id) => !this.pending.has(id));
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(true);
      };
      this.waiters.push(check);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
