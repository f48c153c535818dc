// Options: defaults, environment fallbacks, and errors that name the option and the variable.
import { describe, expect, it } from 'vitest';
import { Langfuse } from 'langfuse';
import { LlmCallbacksError } from '@llm-callbacks/core';
import { langfuseCallback } from '../src/index.js';
import { resolveOptions } from '../src/options.js';

const KEYS = { LANGFUSE_PUBLIC_KEY: 'pk-env', LANGFUSE_SECRET_KEY: 'sk-env' };

describe('resolveOptions', () => {
  it('a misspelt option is an error naming the closest one (a silent typo would turn redaction or a lock off)', () => {
    expect(() => resolveOptions({ redactMessage: true } as never, KEYS)).toThrow(LlmCallbacksError);
    expect(() => resolveOptions({ redactMessage: true } as never, KEYS)).toThrow(/unknown option "redactMessage" \(did you mean "redactMessages"\?\)/);
    expect(() => langfuseCallback({ requred: true } as never)).toThrow(/did you mean "required"/);
  });

  it('without keys: an error naming the option and the environment variable', () => {
    expect(() => resolveOptions({}, {})).toThrow(LlmCallbacksError);
    expect(() => resolveOptions({}, {})).toThrow(/pass publicKey or set LANGFUSE_PUBLIC_KEY/);
    expect(() => resolveOptions({ publicKey: 'pk' }, {})).toThrow(/pass secretKey or set LANGFUSE_SECRET_KEY/);
  });

  it('reads keys and URL from the environment: LANGFUSE_BASEURL first, then LANGFUSE_HOST', () => {
    expect(resolveOptions({}, KEYS)).toMatchObject({ publicKey: 'pk-env', secretKey: 'sk-env', baseUrl: 'https://cloud.langfuse.com', name: 'langfuse' });
    expect(resolveOptions({}, { ...KEYS, LANGFUSE_HOST: 'https://eu.example.com/' }).baseUrl).toBe('https://eu.example.com');
    expect(resolveOptions({}, { ...KEYS, LANGFUSE_HOST: 'https://h', LANGFUSE_BASEURL: 'https://b' }).baseUrl).toBe('https://b');
    expect(resolveOptions({ baseUrl: 'http://127.0.0.1:3000', publicKey: 'pk', secretKey: 'sk' }, KEYS)).toMatchObject({
      publicKey: 'pk',
      baseUrl: 'http://127.0.0.1:3000',
    });
  });

  it('derives a flush bound long enough for every retry', () => {
    const o = resolveOptions({ maxRetries: 2, retryDelayMs: 100, requestTimeoutMs: 1000 }, KEYS);
    expect(o.flushTimeoutMs).toBe(3 * 1000 + 2 * 100 + 1000);
  });

  it.each([
    [{ maxRetries: -1 }, /maxRetries must be an integer >= 0/],
    [{ flushAt: 0 }, /flushAt must be an integer >= 1/],
    [{ baseUrl: 'ftp://x' }, /baseUrl "ftp:\/\/x" is not an http\(s\) URL/],
    [{ environment: 'Production' }, /environment "Production" would be rejected by Langfuse/],
    [{ redactMessages: 'yes' }, /redactMessages must be a boolean/],
    [{ name: '' }, /name must be a non-empty string/],
    [{ client: {} }, /client must be a Langfuse client/],
  ])('rejects %j', (options, message) => {
    expect(() => resolveOptions(options as never, KEYS)).toThrow(message);
  });

  it('with an existing client: no keys needed, client options refused', () => {
    const client = new Langfuse({ publicKey: 'pk', secretKey: 'sk', baseUrl: 'http://127.0.0.1:9' });
    expect(resolveOptions({ client }, {}).client).toBe(client);
    expect(() => resolveOptions({ client, publicKey: 'pk', maxRetries: 1 }, {})).toThrow(/publicKey, maxRetries configure a client this package creates/);
  });
});

describe('langfuseCallback', () => {
  it('is a callback with both hooks, flush and shutdown, named as asked', async () => {
    const callback = langfuseCallback({ publicKey: 'pk', secretKey: 'sk', baseUrl: 'http://127.0.0.1:9', name: 'lf-eu', required: true });
    expect(callback.name).toBe('lf-eu');
    expect(callback.required).toBe(true);
    expect(typeof callback.onSuccess).toBe('function');
    expect(typeof callback.onFailure).toBe('function');
    await callback.flush();
    await callback.shutdown();
  });
});
