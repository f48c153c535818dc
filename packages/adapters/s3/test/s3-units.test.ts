// The adapter's pure parts: which failures are retried, the backoff's bounds, and the key layout.
import { describe, expect, it } from 'vitest';
import { buildObjectKey, encodeKeySegment } from '../src/index.js';
import { encodeDynamicPrefix } from '../src/object-key.js';
import { resolveS3Options } from '../src/options.js';
import { backoffDelay, isTransient } from '../src/retry-policy.js';

const answered = (status: number, name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('isTransient', () => {
  it.each([
    [answered(500, 'InternalError'), true],
    [answered(503, 'SlowDown'), true],
    [answered(502, 'BadGateway'), true],
    [answered(429, 'TooManyRequests'), true],
    [answered(408, 'RequestTimeout'), true],
    [answered(400, 'RequestTimeout'), true],
    [answered(400, 'BadDigest'), true],
    [answered(403, 'RequestTimeTooSkewed'), true],
    [answered(400, 'ExpiredToken'), true],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true],
    [answered(403, 'AccessDenied'), false],
    [answered(404, 'NoSuchBucket'), false],
    [answered(403, 'InvalidAccessKeyId'), false],
    [answered(403, 'SignatureDoesNotMatch'), false],
    [answered(400, 'InvalidRequest'), false],
    [new Error('Region is missing'), false],
  ])('%s -> %s', (error, expected) => {
    expect(isTransient(error)).toBe(expected);
  });
});

describe('backoffDelay (full jitter)', () => {
  const retry = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1_000 };
  it('stays within [0, min(max, base * 2^(n-1))]', () => {
    expect(backoffDelay(1, retry, () => 0.999999)).toBe(100);
    expect(backoffDelay(3, retry, () => 0.999999)).toBe(400);
    expect(backoffDelay(9, retry, () => 0.999999)).toBe(1_000);
    expect(backoffDelay(5, retry, () => 0)).toBe(0);
    for (let i = 0; i < 100; i += 1) expect(backoffDelay(4, retry)).toBeLessThanOrEqual(800);
  });
});

describe('object keys', () => {
  it('{prefix}/{YYYY-MM-DD}/{HH}/{time}-{unique}.ext in UTC', () => {
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    expect(buildObjectKey('audit/prod', at, 'abc-000001', 'ndjson')).toBe('audit/prod/2026-01-02/03/20260102T030405006Z-abc-000001.ndjson');
    expect(buildObjectKey('', at, 'id', 'json')).toBe('2026-01-02/03/20260102T030405006Z-id.json');
  });

  it('encodes derived segments strictly; never leaves ".." or raw reserved characters', () => {
    expect(encodeKeySegment("R&D + Ops!*'()")).toBe('R%26D%20%2B%20Ops%21%2A%27%28%29');
    expect(encodeKeySegment('..')).toBe('%2E%2E');
    expect(encodeKeySegment('ü😀')).toBe('%C3%BC%F0%9F%98%80');
    expect(encodeKeySegment('\ud800x')).toBe('%EF%BF%BDx');
    expect(encodeDynamicPrefix('/a//b c/../')).toBe('a/b%20c/%2E%2E');
  });
});

describe('options', () => {
  it('a misspelt option is an error naming the closest one (a silent typo would turn a lock or redaction off)', () => {
    expect(() => resolveS3Options({ bucket: 'logs', requred: true } as never)).toThrow(
      /s3Callback\(options\): unknown option "requred" \(did you mean "required"\?\)/,
    );
    expect(() => resolveS3Options({ bucket: 'logs', batchsize: 5 } as never)).toThrow(/did you mean "batchSize"/);
    // Nested too: a misspelt retry limit must not leave retries unlimited.
    expect(() => resolveS3Options({ bucket: 'logs', retry: { maxAttempt: 3 } } as never)).toThrow(
      /options\.retry\): unknown option "maxAttempt" \(did you mean "maxAttempts"\?\)/,
    );
  });

  it('redactMessages is the option; the former redactContent still works as a deprecated alias', () => {
    expect(resolveS3Options({ bucket: 'logs', redactMessages: true }).redactMessages).toBe(true);
    expect(resolveS3Options({ bucket: 'logs', redactContent: true }).redactMessages).toBe(true);
    expect(resolveS3Options({ bucket: 'logs' }).redactMessages).toBe(false);
    expect(() => resolveS3Options({ bucket: 'logs', redactMessages: 'yes' as never })).toThrow(/redactMessages must be true or false/);
  });
});
