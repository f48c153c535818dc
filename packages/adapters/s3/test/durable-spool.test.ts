// The durable spool end to end, across processes: a child makes 1,000 calls while S3 cannot be
// reached, is killed with SIGKILL once every hook was acknowledged; a second process with S3
// reachable delivers what the first left. The bucket then holds every call exactly once.
//
// "Unreachable" is a fault proxy that drops every connection: two requests in three before they
// reach S3, one in three after S3 stored the object (the answer is lost). So some objects land
// while the first process believes nothing did, and the replay must overwrite them (same keys),
// not add to them: without deterministic keys per spooled segment, those events would be there twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, startFaultProxy, startS3Server, type FakeOpenAIServer, type FaultProxy, type S3Server } from '@llm-callbacks/testing';
import { createCallbackManager, type CallbackErrorInfo, type CallEvent, type EventDroppedInfo, type SpooledBatch } from '@llm-callbacks/core';
import { s3Callback, type S3CallbackOptions } from '../src/index.js';
import { readBucket } from './helpers.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'durable-spool-child.ts');
const CALLS = 1_000;

let s3: S3Server;
let openai: FakeOpenAIServer;
let proxy: FaultProxy;
let spoolDir: string;

beforeAll(async () => {
  s3 = await startS3Server();
  openai = await startFakeOpenAI();
  proxy = await startFaultProxy({ target: s3.endpoint, rule: (r) => ({ type: 'drop', when: r.index % 3 === 0 ? 'after' : 'before' }) });
  spoolDir = await mkdtemp(join(tmpdir(), 'durable-spool-e2e-'));
});

afterAll(async () => {
  await Promise.all([s3?.close(), openai?.close(), proxy?.close()]);
  if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
});

interface Child {
  process: ChildProcess;
  /** Resolves with the JSON after `marker` on stdout. */
  line: Promise<Record<string, unknown>>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

function startChild(env: Record<string, string>, marker: 'READY' | 'DONE'): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@llm-callbacks/source', CHILD], {
    cwd: dirname(CHILD),
    env: { ...process.env, ...env, SPOOL_DIR: spoolDir, BUCKET: s3.bucket, CALLS: String(CALLS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const line = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = new RegExp(`^${marker} (.*)$`, 'm').exec(stdout);
      if (match) resolve(JSON.parse(match[1] as string) as Record<string, unknown>);
    });
    void exit.then(({ code, signal }) => reject(new Error(`child exited (${code ?? signal}) before ${marker}; stderr:\n${stderr.slice(-3000)}`)));
  });
  return { process: child, line, exit, stderr: () => stderr };
}

async function segmentFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && /\.(open|seg)$/.test(entry.name)) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

describe('durable spool: SIGKILL while S3 is unreachable, replay by the next process', () => {
  it('ends with all 1,000 events in the bucket, none twice', async () => {
    const started = Date.now();
    // Process 1: S3 behind a proxy that drops every connection.
    const first = startChild({ MODE: 'spool', OPENAI_URL: openai.url, S3_ENDPOINT: proxy.url }, 'READY');
    const ready = await first.line;
    expect(ready['stats']).toMatchObject({ spooled: CALLS, delivered: 0 });
    // Let a few uploads land behind the proxy's back (dropped after S3 stored them) before the kill.
    await expect.poll(() => proxy.counts.dropsAfter, { timeout: 15_000, interval: 20 }).toBeGreaterThanOrEqual(2);
    first.process.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');
    const spooledAt = Date.now();

    const landedEarly = await readBucket(s3, 'llm-callbacks/');
    expect(landedEarly.objects.length).toBeGreaterThan(0); // the replay has something to overwrite
    const left = await segmentFiles(spoolDir);
    expect(left.length).toBe(Math.ceil(CALLS / 64));
    const open = left.filter((f) => f.endsWith('.open'));
    expect(open).toHaveLength(1); // the last segment was never sealed
    // What a write cut short by the kill would leave: a partial line, never acknowledged.
    await appendFile(open[0] as string, '{"id":"torn-by-sigkill","status":"succ');

    // Process 2: same spool directory, S3 reachable.
    const second = startChild({ MODE: 'replay', OPENAI_URL: openai.url, S3_ENDPOINT: s3.endpoint }, 'DONE');
    const done = await second.line;
    expect((await second.exit).code).toBe(0);
    expect(done).toMatchObject({ complete: true, stats: { replayed: CALLS, delivered: CALLS, pendingSegments: 0, tornTails: 1, corruptLines: 0 } });

    const bucket = await readBucket(s3, 'llm-callbacks/');
    const ids = bucket.events.map((e) => e.id);
    expect(ids).toHaveLength(CALLS);
    expect(new Set(ids).size).toBe(CALLS);
    // Every call exactly once, by its prompt.
    const prompts = bucket.events.map((e) => (e.request['messages'] as Array<{ content: string }>)[0]?.content).sort();
    expect(prompts).toEqual(Array.from({ length: CALLS }, (_, i) => `call ${i}`).sort());
    // One object per spooled segment, and what landed early was overwritten under the same key.
    expect(bucket.objects).toHaveLength(Math.ceil(CALLS / 64));
    const finalKeys = new Set(bucket.objects.map((o) => o.key));
    for (const early of landedEarly.objects) expect(finalKeys.has(early.key), early.key).toBe(true);
    expect(await segmentFiles(spoolDir)).toEqual([]);
    console.log(
      `durable spool e2e: ${CALLS} calls spooled and killed in ${spooledAt - started} ms, replayed in ${Date.now() - spooledAt} ms; ` +
        `${landedEarly.objects.length} object(s) landed before the kill and were overwritten; proxy: ${JSON.stringify(proxy.counts)}`,
    );
  }, 60_000);
});

