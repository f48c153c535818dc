// The S3 callback end to end: the real openai client through wrapOpenAI against the fake OpenAI
// server, the real S3 client against s3rver (behind its SigV4-checking front, and for failure
// cases behind the fault proxy). Every assertion reads the bucket back and parses every line.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LlmCallbacksError } from '@llm-callbacks/core';
import { startFakeOpenAI, startFaultProxy, startS3Server, type FakeOpenAIServer, type FaultProxy, type S3Server } from '@llm-callbacks/testing';
import { s3Callback, type S3CallbackOptions } from '../src/index.js';
import { chat, harness, readBucket, type Harness } from './helpers.js';

const KEY = /^(.+)\/(\d{4}-\d{2}-\d{2})\/(\d{2})\/(\d{8}T\d{9}Z)-([^/]+)\.(ndjson|json)$/;
const HEADER = 'x-litellm-disable-callbacks';

let openai: FakeOpenAIServer;
let server: S3Server;
let proxy: FaultProxy;
let h: Harness | undefined;

beforeAll(async () => {
  openai = await startFakeOpenAI();
  server = await startS3Server({ bucket: 'audit-bucket' });
  proxy = await startFaultProxy({ target: server.endpoint });
});
afterAll(async () => {
  await proxy.close();
  await server.close();
  await openai.close();
});
beforeEach(async () => {
  await server.reset();
  proxy.configure({});
  proxy.resetCounts();
});
afterEach(async () => {
  await h?.manager.shutdown({ timeoutMs: 10_000 });
  h = undefined;
});

/** Options for the fake server; `viaProxy` routes uploads through the fault proxy. */
function options(extra: S3CallbackOptions = {}, viaProxy = false): S3CallbackOptions {
  return {
    bucket: server.bucket,
    endpoint: viaProxy ? proxy.url : server.endpoint,
    forcePathStyle: true,
    region: server.region,
    credentials: server.credentials,
    retry: { maxAttempts: 8, baseDelayMs: 5, maxDelayMs: 40 },
    requestTimeoutMs: 2_000,
    ...extra,
  };
}

describe('creation', () => {
  it('without a bucket: an error naming the option and the environment variable', () => {
    const saved = process.env['LLM_CALLBACKS_S3_BUCKET'];
    delete process.env['LLM_CALLBACKS_S3_BUCKET'];
    try {
      expect(() => s3Callback({})).toThrow(LlmCallbacksError);
      expect(() => s3Callback({})).toThrow(/bucket.*LLM_CALLBACKS_S3_BUCKET/);
    } finally {
      if (saved !== undefined) process.env['LLM_CALLBACKS_S3_BUCKET'] = saved;
    }
  });

  it('reads the bucket, prefix and endpoint from the environment', async () => {
    const names = ['LLM_CALLBACKS_S3_BUCKET', 'LLM_CALLBACKS_S3_PREFIX', 'AWS_ENDPOINT_URL_S3', 'LLM_CALLBACKS_S3_FORCE_PATH_STYLE'];
    const saved = names.map((n) => process.env[n]);
    Object.assign(process.env, {
      LLM_CALLBACKS_S3_BUCKET: server.bucket,
      LLM_CALLBACKS_S3_PREFIX: 'from-env',
      AWS_ENDPOINT_URL_S3: server.endpoint,
      LLM_CALLBACKS_S3_FORCE_PATH_STYLE: 'true',
    });
    try {
      const callback = s3Callback({ credentials: server.credentials });
      expect(callback.bucket).toBe(server.bucket);
      h = harness(callback, openai.url);
      await h.client.chat.completions.create(chat('env'));
      await h.manager.flush();
      const { objects, events } = await readBucket(server);
      expect(objects.map((o) => o.key.split('/')[0])).toEqual(['from-env']);
      expect(events.map((e) => e.id)).toEqual(h.seen.map((e) => e.id));
    } finally {
      names.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i])));
    }
  });

  it.each([
    [{ bucket: 'b/with/slash' }, /bucket/],
    [{ bucket: 'ok-bucket', format: 'csv' as never }, /format/],
    [{ bucket: 'ok-bucket', batchSize: 0 }, /batchSize/],
    [{ bucket: 'ok-bucket', prefix: 'a//b' }, /prefix/],
    [{ bucket: 'ok-bucket', prefix: 'a/../b' }, /prefix/],
    [{ bucket: 'ok-bucket', prefix: 'tab\there' }, /control/],
    [{ bucket: 'ok-bucket', endpoint: 'not a url' }, /endpoint.*AWS_ENDPOINT_URL_S3/],
    [{ bucket: 'ok-bucket', serverSideEncryption: 'rot13' as never }, /serverSideEncryption/],
    [{ bucket: 'ok-bucket', sseKmsKeyId: 'k' }, /sseKmsKeyId/],
  ])('refuses %j', (bad, message) => {
    expect(() => s3Callback(bad)).toThrow(message);
  });
});

