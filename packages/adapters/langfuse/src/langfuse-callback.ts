// langfuseCallback(): the callback itself. Hooks only hand two items per call to the langfuse client
// (which batches and uploads them); flush() kicks the client and waits until Langfuse has accepted
// or the client has given up on every call reported so far; shutdown() does that within a bound,
// gives up on the rest (reported), and releases the client.
import { defineCallback, redactMessageContent, type CallEvent, type Callback, type CallbackReporter } from '@llm-callbacks/core';
import { Langfuse } from 'langfuse';
import { DeliveryTracker, itemKey } from './delivery-tracker.js';
import { monitorClient } from './client-monitor.js';
import { keepQueueInMemory } from './memory-queue.js';
import { toLangfuseBodies } from './map-event.js';
import { resolveOptions, type LangfuseCallbackOptions } from './options.js';

/** The callback returned by langfuseCallback(): a plain llm-callbacks callback, plus its client. */
export interface LangfuseCallback extends Callback {
  readonly name: string;
  /** The langfuse client events go through (the one passed in, or the one created from the options). */
  readonly client: Langfuse;
  onSuccess(event: CallEvent): void;
  onFailure(event: CallEvent): void;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

type TraceArg = Parameters<Langfuse['trace']>[0];
type GenerationArg = Parameters<Langfuse['generation']>[0];

const POLL_MS = 50;

/** Resolves when `work` settles or after `ms`, whichever comes first, leaving no timer behind. */
function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([work.then(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

/** Used until a manager hands over its reporter: a callback used on its own still says what went wrong. */
function consoleReporter(name: string): CallbackReporter {
  let warned = false;
  const warn = (what: string): void => {
    if (warned) return;
    warned = true;
    console.warn(`[llm-callbacks] ${name}: ${what} (shown once; register the callback with a manager to receive every report)`);
  };
  return {
    error: (error) => warn(error instanceof Error ? error.message : String(error)),
    dropped: (ids, reason) => warn(`${ids.length} event(s) dropped (${reason})`),
  };
}

/**
 * A callback that sends every call to Langfuse as one trace and one generation.
 *
 * ```ts
 * const manager = createCallbackManager({ callbacks: [langfuseCallback()] }); // keys from LANGFUSE_* variables
 * ```
 */
export function langfuseCallback(options: LangfuseCallbackOptions = {}): LangfuseCallback {
  const opts = resolveOptions(options);
  const ownClient = opts.client === undefined;
  const client =
    opts.client ??
    new Langfuse({
      publicKey: opts.publicKey,
      secretKey: opts.secretKey,
      baseUrl: opts.baseUrl,
      flushAt: opts.flushAt,
      flushInterval: opts.flushIntervalMs,
      fetchRetryCount: opts.maxRetries,
      fetchRetryDelay: opts.retryDelayMs,
      requestTimeout: opts.requestTimeoutMs,
      sdkIntegration: 'llm-callbacks',
      ...(opts.environment !== undefined ? { environment: opts.environment } : {}),
      ...(opts.release !== undefined ? { release: opts.release } : {}),
    });

  if (ownClient) keepQueueInMemory(client);

  let reporter = consoleReporter(opts.name);
  let closed = false;
  let shutdownPromise: Promise<void> | undefined;
  const tracker = new DeliveryTracker({
    gaveUp(eventIds, reason) {
      reporter.error(reason, { eventIds });
      reporter.dropped(eventIds, 'gave-up');
    },
    delivered(eventId) {
      reporter.delivered?.([eventId]);
    },
  });
  const monitor = monitorClient(client, tracker, {
    attemptFailed: (error, eventIds) => reporter.error(error, { eventIds }),
  });
  let disabledReported = false;
  // The client's own problems (a media upload that failed, a body it could not serialise) reach
  // only its event emitter and console.error; pass them on where a manager is listening. A client
  // passed in may serve other code too, so only ours is listened to.
  const offClientError = ownClient
    ? client.on('error', (problem: unknown) =>
        reporter.error(
          new Error(`langfuse client: ${typeof problem === 'string' ? problem : problem instanceof Error ? problem.message : JSON.stringify(problem)}`),
        ),
      )
    : () => undefined;

  const handle = (event: CallEvent): void => {
    if (closed) return reporter.dropped([event.id], 'gave-up');
    if (tracker.pendingCount >= opts.maxPendingEvents) return reporter.dropped([event.id], 'overflow');
    if ((client as unknown as { enabled?: unknown }).enabled === false) {
      // A client created with enabled: false discards everything: say so instead of waiting forever.
      if (!disabledReported) reporter.error(new Error('the Langfuse client is disabled (enabled: false); events are not sent'), { eventIds: [event.id] });
      disabledReported = true;
      return reporter.dropped([event.id], 'gave-up');
    }
    const { trace, generation } = toLangfuseBodies(opts.redactMessages ? redactMessageContent(event) : event, {
      ...(opts.traceName !== undefined ? { traceName: opts.traceName } : {}),
    });
    tracker.track(event.id, [itemKey('trace-create', trace.id), itemKey('generation-create', generation.id)]);
    // The client drops traces outside its sampleRate (option or LANGFUSE_SAMPLE_RATE) without a
    // trace; it only says so on its debug channel, synchronously, while we enqueue.
    let sampledOut = false;
    const offDebug = client.on('debug', (message: unknown) => {
      if (typeof message === 'string' && message.includes('out of sample')) sampledOut = true;
    });
    try {
      client.trace(trace as unknown as TraceArg);
      client.generation(generation as unknown as GenerationArg);
    } catch (error) {
      tracker.forget(event.id);
      throw error;
    } finally {
      offDebug();
    }
    if (sampledOut) tracker.forget(event.id);
  };

  // Waits until every call pending when it started is settled, kicking the client along the way.
  const settle = async (timeoutMs: number): Promise<string[]> => {
    const target = tracker.pendingIds();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = target.filter((id) => tracker.isPending(id));
      if (left.length === 0 || Date.now() >= deadline) return left;
      monitor.kick();
      await tracker.changed(Math.max(1, Math.min(POLL_MS, deadline - Date.now())));
    }
  };

  const flush = async (): Promise<void> => {
    const left = await settle(opts.flushTimeoutMs);
    if (left.length > 0) {
      throw new Error(
        `Langfuse did not confirm ${left.length} call(s) within flushTimeoutMs (${opts.flushTimeoutMs} ms); they are still being retried and will be reported if given up.`,
      );
    }
  };

  const shutdown = (): Promise<void> => {
    shutdownPromise ??= (async () => {
      closed = true;
      const deadline = Date.now() + opts.shutdownTimeoutMs;
      const left = await settle(opts.shutdownTimeoutMs);
      if (left.length > 0) {
        tracker.abandonAll(
          new Error(`Langfuse did not confirm ${left.length} call(s) within shutdownTimeoutMs (${opts.shutdownTimeoutMs} ms); they are dropped`),
        );
      }
      // A client we own is ours to stop: abort what is in flight and end its retry loops. A client
      // passed in belongs to the caller: stop watching it and leave it running.
      monitor.close({ abandon: ownClient });
      offClientError();
      // The client may be waiting out a retry delay (its own timer); do not wait past the bound for it.
      if (ownClient)
        await within(
          client.shutdownAsync().catch(() => undefined),
          Math.max(1, deadline - Date.now()),
        );
    })();
    return shutdownPromise;
  };

  return defineCallback<LangfuseCallback>({
    name: opts.name,
    client,
    ...(opts.required !== undefined ? { required: opts.required } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    onRegister(r: CallbackReporter) {
      reporter = r;
    },
    onSuccess: handle,
    onFailure: handle,
    flush,
    shutdown,
  });
}
