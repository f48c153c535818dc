// Delivery under a hostile network: 1,000 real calls while the path to the bucket answers random
// 503s and 500s, drops connections before and after the server applied the upload, and delays some
// requests. After flush() the bucket must hold each of the 1,000 events exactly once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeOpenAI, startFaultProxy, startS3Server, type FakeOpenAIServer, type FaultProxy, type S3Server } from '@llm-callbacks/testing';
import { s3Callback } from '../src/index.js';
import { chat, harness, pooled, readBucket } from './helpers.js';

let openai: FakeOpenAIServer;
let server: S3Server;
let proxy: FaultProxy;

beforeAll(async () => {
  openai = await startFakeOpenAI();
  server = await startS3Server({ bucket: 'fault-bucket' });
  proxy = await startFaultProxy({
    target: server.endpoint,
    random: { seed: 20261203, methods: ['PUT'], status503: 0.2, status500: 0.05, dropBefore: 0.1, dropAfter: 0.1, delay: 0.05, delayMs: 30 },
  });
});
afterAll(async () => {
  await proxy.close();
  await server.close();
  await openai.close();
});

it('1,000 calls under random 503s, 500s and dropped connections: exactly 1,000 distinct events in the bucket after flush()', async () => {
  const callback = s3Callback({
    bucket: server.bucket,
    endpoint: proxy.url,
    forcePathStyle: true,
    region: server.region,
    credentials: server.credentials,
    batchSize: 10,
    flushIntervalMs: 50,
    concurrency: 4,
    // 45% of attempts fail; the default retry budget (no limit on tries) with short backoffs.
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    requestTimeoutMs: 5_000,
  });
  const h = harness(callback, openai.url);
  const started = Date.now();
  await pooled(1_000, 16, (i) => h.client.chat.completions.create(chat(`call ${i}`), { metadata: { i } }));
  const report = await h.manager.flush({ timeoutMs: 25_000 });
  const elapsed = Date.now() - started;

  expect(report.complete).toBe(true);
  expect(h.seen).toHaveLength(1_000);
  const { objects, events } = await readBucket(server);
  const ids = events.map((e) => e.id);
  // Exactly once: no event missing, and none twice (a retry after a lost answer overwrote its own object).
  expect(ids).toHaveLength(1_000);
  expect(new Set(ids)).toEqual(new Set(h.seen.map((e) => e.id)));
  expect(new Set(events.map((e) => (e.metadata as { i: number }).i)).size).toBe(1_000);

  // The faults really happened, and each failed attempt was reported once; nothing was given up.
  const failures = proxy.failures();
  expect(proxy.counts.status[503] ?? 0).toBeGreaterThan(10);
  expect(proxy.counts.dropsBefore).toBeGreaterThan(5);
  expect(proxy.counts.dropsAfter).toBeGreaterThan(5);
  // (An attempt can also time out on a loaded machine; the proxy did not cause those.)
  const delivery = h.errors.filter((e) => e.hook === 'delivery');
  const timeouts = delivery.filter((e) => /requestTimeoutMs/.test(e.error.message)).length;
  expect(delivery.length - timeouts).toBe(failures);
  expect(h.errors.filter((e) => e.hook !== 'delivery')).toEqual([]);
  expect(h.dropped).toEqual([]);
  expect(callback.stats()).toMatchObject({
    accepted: 1_000,
    uploadedEvents: 1_000,
    uploadedObjects: objects.length,
    failedAttempts: failures + timeouts,
    gaveUp: 0,
    pending: 0,
  });
  expect(server.rejected).toEqual([]);
  console.log(
    `[s3 faults] 1000 calls in ${elapsed} ms; ${objects.length} objects; ${timeouts} attempts timed out; ${proxy.counts.requests} PUTs through the proxy: ` +
      `${proxy.counts.status[503] ?? 0}x503, ${proxy.counts.status[500] ?? 0}x500, ${proxy.counts.dropsBefore} dropped before, ${proxy.counts.dropsAfter} dropped after, ${proxy.counts.delays} delayed`,
  );
  await h.manager.shutdown();
}, 60_000);
