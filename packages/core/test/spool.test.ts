// The durable spool (durableCallback): an event is on disk before its hook resolves, sealed segments
// are delivered and deleted only on confirmation, a dead writer's segments are adopted and replayed
// under the same batch ids, partial lines are ignored, concurrent processes never share a file, and
// disk problems and a full spool are reported, never fatal, never silent.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createCallbackManager,
  defineCallback,
  durableCallback,
  CallEventSchema,
  SpoolWriteError,
  type CallEvent,
  type CallbackErrorInfo,
  type Callback,
  type SpooledBatch,
} from '../src/index.js';

let seq = 0;
function makeEvent(overrides: Partial<CallEvent> = {}): CallEvent {
  seq += 1;
  return CallEventSchema.parse({
    id: `evt-${seq}`,
    status: 'success',
    callType: 'chat.completions',
    model: 'gpt-test',
    provider: 'openai',
    stream: false,
    startTime: 1_700_000_000_000,
    endTime: 1_700_000_000_250,
    latencyMs: 250,
    request: { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] },
    response: { id: 'r' },
    metadata: {},
    disabledCallbacks: [],
    ignoredDisables: [],
    ...overrides,
  });
}

/** A batch sink standing in for S3: objects keyed by batch id, so a repeated delivery overwrites. */
function bucketSink(name = 'sink') {
  const objects = new Map<string, string[]>();
  const attempts: SpooledBatch[] = [];
  let mode: 'ok' | 'fail' | 'store-then-fail' = 'ok';
  const callback = defineCallback({
    name,
    onSuccess: () => undefined,
    onFailure: () => undefined,
    async deliverBatch(batch: SpooledBatch): Promise<void> {
      attempts.push(batch);
      if (mode === 'fail') throw new Error('sink unreachable');
      objects.set(
        batch.id,
        batch.events.map((e) => e.id),
      );
      if (mode === 'store-then-fail') throw new Error('answer lost after the write');
    },
  });
  return {
    callback,
    objects,
    attempts,
    setMode: (m: typeof mode) => void (mode = m),
    /** Every event id in the "bucket", with repeats. */
    ids: () => [...objects.values()].flat(),
  };
}

/** A pid that no process has (a child that already exited). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid as number;
}

/** What a process killed with SIGKILL leaves: its lock names a pid that no longer exists. */
async function killWriters(directory: string): Promise<void> {
  for (const entry of await readdir(directory)) {
    if (!entry.startsWith('w-')) continue;
    await writeFile(join(directory, entry, 'lock'), JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: 0 }));
  }
}

async function segmentFiles(directory: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await walk(join(dir, entry.name));
      else if (/\.(open|seg)$/.test(entry.name)) out.push(join(dir, entry.name));
    }
  };
  await walk(directory);
  return out.sort();
}

const hook = (cb: Callback, event: CallEvent): Promise<void> => Promise.resolve(cb.onSuccess?.(event));

let dir: string;
const toShutDown: Callback[] = [];
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'spool-test-')), 'spool');
});
afterEach(async () => {
  for (const cb of toShutDown.splice(0)) await Promise.resolve(cb.shutdown?.()).catch(() => undefined);
  await rm(join(dir, '..'), { recursive: true, force: true });
});

