// The soak run: many wrapped openai calls (plain, streamed, failing) while the callbacks misbehave
// on purpose (throw, reject, hang, crawl) and the one required sink writes to an S3 that fails often
// (a fault proxy in front of s3rver: 500s, 503s, dropped connections, delays). It measures what a
// compliance owner cares about: errors the caller saw (must be 0), unhandled rejections (0), memory
// (flat, within the queue bounds) and whether every event reached the required sink exactly once.
//
// The provider is an in-process fetch, so the run measures llm-callbacks, not an HTTP server.
// `pnpm soak` runs 100k calls (scripts/soak.ts); the S3 adapter's tests run a 5k version.
import OpenAI from 'openai';
import { createCallbackManager, defineCallback, wrapOpenAI, type Callback, type CallEvent, type DeliveryReport } from '@llm-callbacks/core';
import { startFaultProxy, type FaultCounts, type RandomFaults } from './fault-proxy.js';
import { startS3Server } from './s3-server.js';

export interface SoakSink {
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface SoakOptions {
  calls: number;
  /** The required sink under test, pointed at the faulty S3 (the S3 adapter, `required: true`). */
  requiredSink(sink: SoakSink): Callback;
  /** Calls in flight at once (default 64). */
  concurrency?: number;
  /** Events each manager queue may hold (default 2 000). */
  maxQueueSize?: number;
  /** Faults of the S3 proxy (default: 6% 500, 6% 503, 4% drops before and after the write, 5% delays). */
  faults?: RandomFaults;
  /** Progress lines (default: none). */
  log?(line: string): void;
}

export interface SoakReport {
  calls: number;
  durationMs: number;
  /** Calls whose outcome differed from what the provider answered (a callback reached the caller). */
  callerErrors: number;
  unhandledRejections: number;
  /** Heap in MB: after warm-up (the first 5% of calls), the highest sample, and at the end. */
  heapMb: { warm: number; peak: number; end: number };
  /** Highest number of events pending in the manager at any sample, and the bound it must stay in. */
  maxPending: number;
  pendingBound: number;
  /** Event ids the required sink stored (read back from the bucket), missing and duplicated. */
  required: { expected: number; stored: number; missing: number; duplicates: number };
  faults: FaultCounts;
  /** The required sink's first reported problems (failed upload attempts, mostly), for diagnosis. */
  sinkErrors: string[];
  stats: DeliveryReport;
}

const OK = JSON.stringify({
  id: 'chatcmpl-soak',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-soak',
  choices: [{ index: 0, message: { role: 'assistant', content: 'fine' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});
const SSE = [
  '{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-soak","choices":[{"index":0,"delta":{"role":"assistant","content":"fi"}}]}',
  '{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-soak","choices":[{"index":0,"delta":{"content":"ne"},"finish_reason":"stop"}]}',
]
  .map((d) => `data: ${d}\n\n`)
  .join('')
  .concat('data: [DONE]\n\n');

/** The provider: answers by the model name, at once, without a socket. */
async function provider(_url: unknown, init?: RequestInit): Promise<Response> {
  // A real fetch goes through the event loop; answering in microtasks only would let 64 callers
  // starve every socket in the process (the S3 uploads included) until the run ends.
  await new Promise((resolve) => setImmediate(resolve));
  const body = JSON.parse(String(init?.body ?? '{}')) as { model?: string; stream?: boolean };
  if (body.model === 'fail-400') {
    return new Response(JSON.stringify({ error: { message: 'bad request', type: 'invalid_request_error', param: null, code: null } }), {
      status: 400,
      headers: { 'content-type': 'application/json' },
    });
  }
  if (body.stream) return new Response(SSE, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  return new Response(OK, { status: 200, headers: { 'content-type': 'application/json', 'x-request-id': 'req-soak' } });
}

/** Callbacks that misbehave, each in its own way, on a share of the events. */
function chaoticCallbacks(): Callback[] {
  const sometimes = (event: CallEvent, every: number): boolean => event.id.charCodeAt(event.id.length - 1) % every === 0;
  return [
    defineCallback({
      name: 'thrower',
      onSuccess(event) {
        if (sometimes(event, 3)) throw new Error('thrower: sync throw');
      },
      onFailure() {
        throw new Error('thrower: always on failures');
      },
    }),
    defineCallback({
      name: 'rejecter',
      async onSuccess(event) {
        if (sometimes(event, 2)) throw new Error('rejecter: async rejection');
      },
    }),
    defineCallback({
      name: 'hanger',
      timeoutMs: 50,
      onSuccess(event) {
        // Never settles on some events: abandoned after its timeout, must not leak or block.
        return sometimes(event, 16) ? new Promise<void>(() => {}) : undefined;
      },
      flush: () => new Promise<void>(() => {}),
    }),
    defineCallback({
      name: 'crawler',
      onSuccess: (event) => new Promise<void>((resolve) => setTimeout(resolve, sometimes(event, 4) ? 20 : 1)),
      onFailure: () => Promise.reject(new Error('crawler: rejects failures')),
    }),
  ];
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const concurrency = options.concurrency ?? 64;
  const maxQueueSize = options.maxQueueSize ?? 2_000;
  let unhandled = 0;
  const onUnhandled = (): void => {
    unhandled += 1;
  };
  process.on('unhandledRejection', onUnhandled);

  const s3 = await startS3Server({ bucket: 'soak-bucket' });
  const proxy = await startFaultProxy({
    target: s3.endpoint,
    random: options.faults ?? { seed: 7, status500: 0.06, status503: 0.06, dropBefore: 0.04, dropAfter: 0.04, delay: 0.05, delayMs: 100, methods: ['PUT'] },
  });
  const witnessed = new Set<string>();
  const sink = options.requiredSink({ endpoint: proxy.url, bucket: s3.bucket, region: s3.region, credentials: s3.credentials });
  const callbacks = [
    sink,
    ...chaoticCallbacks(),
    defineCallback({ name: 'witness', required: true, onSuccess: (e) => void witnessed.add(e.id), onFailure: (e) => void witnessed.add(e.id) }),
  ];
  const manager = createCallbackManager({ callbacks, timeoutMs: 200, maxQueueSize, concurrency: 16 });
  // Reports are counted in stats(); listening keeps the console quiet (no warn-once lines).
  for (const name of ['eventDropped', 'disableRefused', 'disableIgnored', 'callbacksDisabled', 'internalError'] as const) manager.on(name, () => undefined);
  const sinkErrors: string[] = [];
  manager.on('callbackError', (info) => {
    if (info.callback === sink.name && sinkErrors.length < 20) sinkErrors.push(info.error.message);
  });
  const client = wrapOpenAI(new OpenAI({ apiKey: 'sk-soak-0123456789', baseURL: 'http://provider.invalid/v1', fetch: provider, maxRetries: 0 }), manager);

  let callerErrors = 0;
  // With --expose-gc (pnpm soak), heap is measured after a full collection: live memory, not garbage
  // V8 has not collected yet. Without it the figures are an upper bound.
  const gc = (globalThis as { gc?: () => void }).gc;
  const heap = (): number => {
    gc?.();
    return process.memoryUsage().heapUsed / 1024 / 1024;
  };
  let warm = 0;
  let peak = 0;
  let maxPending = 0;
  const sample = (): void => {
    const h = heap();
    peak = Math.max(peak, h);
    maxPending = Math.max(maxPending, manager.stats().pending);
  };

  const one = async (i: number): Promise<void> => {
    const headers = i % 5 === 0 ? { 'x-litellm-disable-callbacks': 'thrower, S3 ,witness' } : undefined; // s3 and witness are required: refused
    try {
      if (i % 10 === 7) {
        const error = await client.chat.completions.create({ model: 'fail-400', messages: [{ role: 'user', content: `call ${i}` }] }).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (!(error instanceof OpenAI.BadRequestError)) callerErrors += 1;
      } else if (i % 10 === 3) {
        const stream = await client.chat.completions.create(
          { model: 'gpt-soak', messages: [{ role: 'user', content: `call ${i}` }], stream: true },
          { headers },
        );
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        if (text !== 'fine') callerErrors += 1;
      } else {
        const res = await client.chat.completions.create(
          { model: 'gpt-soak', messages: [{ role: 'user', content: `call ${i}` }] },
          { headers, disableCallbacks: i % 7 === 0 ? 'crawler' : undefined },
        );
        if (res.choices[0]?.message.content !== 'fine') callerErrors += 1;
      }
    } catch {
      callerErrors += 1;
    }
  };

  const started = Date.now();
  let next = 0;
  const warmAt = Math.max(1, Math.floor(options.calls * 0.05));
  const worker = async (): Promise<void> => {
    while (next < options.calls) {
      const i = next++;
      await one(i);
      if (i === warmAt) warm = heap();
      if (i % (gc ? 5_000 : 500) === 0) sample();
      if (i % 10_000 === 0 && i > 0)
        log(`${i} calls, heap ${heap().toFixed(1)} MB, pending ${manager.stats().pending}, ${Math.round((i * 1000) / (Date.now() - started))} calls/s`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  sample();
  await manager.flush({ timeoutMs: 120_000 });
  const stats = await manager.shutdown({ timeoutMs: 60_000 });
  sample();
  const durationMs = Date.now() - started;

  // Read the bucket directly (not through the faulty proxy).
  const stored = new Map<string, number>();
  for (const object of await s3.readObjects()) {
    for (const line of object.body.split('\n')) {
      if (!line) continue;
      const id = (JSON.parse(line) as { id: string }).id;
      stored.set(id, (stored.get(id) ?? 0) + 1);
    }
  }
  let missing = 0;
  for (const id of witnessed) if (!stored.has(id)) missing += 1;
  const duplicates = [...stored.values()].filter((n) => n > 1).length;
  const faults = { ...proxy.counts };
  await proxy.close();
  await s3.close();
  // A turn for late rejections to surface before the count is read.
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.off('unhandledRejection', onUnhandled);

  return {
    calls: options.calls,
    durationMs,
    callerErrors,
    unhandledRejections: unhandled,
    heapMb: { warm: round(warm), peak: round(peak), end: round(heap()) },
    maxPending,
    pendingBound: maxQueueSize * callbacks.length,
    required: { expected: witnessed.size, stored: stored.size, missing, duplicates },
    faults,
    sinkErrors,
    stats,
  };
}

const round = (n: number): number => Math.round(n * 10) / 10;
