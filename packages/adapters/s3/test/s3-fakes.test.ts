// The test servers themselves: the S3 front must accept what a correct client sends (the real SDK,
// odd keys included) and refuse what a wrong one sends; the fault proxy must do what it is told
// and count it. Without this, the adapter's tests could pass against a server that checks nothing.
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, startS3Server, type FaultProxy, type S3Server } from '@llm-callbacks/testing';
import './helpers.js';

const ODD_KEY = "team R&D + Ops/ünïcödé 😀/a#b?c=d%e!*'()~ [x].ndjson";

describe('S3 test server (s3rver behind a SigV4-checking front)', () => {
  let server: S3Server;
  let s3: S3Client;
  beforeAll(async () => {
    server = await startS3Server({ bucket: 'fakes-bucket' });
    s3 = server.client();
  });
  afterAll(async () => {
    await server.close();
  });

  it('stores what the real SDK sends, odd key characters included, and reads it back', async () => {
    await s3.send(new PutObjectCommand({ Bucket: server.bucket, Key: ODD_KEY, Body: '{"a":1}\n', ContentType: 'application/x-ndjson' }));
    expect((await server.listObjects()).map((o) => o.key)).toContain(ODD_KEY);
    expect(await server.readObject(ODD_KEY)).toBe('{"a":1}\n');
    expect(server.rejected).toEqual([]);
  });

  it('refuses a request whose signed path differs from the path sent (the peer double-encoding bug)', async () => {
    const tampered = server.client();
    // After signing, send the key double-encoded: still canonical on the wire, but not what was signed.
    const tamper = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      const request = (args as { request: { path: string } }).request;
      request.path = request.path.replace(/%20/g, '%2520');
      return next(args);
    };
    type Middleware = Parameters<typeof tampered.middlewareStack.addRelativeTo>[0];
    tampered.middlewareStack.addRelativeTo(tamper as unknown as Middleware, {
      relation: 'after',
      toMiddleware: 'httpSigningMiddleware',
      name: 'tamper',
    });
    await expect(tampered.send(new PutObjectCommand({ Bucket: server.bucket, Key: 'a b.ndjson', Body: 'x' }))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
    });
    expect(server.rejected.at(-1)).toMatchObject({ code: 'SignatureDoesNotMatch', path: `/${server.bucket}/a%2520b.ndjson` });
    expect((await server.listObjects()).map((o) => o.key)).not.toContain('a%20b.ndjson');
  });

  it('refuses a body that does not match its Content-MD5', async () => {
    await expect(
      s3.send(new PutObjectCommand({ Bucket: server.bucket, Key: 'md5.ndjson', Body: 'hello', ContentMD5: 'AAAAAAAAAAAAAAAAAAAAAA==' })),
    ).rejects.toMatchObject({ name: 'BadDigest', $metadata: { httpStatusCode: 400 } });
  });

  it('reset() empties the bucket', async () => {
    await server.reset();
    expect(await server.listObjects()).toEqual([]);
  });
});

describe('fault proxy', () => {
  let server: S3Server;
  let proxy: FaultProxy;
  let s3: S3Client;
  beforeAll(async () => {
    server = await startS3Server();
    proxy = await startFaultProxy({ target: server.endpoint });
    const { S3Client } = await import('@aws-sdk/client-s3');
    s3 = new S3Client({ ...server.clientConfig, endpoint: proxy.url, maxAttempts: 1 });
  });
  afterAll(async () => {
    s3.destroy();
    await proxy.close();
    await server.close();
  });

  const put = (key: string) => s3.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: key }));

  it('answers 503 SlowDown / 500 InternalError, drops before or after the server, and counts each', async () => {
    const plan = ['503', '500', 'before', 'after', 'forward'];
    proxy.configure({
      rule: ({ index }) => {
        const step = plan[index];
        if (step === '503') return { type: 'status', status: 503 };
        if (step === '500') return { type: 'status', status: 500 };
        if (step === 'before' || step === 'after') return { type: 'drop', when: step };
        return undefined;
      },
    });
    proxy.resetCounts();
    await expect(put('k0')).rejects.toMatchObject({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    await expect(put('k1')).rejects.toMatchObject({ name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    await expect(put('k2')).rejects.toThrow();
    await expect(put('k3')).rejects.toThrow();
    await put('k4');
    expect(proxy.counts).toMatchObject({ requests: 5, forwarded: 2, status: { 500: 1, 503: 1 }, dropsBefore: 1, dropsAfter: 1 });
    expect(proxy.failures()).toBe(4);
    // A drop after the server answered loses the answer, not the write.
    const keys = (await server.listObjects()).map((o) => o.key);
    expect(keys).toEqual(['k3', 'k4']);
  });

  it('random faults are reproducible from the seed', async () => {
    const run = async (): Promise<string[]> => {
      proxy.configure({ random: { seed: 42, status503: 0.3, dropBefore: 0.2 } });
      proxy.resetCounts();
      for (let i = 0; i < 20; i += 1) await put(`r${i}`).catch(() => undefined);
      return proxy.log.map((l) => l.fault);
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first.filter((f) => f !== 'forward').length).toBeGreaterThan(0);
    expect(first.filter((f) => f === 'forward').length).toBeGreaterThan(0);
  });
});