describe('durableCallback: writing', () => {
  it('has the event on disk, fsynced, when the hook resolves', async () => {
    const sink = bucketSink();
    sink.setMode('fail');
    const durable = durableCallback(sink.callback, { directory: dir, segmentMaxAgeMs: 60_000 });
    toShutDown.push(durable);
    const event = makeEvent();
    await hook(durable, event);
    const files = await segmentFiles(dir);
    expect(files).toHaveLength(1);
    const lines = (await readFile(files[0] as string, 'utf8')).split('\n');
    expect(lines.at(-1)).toBe('');
    expect(JSON.parse(lines[0] as string)).toEqual(event);
    expect(durable.stats()).toMatchObject({ spooled: 1, delivered: 0, pendingSegments: 1 });
  });

  it('keeps the wrapped callback name, hooks, required flag and other settings', () => {
    const onlySuccess = defineCallback({ name: 'Audit', required: true, timeoutMs: 1234, onSuccess: () => undefined });
    const durable = durableCallback(onlySuccess, { directory: dir });
    toShutDown.push(durable);
    expect(durable.name).toBe('Audit');
    expect(durable.required).toBe(true);
    expect(durable.timeoutMs).toBe(1234);
    expect(typeof durable.onSuccess).toBe('function');
    expect(durable.onFailure).toBeUndefined();
    expect(createCallbackManager({ callbacks: [durable] }).list()).toEqual({ success: ['Audit'], failure: [], success_and_failure: [] });
    const withRedaction = { ...onlySuccess, redactMessages: true } as Callback;
    expect((durableCallback(withRedaction, { directory: dir }) as unknown as { redactMessages?: unknown }).redactMessages).toBe(true);
  });

  it('refuses unusable options with a message naming them', () => {
    const sink = bucketSink();
    expect(() => durableCallback(sink.callback, { directory: '' })).toThrow(/directory/);
    expect(() => durableCallback(sink.callback, { directory: dir, maxBytes: -1 })).toThrow(/maxBytes/);
    expect(() => durableCallback({ name: 'x' } as Callback, { directory: dir })).toThrow(/onSuccess/);
  });
});

describe('durableCallback: delivery and deletion', () => {
  it('delivers sealed segments as batches and deletes them only once the sink confirmed', async () => {
    const sink = bucketSink();
    const durable = durableCallback(sink.callback, { directory: dir, segmentMaxEvents: 10, segmentMaxAgeMs: 60_000 });
    toShutDown.push(durable);
    const events = Array.from({ length: 25 }, () => makeEvent());
    await Promise.all(events.map((e) => hook(durable, e)));
    await durable.flush?.();
    expect([...sink.objects.values()].map((ids) => ids.length)).toEqual([10, 10, 5]);
    expect(sink.ids()).toEqual(events.map((e) => e.id));
    expect(await segmentFiles(dir)).toEqual([]);
    expect(durable.stats()).toMatchObject({ spooled: 25, delivered: 25, replayed: 0, pendingSegments: 0 });
  });

  it('keeps a segment the sink refused, reports it, and delivers it on a later attempt', async () => {
    const sink = bucketSink();
    sink.setMode('fail');
    const manager = createCallbackManager({ callbacks: [durableCallback(sink.callback, { directory: dir, retry: { baseDelayMs: 20, maxDelayMs: 50 } })] });
    const errors: CallbackErrorInfo[] = [];
    manager.on('callbackError', (e) => errors.push(e));
    const event = makeEvent();
    manager.report(event);
    const report = await manager.flush({ timeoutMs: 5_000 });
    expect(report.complete).toBe(false);
    expect(await segmentFiles(dir)).toHaveLength(1);
    expect(errors.some((e) => e.hook === 'delivery' && /not delivered on attempt 1/.test(e.error.message) && e.eventId === event.id)).toBe(true);
    sink.setMode('ok');
    await expect.poll(() => sink.ids(), { timeout: 5_000 }).toEqual([event.id]);
    await expect.poll(() => segmentFiles(dir)).toEqual([]);
    expect((await manager.shutdown()).complete).toBe(true);
  });

  it('hands events to a plain callback as they are spooled, and deletes a segment only after its flush() resolved', async () => {
    const received: string[] = [];
    let flushFails = true;
    const plain = defineCallback({
      name: 'plain',
      onSuccess: (e) => void received.push(e.id),
      flush: () => {
        if (flushFails) throw new Error('not flushed');
      },
    });
    const durable = durableCallback(plain, { directory: dir, segmentMaxEvents: 2, retry: { baseDelayMs: 10_000 } });
    toShutDown.push(durable);
    const [a, b] = [makeEvent(), makeEvent()];
    await hook(durable, a);
    await hook(durable, b);
    await expect.poll(() => durable.stats().deliveryFailures).toBe(1);
    expect(received).toEqual([a.id, b.id]);
    expect(await segmentFiles(dir)).toHaveLength(1);
    flushFails = false;
    await durable.flush?.();
    expect(await segmentFiles(dir)).toEqual([]);
    // At least once for a plain sink: the retry handed the segment's events over again.
    expect(received).toEqual([a.id, b.id, a.id, b.id]);
  });
});

