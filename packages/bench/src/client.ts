// The client side of the end-to-end benchmark: one variant per process (the raw openai client, the
// wrapped one with 0 / 3 no-op / the 3 real callbacks, or langfuse's observeOpenAI), all calling
// the same loopback provider. A batch is N calls at a fixed concurrency; its latencies, wall time
// and this process's CPU time (process.cpuUsage) come back to the orchestrator.
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { createCallbackManager, defineCallback, wrapOpenAI, type Callback, type CallbackManager } from '@llm-callbacks/core';

export const VARIANTS = ['raw', 'wrap-0', 'wrap-3-noop', 'wrap-3-adapters', 'observeOpenAI'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface SinkAddresses {
  providerUrl: string;
  langfuse: { publicKey: string; secretKey: string; baseUrl: string };
  datadogUrl: string;
  s3: { endpoint: string; bucket: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
}

export interface ClientArgs extends SinkAddresses {
  variant: Variant;
}

export interface BatchArgs {
  calls: number;
  concurrency: number;
  stream: boolean;
}

export interface BatchResult {
  calls: number;
  errors: number;
  /** Milliseconds per call, in completion order. */
  latencies: number[];
  /** Wall time of the calls (without the flush that follows). */
  wallMs: number;
  /** Client CPU (user + system, microseconds) while the calls ran. */
  cpuCallsUs: number;
  /** Client CPU including the flush that delivers what the calls produced. */
  cpuTotalUs: number;
  flushMs: number;
  rssBytes: number;
}

const BODY = {
  model: 'gpt-4o-mini',
  temperature: 0.2,
  max_tokens: 200,
  messages: [
    { role: 'system' as const, content: 'You are a concise assistant for an online shop. Answer in two sentences.' },
    { role: 'user' as const, content: 'Which of our delivery options is fastest for a parcel to Lyon, and what does it cost?' },
  ],
};

export interface ClientSetup {
  client: OpenAI;
  manager?: CallbackManager;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Builds the client of one variant. `args` may point the sinks at closed ports (memory run). Each
 * variant imports only what it uses: dd-trace, the AWS SDK and langfuse stay out of the others.
 */
export async function setupClient(args: ClientArgs): Promise<ClientSetup> {
  // No retries: a failed call is counted, not silently repeated (which would skew latencies).
  const raw = new OpenAI({ apiKey: 'sk-bench-0123456789abcdef', baseURL: args.providerUrl, maxRetries: 0, timeout: 30_000 });
  const managed = (callbacks: Callback[]): ClientSetup => {
    const manager = createCallbackManager({ callbacks });
    // Listened to, so the manager does not print its once-per-kind warnings (a down sink's errors
    // are expected in the memory run); counted for the report.
    manager.on('callbackError', () => undefined);
    manager.on('eventDropped', () => undefined);
    manager.on('internalError', (info) => {
      console.error('[bench] internalError', info.where, info.error.message);
    });
    return {
      client: wrapOpenAI(raw, manager),
      manager,
      flush: async () => {
        await manager.flush({ timeoutMs: 60_000 });
      },
      shutdown: async () => {
        await manager.shutdown({ timeoutMs: 10_000 });
      },
    };
  };
  switch (args.variant) {
    case 'raw':
      return { client: raw, flush: async () => {}, shutdown: async () => {} };
    case 'wrap-0':
      return managed([]);
    case 'wrap-3-noop':
      return managed(
        ['noop-a', 'noop-b', 'noop-c'].map((name) =>
          defineCallback({
            name,
            onSuccess() {},
            onFailure() {},
          }),
        ),
      );
    case 'wrap-3-adapters': {
      const [{ langfuseCallback }, { datadogCallback }, { s3Callback }] = await Promise.all([
        import('@llm-callbacks/langfuse'),
        import('@llm-callbacks/datadog'),
        import('@llm-callbacks/s3'),
      ]);
      return managed([
        langfuseCallback({ ...args.langfuse }),
        datadogCallback({ init: { url: args.datadogUrl }, mlApp: 'llm-callbacks-bench', service: 'llm-callbacks-bench', env: 'bench' }),
        s3Callback({
          bucket: args.s3.bucket,
          prefix: 'bench',
          endpoint: args.s3.endpoint,
          region: args.s3.region,
          credentials: args.s3.credentials,
          forcePathStyle: true,
        }),
      ]);
    }
    case 'observeOpenAI': {
      const { observeOpenAI } = await import('langfuse');
      const observed = observeOpenAI(raw, { clientInitParams: { ...args.langfuse } });
      return {
        client: observed,
        flush: () => observed.flushAsync(),
        shutdown: () => observed.shutdownAsync(),
      };
    }
  }
}

async function oneCall(client: OpenAI, stream: boolean): Promise<void> {
  if (!stream) {
    await client.chat.completions.create(BODY);
    return;
  }
  const s = await client.chat.completions.create({ ...BODY, stream: true, stream_options: { include_usage: true } });
  for await (const chunk of s) void chunk;
}

/** N calls, `concurrency` in flight at a time; then the variant's flush (delivery), timed apart. */
export async function runBatch(setup: ClientSetup, batch: BatchArgs): Promise<BatchResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < batch.calls) {
      next += 1;
      const start = performance.now();
      try {
        await oneCall(setup.client, batch.stream);
        latencies.push(performance.now() - start);
      } catch (error) {
        errors += 1;
        if (errors <= 3) console.error('[bench] call failed:', error instanceof Error ? error.message : error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(batch.concurrency, batch.calls) }, worker));
  const wallMs = performance.now() - t0;
  const cpuCalls = process.cpuUsage(cpu0);
  const f0 = performance.now();
  await setup.flush();
  const flushMs = performance.now() - f0;
  const cpuTotal = process.cpuUsage(cpu0);
  return {
    calls: batch.calls,
    errors,
    latencies,
    wallMs,
    cpuCallsUs: cpuCalls.user + cpuCalls.system,
    cpuTotalUs: cpuTotal.user + cpuTotal.system,
    flushMs,
    rssBytes: process.memoryUsage.rss(),
  };
}

export interface SteadyArgs {
  /** Calls started per second. */
  rate: number;
  durationMs: number;
  sampleEveryMs: number;
  /** Calls in flight at most; beyond it a tick's calls are skipped and counted. */
  maxInFlight: number;
}

export interface MemorySample {
  atMs: number;
  calls: number;
  rssMB: number;
  heapUsedMB: number;
  /** Events queued in the manager's callback queues. */
  managerPending: number;
  /** Events the callbacks dropped or gave up (their own bounds), all callbacks together. */
  dropped: number;
}

/** Calls at a steady rate (open loop) for a while, sampling memory: the memory run. */
export async function runSteady(setup: ClientSetup, args: SteadyArgs): Promise<{ samples: MemorySample[]; calls: number; errors: number; skipped: number }> {
  let calls = 0;
  let errors = 0;
  let skipped = 0;
  let inFlight = 0;
  const samples: MemorySample[] = [];
  const t0 = performance.now();
  const tickMs = 10;
  const perTick = args.rate / (1000 / tickMs);
  let owed = 0;
  const sample = (): void => {
    const stats = setup.manager?.stats();
    const mem = process.memoryUsage();
    samples.push({
      atMs: Math.round(performance.now() - t0),
      calls,
      rssMB: mem.rss / 1048576,
      heapUsedMB: mem.heapUsed / 1048576,
      managerPending: stats?.pending ?? 0,
      dropped: stats?.totals.dropped ?? 0,
    });
  };
  sample();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      owed += perTick;
      while (owed >= 1) {
        owed -= 1;
        if (inFlight >= args.maxInFlight) {
          skipped += 1;
          continue;
        }
        inFlight += 1;
        calls += 1;
        oneCall(setup.client, false)
          .catch(() => {
            errors += 1;
          })
          .finally(() => {
            inFlight -= 1;
          });
      }
      if (performance.now() - t0 >= args.durationMs) {
        clearInterval(tick);
        clearInterval(sampler);
        sample();
        resolve();
      }
    }, tickMs);
    const sampler = setInterval(sample, args.sampleEveryMs);
  });
  return { samples, calls, errors, skipped };
}