describe('what lands in the bucket', () => {
  it('success and failure events, in ndjson objects keyed {prefix}/{date}/{hour}/{time}-{unique}.ndjson (UTC)', async () => {
    const callback = s3Callback(options({ prefix: 'audit/prod' }));
    h = harness(callback, openai.url);
    const before = Date.now();
    await h.client.chat.completions.create(chat('first'), { metadata: { userId: 'u-1' } });
    await h.client.chat.completions.create(chat('x', 'error-400')).catch(() => undefined);
    const stream = await h.client.chat.completions.create({ ...chat('streamed'), stream: true, stream_options: { include_usage: true } });
    for await (const _ of stream) void _;
    const report = await h.manager.flush();
    expect(report.complete).toBe(true);

    const { objects, events } = await readBucket(server);
    expect(h.seen).toHaveLength(3);
    expect(events.map((e) => e.id).sort()).toEqual(h.seen.map((e) => e.id).sort());
    for (const object of objects) {
      const m = KEY.exec(object.key);
      expect(m, object.key).not.toBeNull();
      const [, prefix, day, hour, time] = m as RegExpExecArray;
      expect(prefix).toBe('audit/prod');
      const at = new Date(
        `${time!.slice(0, 4)}-${time!.slice(4, 6)}-${time!.slice(6, 8)}T${time!.slice(9, 11)}:${time!.slice(11, 13)}:${time!.slice(13, 15)}.${time!.slice(15, 18)}Z`,
      );
      expect(at.toISOString().slice(0, 10)).toBe(day);
      expect(at.toISOString().slice(11, 13)).toBe(hour);
      expect(at.getTime()).toBeGreaterThanOrEqual(before - 1);
      expect(at.getTime()).toBeLessThanOrEqual(Date.now());
      expect(object.contentType).toMatch(/^application\/x-ndjson/);
    }
    const failure = events.find((e) => e.status === 'failure');
    expect(failure?.error).toMatchObject({ status: 400 });
    const success = events.find((e) => e.status === 'success' && !e.stream);
    expect(success).toMatchObject({ metadata: { userId: 'u-1' }, callType: 'chat.completions' });
    expect(success?.request).toMatchObject({ messages: [{ role: 'user', content: 'first' }] });
    expect(events.find((e) => e.stream)?.usage?.totalTokens).toBeGreaterThan(0);
    // Exactly what the witness saw: the stored line is the event, not a lossy projection.
    for (const stored of events) expect(stored).toEqual(JSON.parse(JSON.stringify(h.seen.find((e) => e.id === stored.id))));
    expect(JSON.stringify(events)).not.toContain('sk-test-0123456789abcdef');
    expect(callback.stats()).toMatchObject({ accepted: 3, uploadedEvents: 3, pending: 0, gaveUp: 0, overflowed: 0 });
    expect(h.errors).toEqual([]);
  });

  it('batches by size: 25 calls with batchSize 10 make objects of 10, 10 and 5', async () => {
    const callback = s3Callback(options({ batchSize: 10, flushIntervalMs: 60_000 }));
    h = harness(callback, openai.url);
    for (let i = 0; i < 25; i += 1) await h.client.chat.completions.create(chat(`n${i}`));
    await h.manager.flush();
    const { objects, events } = await readBucket(server);
    const sizes = await Promise.all(objects.map(async (o) => o.body.split('\n').length - 1));
    expect(sizes).toEqual([10, 10, 5]);
    // Key order is acceptance order.
    expect(events.map((e) => e.id)).toEqual(h.seen.map((e) => e.id));
  });

  it('batches by time: an event is uploaded after flushIntervalMs without any flush()', async () => {
    const callback = s3Callback(options({ batchSize: 1000, flushIntervalMs: 100 }));
    h = harness(callback, openai.url);
    await h.client.chat.completions.create(chat('timer'));
    const deadline = Date.now() + 5_000;
    while ((await server.listObjects()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const { events } = await readBucket(server);
    expect(events.map((e) => e.id)).toEqual(h.seen.map((e) => e.id));
  });

  it("format 'json': one object per event, keyed by the event id", async () => {
    const callback = s3Callback(options({ format: 'json', prefix: 'one-each' }));
    h = harness(callback, openai.url);
    await h.client.chat.completions.create(chat('a'));
    await h.client.chat.completions.create(chat('b', 'error-500')).catch(() => undefined);
    await h.manager.flush();
    const { objects, events } = await readBucket(server);
    expect(objects).toHaveLength(2);
    for (const object of objects) {
      const m = KEY.exec(object.key);
      expect(m?.[6]).toBe('json');
      expect(m?.[5]).toBe((JSON.parse(object.body) as { id: string }).id);
      expect(object.contentType).toMatch(/^application\/json/);
    }
    expect(events.map((e) => e.status).sort()).toEqual(['failure', 'success']);
  });

  it('your own S3 client: used for uploads, and left open by shutdown()', async () => {
    const own = server.client();
    h = harness(s3Callback({ bucket: server.bucket, client: own, prefix: 'byo' }), openai.url);
    await h.client.chat.completions.create(chat('byo'));
    await h.manager.shutdown();
    h = undefined;
    const { events } = await readBucket(server, 'byo/');
    expect(events).toHaveLength(1);
    // Still usable: the adapter did not destroy it.
    await expect(own.send(new ListObjectsV2Command({ Bucket: server.bucket }))).resolves.toMatchObject({ KeyCount: 1 });
  });

  it('redactMessages: prompts and completions replaced, the rest kept', async () => {
    h = harness(s3Callback(options({ redactMessages: true })), openai.url);
    await h.client.chat.completions.create(chat('my secret prompt'));
    await h.manager.flush();
    const { objects, events } = await readBucket(server);
    expect(objects[0]?.body).not.toContain('my secret prompt');
    expect(events[0]?.model).toBe(h.seen[0]?.model);
  });

  it('every PUT carries Content-MD5, the content type, and the server-side encryption and storage class asked for', async () => {
    h = harness(s3Callback(options({ serverSideEncryption: 'AES256', storageClass: 'STANDARD_IA', batchSize: 2 })), openai.url);
    for (let i = 0; i < 3; i += 1) await h.client.chat.completions.create(chat(`sse ${i}`));
    await h.manager.flush();
    expect(server.rejected).toEqual([]);
    const puts = server.received.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(2);
    for (const put of puts) {
      expect(put.headers).toMatchObject({
        'x-amz-server-side-encryption': 'AES256',
        'x-amz-storage-class': 'STANDARD_IA',
        'content-type': 'application/x-ndjson; charset=utf-8',
      });
      // The front checked the digest against the body; here: it was sent at all.
      expect(put.headers['content-md5']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      // Checksums only when required: no aws-chunked framing, no trailer.
      expect(put.headers['content-encoding']).toBeUndefined();
      expect(put.headers['x-amz-trailer']).toBeUndefined();
      expect(put.headers['amz-sdk-request']).toBe('attempt=1; max=1');
    }
    const { events } = await readBucket(server);
    expect(events).toHaveLength(3);
  });
});

describe('odd characters in keys', () => {
  it('a prefix with spaces, &, +, #, ?, % and unicode is stored under exactly that prefix', async () => {
    const prefix = 'Team R&D + Ops/#1 ?x=%20 ünï 😀';
    h = harness(s3Callback(options({ prefix })), openai.url);
    await h.client.chat.completions.create(chat('odd prefix'));
    await h.manager.flush();
    expect(server.rejected).toEqual([]);
    const { objects, events } = await readBucket(server);
    expect(objects).toHaveLength(1);
    expect(objects[0]?.key.startsWith(`${prefix}/`)).toBe(true);
    expect(events.map((e) => e.id)).toEqual(h.seen.map((e) => e.id));
  });

  it('a prefix from metadata is percent-encoded per segment: keys never hold raw metadata', async () => {
    const teams = ['R&D + Ops', 'ünï cödé 😀', '#hash?q=1', '../escape', 'a/b c', '%41'];
    const callback = s3Callback(options({ prefix: (e) => `teams/${String(e.metadata['team'])}` }));
    h = harness(callback, openai.url);
    for (const team of teams) await h.client.chat.completions.create(chat(team), { metadata: { team } });
    await h.manager.flush();
    expect(server.rejected).toEqual([]);
    const { objects, events } = await readBucket(server);
    expect(events).toHaveLength(teams.length);
    for (const object of objects) {
      const [, prefix] = KEY.exec(object.key) as RegExpExecArray;
      expect(prefix).toMatch(/^teams\/[A-Za-z0-9\-._~%/]+$/);
      const stored = JSON.parse(object.body.trim()) as { metadata: { team: string } };
      const team = stored.metadata.team;
      const expected = `teams/${team
        .split('/')
        .filter(Boolean)
        .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
        .map((s) => (s === '..' ? '%2E%2E' : s))
        .join('/')}`;
      expect(prefix).toBe(expected);
    }
    // '../escape' cannot climb out of teams/: it becomes its own encoded segment.
    expect(objects.some((o) => o.key.startsWith('teams/%2E%2E/escape/'))).toBe(true);
    expect(objects.every((o) => o.key.startsWith('teams/'))).toBe(true);
  });

  it('a prefix function that throws: the event is still stored (under the default prefix) and the error reported', async () => {
    h = harness(
      s3Callback(
        options({
          prefix: () => {
            throw new Error('boom');
          },
        }),
      ),
      openai.url,
    );
    await h.client.chat.completions.create(chat('p'));
    await h.manager.flush();
    const { objects, events } = await readBucket(server);
    expect(objects[0]?.key.startsWith('llm-callbacks/')).toBe(true);
    expect(events).toHaveLength(1);
    expect(h.errors.map((e) => e.error.message).join()).toMatch(/prefix\(event\) failed.*boom/);
  });
});

describe('disabling', () => {
  it('by header or option: no line for that call; the other calls are stored', async () => {
    h = harness(s3Callback(options()), openai.url);
    await h.client.chat.completions.create(chat('kept 1'));
    await h.client.chat.completions.create(chat('by header'), { headers: { [HEADER]: 'S3' } });
    await h.client.chat.completions.create(chat('by option'), { disableCallbacks: ['s3'] });
    await h.client.chat.completions.create(chat('kept 2'));
    await h.manager.flush();
    const { events } = await readBucket(server);
    const disabled = h.seen.filter((e) => e.disabledCallbacks.includes('s3'));
    expect(disabled).toHaveLength(2);
    expect(events.map((e) => e.id).sort()).toEqual(
      h.seen
        .filter((e) => !disabled.includes(e))
        .map((e) => e.id)
        .sort(),
    );
    expect(h.manager.stats().callbacks['s3']?.disabled).toBe(2);
  });

  it('a locked manager stores every call whatever the header and option say', async () => {
    h = harness(s3Callback(options()), openai.url, { allowDynamicCallbackDisabling: false });
    await h.client.chat.completions.create(chat('locked'), { headers: { [HEADER]: 's3' }, disableCallbacks: 's3' });
    await h.manager.flush();
    const { events } = await readBucket(server);
    expect(events.map((e) => e.id)).toEqual(h.seen.map((e) => e.id));
    expect(events[0]?.ignoredDisables.some((i) => i.reason === 'locked')).toBe(true);
  });

  it('required: true locks just this callback', async () => {
    h = harness(s3Callback(options({ required: true })), openai.url);
    await h.client.chat.completions.create(chat('required'), { disableCallbacks: 's3,witness' });
    await h.manager.flush();
    expect(h.seen).toHaveLength(0);
    const { events } = await readBucket(server);
    expect(events).toHaveLength(1);
  });
});

describe('delivery', () => {
  it('a 503 then a dropped connection: retried under the same key, stored once, each failure reported', async () => {
    let puts = 0;
    proxy.configure({
      rule: ({ method }) => {
        if (method !== 'PUT') return undefined;
        puts += 1;
        if (puts === 1) return { type: 'status', status: 503 };
        if (puts === 2) return { type: 'drop', when: 'after' };
        return undefined;
      },
    });
    h = harness(s3Callback(options({}, true)), openai.url);
    await h.client.chat.completions.create(chat('retry me'));
    const report = await h.manager.flush();
    expect(report.complete).toBe(true);
    const { objects, events } = await readBucket(server);
    expect(objects).toHaveLength(1);
    expect(events.map((e) => e.id)).toEqual(h.seen.map((e) => e.id));
    expect(puts).toBe(3);
    expect(h.errors.map((e) => e.hook)).toEqual(['delivery', 'delivery']);
    expect(h.errors[0]?.error.message).toMatch(/attempt 1 of 8: SlowDown \(HTTP 503\).*retrying in \d+ ms/);
    expect(h.dropped).toEqual([]);
  });

  it('an attempt slower than requestTimeoutMs is aborted and retried; the late write and the retry share one key', async () => {
    let puts = 0;
    proxy.configure({ rule: ({ method }) => (method === 'PUT' && ++puts === 1 ? { type: 'delay', ms: 1_500 } : undefined) });
    h = harness(s3Callback(options({ requestTimeoutMs: 400 }, true)), openai.url);
    await h.client.chat.completions.create(chat('slow'));
    await h.manager.flush();
    // Let the delayed first PUT reach the server too (the proxy forwards it after its delay).
    const deadline = Date.now() + 5_000;
    while (proxy.counts.forwarded < proxy.counts.requests && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(proxy.counts.forwarded).toBe(proxy.counts.requests);
    const { objects, events } = await readBucket(server);
    expect(objects).toHaveLength(1);
    expect(events).toHaveLength(1);
    expect(h.errors[0]?.error.message).toMatch(/TimeoutError.*requestTimeoutMs/);
  });

  it('a final error (403/404) is not retried: the events are given up and reported, and flush says so', async () => {
    h = harness(s3Callback(options({ bucket: 'no-such-bucket' })), openai.url);
    await h.client.chat.completions.create(chat('lost'));
    const report = await h.manager.flush();
    expect(report.complete).toBe(false);
    expect(h.dropped.map((d) => [d.eventId, d.reason])).toEqual([[h.seen[0]?.id, 'gave-up']]);
    const delivery = h.errors.filter((e) => e.hook === 'delivery');
    expect(delivery).toHaveLength(1);
    expect(delivery[0]?.error.message).toMatch(/NoSuchBucket.*not a transient failure/);
    expect(h.errors.some((e) => e.hook === 'flush')).toBe(true);
    expect(h.manager.stats().callbacks['s3']?.dropped).toBe(1);
  });

  it('flush() waits for uploads still retrying, and for every event queued before it', async () => {
    let puts = 0;
    proxy.configure({ rule: ({ method }) => (method === 'PUT' && ++puts <= 4 ? { type: 'status', status: 503 } : undefined) });
    const callback = s3Callback(options({ batchSize: 5, concurrency: 1, retry: { maxAttempts: 10, baseDelayMs: 50, maxDelayMs: 100 } }, true));
    h = harness(callback, openai.url);
    await Promise.all(Array.from({ length: 12 }, (_, i) => h!.client.chat.completions.create(chat(`w${i}`))));
    await h.manager.flush();
    // Nothing pending, and all 12 in the bucket the moment flush resolved.
    expect(callback.stats().pending).toBe(0);
    const { events } = await readBucket(server);
    expect(new Set(events.map((e) => e.id))).toEqual(new Set(h.seen.map((e) => e.id)));
    expect(events).toHaveLength(12);
  });

  it('by default a transient failure is retried until the object lands: 15 failed tries in a row lose nothing', async () => {
    let puts = 0;
    proxy.configure({ rule: ({ method }) => (method === 'PUT' && ++puts <= 15 ? { type: 'status', status: 503 } : undefined) });
    const { retry: _tuned, ...defaults } = options({}, true);
    const callback = s3Callback({ ...defaults, retry: { baseDelayMs: 2, maxDelayMs: 10 } });
    h = harness(callback, openai.url);
    await h.client.chat.completions.create(chat('patient'));
    const report = await h.manager.flush({ timeoutMs: 10_000 });
    expect(report.complete).toBe(true);
    const { events } = await readBucket(server);
    expect(events.map((e) => e.id)).toEqual([h.seen[0]?.id]);
    expect(callback.stats()).toMatchObject({ failedAttempts: 15, gaveUp: 0, uploadedEvents: 1 });
    const delivery = h.errors.filter((e) => e.hook === 'delivery');
    expect(delivery).toHaveLength(15);
    expect(delivery[14]?.error.message).toMatch(/failed on attempt 15: .*retrying in/);
    expect(h.dropped).toEqual([]);
  });

  it('overflow: past maxQueueSize new events are dropped, counted and reported, never silently', async () => {
    let blocked = true;
    proxy.configure({ rule: ({ method }) => (blocked && method === 'PUT' ? { type: 'status', status: 503 } : undefined) });
    const callback = s3Callback(
      options({ batchSize: 5, concurrency: 1, maxQueueSize: 10, retry: { maxAttempts: 1000, baseDelayMs: 5, maxDelayMs: 20 } }, true),
    );
    h = harness(callback, openai.url);
    for (let i = 0; i < 25; i += 1) await h.client.chat.completions.create(chat(`o${i}`));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20));
    const overflowed = h.dropped.filter((d) => d.reason === 'overflow');
    expect(overflowed).toHaveLength(15);
    expect(callback.stats().overflowed).toBe(15);
    expect(h.manager.stats().callbacks['s3']?.dropped).toBe(15);
    expect(h.errors.filter((e) => /queue is full/.test(e.error.message))).toHaveLength(1);
    blocked = false;
    await h.manager.flush();
    const { events } = await readBucket(server);
    // The first ten (by acceptance) made it; the other fifteen are exactly the ones reported.
    expect(events.map((e) => e.id)).toEqual(h.seen.slice(0, 10).map((e) => e.id));
    expect(overflowed.map((d) => d.eventId)).toEqual(h.seen.slice(10).map((e) => e.id));
  });
});

describe('shutdown', () => {
  it('drains what is buffered (no flush first) and releases everything', async () => {
    const callback = s3Callback(options({ batchSize: 1000, flushIntervalMs: 60_000 }));
    h = harness(callback, openai.url);
    for (let i = 0; i < 7; i += 1) await h.client.chat.completions.create(chat(`s${i}`));
    const report = await h.manager.shutdown({ timeoutMs: 10_000 });
    expect(report.complete).toBe(true);
    const { events } = await readBucket(server);
    expect(events.map((e) => e.id)).toEqual(h.seen.map((e) => e.id));
    h = undefined;
  });

  it('is bounded when the sink keeps failing, and reports every event it could not deliver', async () => {
    proxy.configure({ rule: ({ method }) => (method === 'PUT' ? { type: 'status', status: 503 } : undefined) });
    const callback = s3Callback(
      options({ batchSize: 3, concurrency: 1, shutdownTimeoutMs: 500, retry: { maxAttempts: 1000, baseDelayMs: 20, maxDelayMs: 50 } }, true),
    );
    h = harness(callback, openai.url);
    for (let i = 0; i < 7; i += 1) await h.client.chat.completions.create(chat(`d${i}`));
    const started = Date.now();
    const report = await h.manager.shutdown({ timeoutMs: 10_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(report.complete).toBe(false);
    expect(
      h.dropped
        .filter((d) => d.reason === 'gave-up')
        .map((d) => d.eventId)
        .sort(),
    ).toEqual(h.seen.map((e) => e.id).sort());
    expect(h.errors.some((e) => e.hook === 'shutdown' && /7 event\(s\)/.test(e.error.message))).toBe(true);
    expect(callback.stats()).toMatchObject({ gaveUp: 7, pending: 0, uploading: 0 });
    expect(await server.listObjects()).toEqual([]);
    h = undefined;
  });

  it('leaves no timer or socket behind', async () => {
    const count = () => {
      const all = process.getActiveResourcesInfo();
      return { timers: all.filter((r) => r === 'Timeout').length, sockets: all.filter((r) => r === 'TCPSocketWrap').length };
    };
    await new Promise((r) => setTimeout(r, 50));
    const before = count();
    const callback = s3Callback(options({ batchSize: 1000, flushIntervalMs: 60_000 }, true));
    h = harness(callback, openai.url);
    proxy.configure({ rule: ({ method, index }) => (method === 'PUT' && index === 0 ? { type: 'status', status: 503 } : undefined) });
    await h.client.chat.completions.create(chat('handles'));
    await h.manager.shutdown();
    h = undefined;
    await new Promise((r) => setTimeout(r, 100));
    const after = count();
    expect(after.timers).toBeLessThanOrEqual(before.timers);
    expect(after.sockets).toBeLessThanOrEqual(before.sockets);
    expect(await server.listObjects()).toHaveLength(1);
  });

  it('an event after shutdown is reported, not lost silently', async () => {
    const callback = s3Callback(options());
    const reports: string[] = [];
    callback.onRegister?.({ error: (e) => reports.push(`error ${String(e)}`), dropped: (ids, reason) => reports.push(`dropped ${ids.join()} ${reason}`) });
    await callback.shutdown?.();
    await callback.onSuccess?.({ ...(await sampleEvent()), id: 'late-1' });
    expect(reports).toEqual([expect.stringMatching(/late-1 arrived after shutdown/), 'dropped late-1 gave-up']);
  });
});

async function sampleEvent() {
  const seen = harness(s3Callback(options({ bucket: 'unused-bucket' })), openai.url);
  await seen.client.chat.completions.create(chat('sample'), { disableCallbacks: 's3' });
  await seen.manager.shutdown();
  return seen.seen[0]!;
}