describe('durableCallback: replay after a crash', () => {
  it("adopts a dead process's segments, sealed and open, and replays them under the same batch ids (a re-upload overwrites)", async () => {
    // Process A: the sink stores each batch and then fails (the answer was lost), so A keeps every segment.
    const sink = bucketSink();
    sink.setMode('store-then-fail');
    const a = durableCallback(sink.callback, { directory: dir, segmentMaxEvents: 10, segmentMaxAgeMs: 60_000, retry: { baseDelayMs: 60_000 } });
    const events = Array.from({ length: 25 }, () => makeEvent());
    for (const e of events) await hook(a, e);
    await expect.poll(() => sink.attempts.length).toBe(2); // the two sealed segments were tried once
    const firstIds = sink.attempts.map((b) => b.id);
    expect(sink.ids()).toHaveLength(20);
    await killWriters(dir); // A is gone (its timers are unref'd and its sink keeps failing)

    // Process B: same directory, the sink works.
    sink.setMode('ok');
    const b = durableCallback(sink.callback, { directory: dir });
    toShutDown.push(b);
    await b.flush?.();
    // The same batch ids with the same events (delivery runs 2 at a time, so in either order).
    const replayed = sink.attempts.slice(2, 4);
    expect(replayed.map((x) => x.id).sort()).toEqual([...firstIds].sort());
    const firstEvents = new Map(sink.attempts.slice(0, 2).map((x) => [x.id, x.events]));
    for (const batch of replayed) expect(batch.events).toEqual(firstEvents.get(batch.id));
    // All 25 in the bucket, none twice: the two re-uploads replaced what A had written.
    expect(sink.ids().sort()).toEqual(events.map((e) => e.id).sort());
    expect(new Set(sink.ids()).size).toBe(sink.ids().length);
    expect(b.stats()).toMatchObject({ delivered: 25, replayed: 25, spooled: 0 });
    expect(await segmentFiles(dir)).toEqual([]);
  });

  it('ignores a torn last line and skips (and reports) a corrupt line', async () => {
    const [e1, e2, e3] = [makeEvent(), makeEvent(), makeEvent()];
    const writer = join(dir, 'w-deadwriter1');
    await mkdir(writer, { recursive: true });
    await writeFile(join(writer, 'lock'), JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: 0 }));
    const torn = JSON.stringify(e3).slice(0, 40);
    await writeFile(join(writer, `000001-${Date.now()}.open`), `${JSON.stringify(e1)}\n{not json\n${JSON.stringify(e2)}\n${torn}`);
    const sink = bucketSink();
    const manager = createCallbackManager({ callbacks: [durableCallback(sink.callback, { directory: dir })] });
    const errors: CallbackErrorInfo[] = [];
    manager.on('callbackError', (e) => errors.push(e));
    await manager.flush({ timeoutMs: 5_000 });
    expect(sink.attempts.map((x) => x.id)).toEqual(['deadwriter1-000001']);
    expect(sink.ids()).toEqual([e1.id, e2.id]);
    const stats = (manager.callbacks()[0] as ReturnType<typeof durableCallback>).stats();
    expect(stats).toMatchObject({ tornTails: 1, corruptLines: 1, replayed: 2 });
    expect(errors.some((e) => /1 line\(s\) that are not events/.test(e.error.message))).toBe(true);
    await manager.shutdown();
    expect(await segmentFiles(dir)).toEqual([]);
  });

  it('never takes over a live writer; two adopters of one dead writer deliver it once', async () => {
    const sinkA = bucketSink('a');
    sinkA.setMode('fail');
    const liveA = durableCallback(sinkA.callback, { directory: dir, segmentMaxEvents: 5, retry: { baseDelayMs: 60_000 } });
    const events = Array.from({ length: 10 }, () => makeEvent());
    for (const e of events) await hook(liveA, e);
    // B starts beside a live A (same host, live pid): it must leave A's files alone.
    const sinkB = bucketSink('b');
    const b = durableCallback(sinkB.callback, { directory: dir });
    await b.flush?.();
    expect(sinkB.attempts).toEqual([]);
    expect(b.stats().replayed).toBe(0);
    expect(await segmentFiles(dir)).toHaveLength(2);
    await b.shutdown?.();
    // A dies; C and D start at the same moment and race for its directory.
    await killWriters(dir);
    const shared = bucketSink('cd');
    const c = durableCallback(shared.callback, { directory: dir });
    const d = durableCallback(shared.callback, { directory: dir });
    toShutDown.push(c, d);
    await Promise.all([c.flush?.(), d.flush?.()]);
    expect(shared.attempts).toHaveLength(2);
    expect(shared.ids().sort()).toEqual(events.map((e) => e.id).sort());
    expect(c.stats().replayed + d.stats().replayed).toBe(10);
    expect(Math.min(c.stats().replayed, d.stats().replayed)).toBe(0);
  });

  it('two live processes on one directory each write and deliver only their own events', async () => {
    const [sinkA, sinkB] = [bucketSink('a'), bucketSink('b')];
    const a = durableCallback(sinkA.callback, { directory: dir, segmentMaxEvents: 4 });
    const b = durableCallback(sinkB.callback, { directory: dir, segmentMaxEvents: 4 });
    toShutDown.push(a, b);
    const events = Array.from({ length: 40 }, () => makeEvent());
    await Promise.all(events.map((e, i) => hook(i % 2 === 0 ? a : b, e)));
    await Promise.all([a.flush?.(), b.flush?.()]);
    expect(sinkA.ids().sort()).toEqual(
      events
        .filter((_, i) => i % 2 === 0)
        .map((e) => e.id)
        .sort(),
    );
    expect(sinkB.ids().sort()).toEqual(
      events
        .filter((_, i) => i % 2 === 1)
        .map((e) => e.id)
        .sort(),
    );
    expect(a.stats().replayed + b.stats().replayed).toBe(0);
    expect(new Set([...sinkA.objects.keys()].map((id) => id.split('-')[0])).size).toBe(1);
    expect(await segmentFiles(dir)).toEqual([]);
  });

  it('adopts what a process left at shutdown() while another process is running', async () => {
    const sinkA = bucketSink();
    sinkA.setMode('fail');
    const a = durableCallback(sinkA.callback, { directory: dir, shutdownTimeoutMs: 200, retry: { baseDelayMs: 60_000 } });
    const event = makeEvent();
    await hook(a, event);
    const sinkB = bucketSink();
    const b = durableCallback(sinkB.callback, { directory: dir, rescanIntervalMs: 50 });
    toShutDown.push(b);
    await b.flush?.();
    expect(sinkB.ids()).toEqual([]);
    await expect(Promise.resolve(a.shutdown?.())).rejects.toThrow(/left 1 undelivered segment/);
    await expect.poll(() => sinkB.ids(), { timeout: 3_000 }).toEqual([event.id]);
    expect(await segmentFiles(dir)).toEqual([]);
  });
});

