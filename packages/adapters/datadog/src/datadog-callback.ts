// The Datadog callback: one LLM Observability span (kind llm) per call, recorded through dd-trace's
// LLM Observability SDK with the call's real start and end time. The same dd-trace span is the APM
// span, so both products show the call. flush() waits for the agent's answer (see delivery-tracker).
import { redactMessageContent, type CallEvent, type Callback, type CallbackReporter } from '@llm-callbacks/core';
import type { Span, Tracer } from './dd-trace-types.js';
import { DatadogDeliveryError, DeliveryTracker } from './delivery-tracker.js';
import { resolveOptions, type DatadogCallbackOptions, type ResolvedOptions } from './options.js';
import { annotationFor, errorFor, sessionIdOf } from './span-mapping.js';
import { resolveTracer, type ResolvedTracer, type TracerSource } from './tracer.js';

/** What the adapter found out about its tracer and deliveries, for diagnostics and tests. */
export interface DatadogCallbackState {
  /** Undefined until the first event (the tracer is looked up lazily, so the service may init it later). */
  tracerSource?: TracerSource;
  /** `init` options were given but the tracer was already initialised: they were not applied. */
  initIgnored: boolean;
  /** Spans handed to dd-trace whose delivery the agent has not confirmed yet. */
  pendingSpans: number;
}

/** The callback returned by {@link datadogCallback}: a core `Callback` with async hooks, plus `state()` for its tracer and pending spans. */
export interface DatadogCallback extends Callback {
  onSuccess(event: CallEvent): Promise<void>;
  onFailure(event: CallEvent): Promise<void>;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
  onRegister(reporter: CallbackReporter): void;
  state(): DatadogCallbackState;
}

// dd-trace sets this tag on a span once its LLM Observability event is queued for upload.
const SUBMITTED_TAG = '_dd.llmobs.submitted';

/**
 * Hands the finished APM traces to the agent now instead of at dd-trace's next flushInterval, and
 * waits (bounded) until that request completed. dd-trace 5 has no public trace flush outside
 * serverless; its exporter's `flush(done)` (tracer._tracer._exporter) is used when present. APM
 * delivery is best effort: dd-trace logs its own failures, and only the LLM Observability span,
 * which carries the whole call, is counted for the event. A span whose trace is still open (a
 * parent span not finished yet) is exported when that trace finishes.
 */