describe('s3Callback.deliverBatch (what the spool calls)', () => {
  const event = (i: number, team: string): CallEvent => ({
    id: `spooled-${i}`,
    status: 'success',
    callType: 'chat.completions',
    model: 'gpt-4o-mini',
    provider: 'openai',
    stream: false,
    startTime: 1_764_000_000_000 + i,
    endTime: 1_764_000_000_100 + i,
    latencyMs: 100,
    request: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `batch ${i}` }] },
    metadata: { team },
    disabledCallbacks: [],
    ignoredDisables: [],
  });
  const batch: SpooledBatch = {
    id: 'mx7abc0123456789-000042',
    createdAt: Date.UTC(2026, 11, 3, 19, 5, 6, 789),
    events: Array.from({ length: 7 }, (_, i) => event(i, i % 2 === 0 ? 'R&D' : 'ops')),
  };
  const options = (extra: S3CallbackOptions): S3CallbackOptions => ({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: s3.credentials,
    ...extra,
  });

  it('derives every key from the segment: a second delivery, even by another instance, overwrites', async () => {
    const prefix = (e: CallEvent) => `unit-keys/${String(e.metadata['team'])}`;
    const first = s3Callback(options({ prefix, batchSize: 2 }));
    await first.deliverBatch(batch);
    await first.shutdown?.();
    const once = await s3.listObjects('unit-keys/');
    const second = s3Callback(options({ prefix, batchSize: 2 }));
    await second.deliverBatch(batch);
    await second.shutdown?.();
    const twice = await readBucket(s3, 'unit-keys/');
    expect(twice.objects.map((o) => o.key)).toEqual(once.map((o) => o.key));
    expect(twice.events.map((e) => e.id).sort()).toEqual(batch.events.map((e) => e.id).sort());
    // Per prefix (first appearance order), cut by batchSize, numbered across the segment; dated by the segment.
    expect(twice.objects.map((o) => o.key)).toEqual([
      'unit-keys/R%26D/2026-12-03/19/20261203T190506789Z-mx7abc0123456789-000042-000.ndjson',
      'unit-keys/R%26D/2026-12-03/19/20261203T190506789Z-mx7abc0123456789-000042-001.ndjson',
      'unit-keys/ops/2026-12-03/19/20261203T190506789Z-mx7abc0123456789-000042-002.ndjson',
      'unit-keys/ops/2026-12-03/19/20261203T190506789Z-mx7abc0123456789-000042-003.ndjson',
    ]);
  });

  it("json format: one object per event, keyed by the segment's time and the event id", async () => {
    const cb = s3Callback(options({ prefix: 'unit-json', format: 'json' }));
    await cb.deliverBatch(batch);
    await cb.deliverBatch(batch);
    await cb.shutdown?.();
    const objects = await s3.listObjects('unit-json/');
    expect(objects.map((o) => o.key)).toEqual(batch.events.map((e) => `unit-json/2026-12-03/19/20261203T190506789Z-${e.id}.json`).sort());
  });

  it('rejects when S3 cannot be reached, reports each attempt, and reports nothing as dropped (the spool keeps it)', async () => {
    const down = await startFaultProxy({ target: s3.endpoint, rule: () => ({ type: 'drop', when: 'before' }) });
    try {
      const cb = s3Callback({ ...options({ prefix: 'unit-down' }), endpoint: down.url, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
      const manager = createCallbackManager({ callbacks: [cb] });
      const errors: CallbackErrorInfo[] = [];
      const dropped: EventDroppedInfo[] = [];
      manager.on('callbackError', (e) => errors.push(e));
      manager.on('eventDropped', (e) => dropped.push(e));
      const delivering = cb.deliverBatch(batch);
      // A flush() running meanwhile is not failed by a spooled batch the spool still holds.
      const flushing = Promise.resolve(cb.flush?.());
      await expect(delivering).rejects.toThrow(/1 of the 1 object\(s\) of spooled segment mx7abc0123456789-000042/);
      await expect(flushing).resolves.toBeUndefined();
      expect(errors.filter((e) => e.hook === 'delivery')).toHaveLength(2);
      expect(dropped).toEqual([]);
      expect(cb.stats()).toMatchObject({ gaveUp: 0, pending: 0, failedAttempts: 2 });
      await manager.shutdown();
      await expect(cb.deliverBatch(batch)).rejects.toThrow(/shut down/);
      expect(await s3.listObjects('unit-down/')).toEqual([]);
    } finally {
      await down.close();
    }
  });

  it('with the default (unlimited) retries, a spooled segment still answers after 3 tries: the spool does the waiting', async () => {
    const down = await startFaultProxy({ target: s3.endpoint, rule: () => ({ type: 'drop', when: 'before' }) });
    try {
      const cb = s3Callback({ ...options({ prefix: 'unit-down-default' }), endpoint: down.url, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
      const manager = createCallbackManager({ callbacks: [cb] });
      const errors: CallbackErrorInfo[] = [];
      manager.on('callbackError', (e) => errors.push(e));
      await expect(cb.deliverBatch(batch)).rejects.toThrow(/spooled segment/);
      expect(errors.filter((e) => e.hook === 'delivery')).toHaveLength(3);
      expect(cb.stats()).toMatchObject({ gaveUp: 0, failedAttempts: 3 });
      await manager.shutdown();
    } finally {
      await down.close();
    }
  });
});
