// Batching of the two sinks that batch: how many events one S3 PUT carries and how long 100k events
// take to reach s3rver; how many events one Langfuse ingestion request carries. The adapters run in
// the orchestrator's process with their defaults; the sinks are the child processes.
import { performance } from 'node:perf_hooks';
import { createCallbackManager } from '@llm-callbacks/core';
import { s3Callback } from '@llm-callbacks/s3';
import { langfuseCallback } from '@llm-callbacks/langfuse';
import type { Child } from './ipc.js';
import { makeEvent } from './micro.js';
import type { SinkAddresses } from './client.js';

export interface BatchingConfig {
  s3Events: number;
  langfuseEvents: number;
}

export interface S3Batching {
  events: number;
  /** Objects the adapter says it wrote, and PUTs the server received (equal unless a PUT was retried). */
  objects: number;
  puts: number;
  eventsPerPut: number;
  /** From the first event reported to flush() resolving with everything in the bucket. */
  seconds: number;
  eventsPerSec: number;
  /** Events the adapter confirmed in the bucket. */
  uploadedEvents: number;
  failedAttempts: number;
  complete: boolean;
}

export interface LangfuseBatching {
  events: number;
  requests: number;
  /** Ingestion items (a trace-create and a generation-create per event). */
  items: number;
  eventsPerRequest: number;
  itemsPerRequest: number;
  seconds: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runS3Batching(sinks: { s3: Child }, addresses: SinkAddresses, events: number): Promise<S3Batching> {
  await sinks.s3.call('reset');
  const s3 = s3Callback({
    bucket: addresses.s3.bucket,
    prefix: 'batching',
    endpoint: addresses.s3.endpoint,
    region: addresses.s3.region,
    credentials: addresses.s3.credentials,
    forcePathStyle: true,
  });
  const manager = createCallbackManager({ callbacks: [s3] });
  manager.on('callbackError', () => undefined);
  const t0 = performance.now();
  for (let sent = 0; sent < events;) {
    // Fed as fast as the adapter takes them, without overflowing its bound (10 000 by default).
    while (s3.stats().pending + manager.stats().pending > 5_000) await sleep(2);
    const n = Math.min(1_000, events - sent);
    for (let i = 0; i < n; i += 1) manager.report(makeEvent());
    sent += n;
    await sleep(0);
  }
  const report = await manager.flush({ timeoutMs: 600_000 });
  const seconds = (performance.now() - t0) / 1000;
  const stats = s3.stats();
  await manager.shutdown();
  const puts = await sinks.s3.call<number>('puts');
  await sinks.s3.call('reset');
  return {
    events,
    objects: stats.uploadedObjects,
    puts,
    eventsPerPut: stats.uploadedEvents / Math.max(1, stats.uploadedObjects),
    seconds,
    eventsPerSec: events / seconds,
    uploadedEvents: stats.uploadedEvents,
    failedAttempts: stats.failedAttempts,
    complete: report.complete,
  };
}

export async function runLangfuseBatching(sinks: { langfuse: Child }, addresses: SinkAddresses, events: number): Promise<LangfuseBatching> {
  await sinks.langfuse.call('reset');
  const manager = createCallbackManager({ callbacks: [langfuseCallback({ ...addresses.langfuse })] });
  manager.on('callbackError', () => undefined);
  const t0 = performance.now();
  // A steady stream of calls, as a service produces them (not one burst).
  for (let sent = 0; sent < events; sent += 50) {
    for (let i = 0; i < Math.min(50, events - sent); i += 1) manager.report(makeEvent());
    await sleep(1);
  }
  await manager.flush({ timeoutMs: 120_000 });
  const seconds = (performance.now() - t0) / 1000;
  await manager.shutdown();
  const s = await sinks.langfuse.call<{ requests: number; items: number }>('summary');
  await sinks.langfuse.call('reset');
  return {
    events,
    requests: s.requests,
    items: s.items,
    eventsPerRequest: events / Math.max(1, s.requests),
    itemsPerRequest: s.items / Math.max(1, s.requests),
    seconds,
  };
}