describe('durableCallback: disk problems and bounds', () => {
  it('reports an unusable directory, hands the event over in memory, and never throws out of the manager', async () => {
    const parent = join(dir, '..');
    await mkdir(parent, { recursive: true });
    await writeFile(dir, 'a file where the spool directory should be');
    const received: string[] = [];
    const plain = defineCallback({ name: 'plain', onSuccess: (e) => void received.push(e.id) });
    const durable = durableCallback(plain, { directory: join(dir, 'sub') });
    const manager = createCallbackManager({ callbacks: [durable] });
    const errors: CallbackErrorInfo[] = [];
    manager.on('callbackError', (e) => errors.push(e));
    const event = makeEvent();
    manager.report(event);
    const report = await manager.flush({ timeoutMs: 2_000 });
    expect(received).toEqual([event.id]);
    const hookError = errors.find((e) => e.hook === 'onSuccess');
    expect(hookError?.error).toBeInstanceOf(SpoolWriteError);
    expect(hookError?.eventId).toBe(event.id);
    expect(hookError?.error.message).toMatch(/in memory only/);
    expect(report.callbacks['plain']).toMatchObject({ failed: 1 });
    expect(durable.stats()).toMatchObject({ writeErrors: 1, spooled: 0 });
  });

  it('recreates a spool directory removed under it, and reports a sealed segment that vanished as dropped', async () => {
    const sink = bucketSink();
    sink.setMode('fail');
    const durable = durableCallback(sink.callback, { directory: dir, segmentMaxEvents: 1, retry: { baseDelayMs: 60_000 } });
    const manager = createCallbackManager({ callbacks: [durable] });
    const errors: CallbackErrorInfo[] = [];
    const dropped: string[] = [];
    manager.on('callbackError', (e) => errors.push(e));
    manager.on('eventDropped', (e) => dropped.push(e.eventId));
    const [lost, kept] = [makeEvent(), makeEvent()];
    manager.report(lost);
    await manager.flush({ timeoutMs: 2_000 });
    await rm(dir, { recursive: true, force: true });
    manager.report(kept);
    sink.setMode('ok');
    const report = await manager.flush({ timeoutMs: 2_000 });
    expect(sink.ids()).toEqual([kept.id]);
    expect(dropped).toEqual([lost.id]);
    expect(errors.some((e) => /disappeared; it is created again/.test(e.error.message))).toBe(true);
    expect(errors.some((e) => e.eventId === lost.id && /disappeared before it was delivered/.test(e.error.message))).toBe(true);
    expect(durable.stats()).toMatchObject({ spooled: 2, writeErrors: 0, delivered: 1 });
    expect(report.callbacks['sink']).toMatchObject({ dropped: 1 });
    await manager.shutdown();
  });

  it('stops spooling at maxBytes: overflow is counted and reported per event, disk use stays bounded', async () => {
    const sink = bucketSink();
    sink.setMode('fail');
    const maxBytes = 3_000;
    const durable = durableCallback(sink.callback, { directory: dir, maxBytes, segmentMaxEvents: 3, retry: { baseDelayMs: 60_000 } });
    const manager = createCallbackManager({ callbacks: [durable], concurrency: 1 });
    const errors: CallbackErrorInfo[] = [];
    manager.on('callbackError', (e) => errors.push(e));
    const events = Array.from({ length: 20 }, () => makeEvent());
    for (const e of events) manager.report(e);
    const report = await manager.flush({ timeoutMs: 3_000 });
    const stats = durable.stats();
    expect(stats.overflowed).toBeGreaterThan(0);
    expect(stats.spooled + stats.overflowed).toBe(20);
    expect(report.callbacks['sink']).toMatchObject({ failed: stats.overflowed, delivered: stats.spooled });
    expect(errors.filter((e) => e.error instanceof SpoolWriteError && /spool is full/.test(e.error.message))).toHaveLength(stats.overflowed);
    let onDisk = 0;
    for (const f of await segmentFiles(dir)) onDisk += (await stat(f)).size;
    expect(onDisk).toBeLessThanOrEqual(maxBytes);
    expect(onDisk).toBe(stats.pendingBytes);
    await manager.shutdown({ timeoutMs: 1_000 });
  });
});