function flushApm(tracer: Tracer, timeoutMs: number): Promise<void> {
  const exporter = (tracer as unknown as { _tracer?: { _exporter?: { flush?: (done: () => void) => void } } })._tracer?._exporter;
  const flush = exporter?.flush;
  if (typeof flush !== 'function') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    try {
      flush.call(exporter, () => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

function wasQueued(span: Span): boolean {
  const context = span.context() as unknown as { getTag?: (key: string) => unknown };
  // Without the accessor (another dd-trace build), assume queued: the flush timeout still reports it.
  return typeof context.getTag !== 'function' || context.getTag(SUBMITTED_TAG) === '1';
}

class DatadogCallbackImpl implements DatadogCallback {
  readonly name: string;
  readonly required?: boolean;
  readonly timeoutMs?: number;
  private readonly options: ResolvedOptions;
  private readonly baseTags: Record<string, string>;
  private resolved: ResolvedTracer | undefined;
  private reporter: CallbackReporter | undefined;
  private closed = false;
  /** Problems found with no reporter to tell (the callback used without a manager): flush() throws them. */
  private unreported: Error[] = [];
  private readonly tracker = new DeliveryTracker({
    delivered: (eventIds) => this.reporter?.delivered?.(eventIds),
    failed: (eventIds, error) => {
      // dd-trace has already retried network errors; an upload it reports as failed is lost.
      this.report(error, eventIds);
      this.reporter?.dropped(eventIds, 'gave-up');
    },
  });

  constructor(options: DatadogCallbackOptions) {
    this.options = resolveOptions(options);
    this.name = this.options.name;
    if (this.options.required !== undefined) this.required = this.options.required;
    if (this.options.timeoutMs !== undefined) this.timeoutMs = this.options.timeoutMs;
    this.baseTags = { ...this.options.tags };
    if (this.options.service !== undefined) this.baseTags['service'] = this.options.service;
    if (this.options.env !== undefined) this.baseTags['env'] = this.options.env;
  }

  onRegister(reporter: CallbackReporter): void {
    this.reporter = reporter;
  }

  state(): DatadogCallbackState {
    return {
      ...(this.resolved ? { tracerSource: this.resolved.source } : {}),
      initIgnored: this.resolved?.initIgnored ?? false,
      pendingSpans: this.tracker.pendingSpanIds().length,
    };
  }

  onSuccess(event: CallEvent): Promise<void> {
    return this.record(event);
  }

  onFailure(event: CallEvent): Promise<void> {
    return this.record(event);
  }

  private tracer(): ResolvedTracer {
    if (!this.resolved) {
      this.resolved = resolveTracer(this.options);
      this.tracker.start();
    }
    return this.resolved;
  }

  private async record(original: CallEvent): Promise<void> {
    if (this.closed) throw new Error(`Callback "${this.name}" is shut down; event ${original.id} was not sent to Datadog.`);
    const { tracer } = this.tracer();
    const llmobs = tracer.llmobs;
    if (!llmobs.enabled) {
      throw new Error(
        `Callback "${this.name}": LLM Observability is off in the dd-trace tracer this process initialised. Enable it where the service calls init(): ` +
          'set DD_LLMOBS_ENABLED=1 and DD_LLMOBS_ML_APP, or pass init({ llmobs: { mlApp } }).',
      );
    }
    const event = this.options.redactMessages ? redactMessageContent(original) : original;
    const annotation = annotationFor(event, this.baseTags);
    const error = event.status === 'failure' ? errorFor(event) : undefined;
    const sessionId = sessionIdOf(event);
    const endTime = Math.max(event.endTime, event.startTime);

    let queued = true;
    let spanId = '';
    llmobs.trace(
      {
        kind: 'llm',
        name: this.options.spanName ?? `llm.${event.callType}`,
        modelName: event.model,
        modelProvider: event.provider,
        ...(sessionId !== undefined ? { sessionId } : {}),
        ...(this.options.mlApp !== undefined ? { mlApp: this.options.mlApp } : {}),
        ...(this.options.service !== undefined ? { service: this.options.service } : {}),
        // The call is over: record it with its own start, not the time the event reached us.
        startTime: event.startTime,
      },
      (span: Span) => {
        try {
          llmobs.annotate(span, annotation);
        } catch (failure) {
          // dd-trace refused part of the annotation (it validates messages and metrics strictly):
          // still record the call, without its messages, and say why in the metadata.
          const reason = failure instanceof Error ? failure.message : String(failure);
          llmobs.annotate(span, { metrics: annotation.metrics, tags: annotation.tags, metadata: { ...annotation.metadata, annotation_error: reason } });
        }
        if (error) span.setTag('error', error);
        if (this.options.env !== undefined) span.setTag('env', this.options.env);
        spanId = span.context().toSpanId();
        // Tracked before finish(): dd-trace may upload during finish() (AWS Lambda).
        this.tracker.track(spanId, event.id);
        span.finish(endTime);
        queued = wasQueued(span);
      },
    );
    if (!queued) {
      this.tracker.untrack(spanId);
      throw new Error(
        `Callback "${this.name}": dd-trace did not queue the LLM Observability span of event ${event.id} (its buffer of 1000 spans may be full).`,
      );
    }
  }

  private report(error: Error, eventIds: readonly string[]): void {
    if (this.reporter) this.reporter.error(error, { eventIds });
    else this.unreported.push(error);
  }

  async flush(): Promise<void> {
    if (this.resolved) {
      const waiting = this.tracker.pendingSpanIds();
      if (waiting.length > 0) {
        // Starts the upload of everything buffered; it does not wait (hence the tracker).
        this.resolved.tracer.llmobs.flush();
        const [confirmed] = await Promise.all([
          this.tracker.waitFor(waiting, this.options.flushTimeoutMs),
          flushApm(this.resolved.tracer, this.options.flushTimeoutMs),
        ]);
        if (!confirmed) {
          const still = this.tracker.eventIdsOf(waiting);
          this.report(
            new DatadogDeliveryError(
              `Datadog agent did not confirm ${still.length} LLM Observability span(s) within ${this.options.flushTimeoutMs} ms: is the agent running and reachable (DD_TRACE_AGENT_URL / DD_AGENT_HOST)? dd-trace keeps retrying; a final failure is reported as dropped.`,
            ),
            still,
          );
        }
      }
    }
    if (this.unreported.length > 0) {
      const problems = this.unreported;
      this.unreported = [];
      throw new AggregateError(problems, `Datadog delivery failed: ${problems.map((p) => p.message).join('; ')}`);
    }
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      const left = this.tracker.pendingSpanIds();
      if (left.length > 0) {
        const eventIds = this.tracker.eventIdsOf(left);
        for (const id of left) this.tracker.untrack(id);
        this.reporter?.dropped(eventIds, 'gave-up');
      }
      this.tracker.stop();
    }
  }
}

/**
 * A callback that reports every LLM call to Datadog LLM Observability (and APM) through dd-trace.
 * Uses the service's tracer when `require('dd-trace').init()` was called; initialises dd-trace only
 * when given `tracer` or `init` options. See the package README for options and guarantees.
 */
export function datadogCallback(options: DatadogCallbackOptions = {}): DatadogCallback {
  const impl = new DatadogCallbackImpl(options);
  // A plain object with its hooks as own properties, like every other callback: `{ ...callback,
  // required: true }` must keep flush, shutdown and onRegister (a class instance's methods would
  // be lost by the spread, and with them the delivery guarantees).
  return {
    name: impl.name,
    ...(impl.required !== undefined ? { required: impl.required } : {}),
    ...(impl.timeoutMs !== undefined ? { timeoutMs: impl.timeoutMs } : {}),
    onSuccess: (event) => impl.onSuccess(event),
    onFailure: (event) => impl.onFailure(event),
    flush: () => impl.flush(),
    shutdown: () => impl.shutdown(),
    onRegister: (reporter) => impl.onRegister(reporter),
    state: () => impl.state(),
  };
}
