// The shared parts: the scope built from a request (header snapshot, narrowing to a manager's
// header names, the metadata hook's checks), the emitter binding, and the promise that importing the
// package never loads a web framework.
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCallbackManager } from '@llm-callbacks/core';
import { bindEmitterToCurrentScope, scopeForRequest } from '../src/incoming-scope.js';

describe('scopeForRequest', () => {
  it('copies every header by default, lower-cased, so later changes to the request do not count', () => {
    const headers: Record<string, string | string[] | undefined> = { 'X-LiteLLM-Disable-Callbacks': 'audit', authorization: 'Bearer x', skipped: undefined };
    const scope = scopeForRequest({}, headers, {});
    headers['X-LiteLLM-Disable-Callbacks'] = 'other';
    expect(scope.headers).toEqual({ 'x-litellm-disable-callbacks': 'audit', authorization: 'Bearer x' });
  });

  it("with a manager, carries only that manager's disable headers (no credentials in the scope)", () => {
    const manager = createCallbackManager({ disableHeaders: ['x-team-no-log', 'x-litellm-disable-callbacks'] });
    const scope = scopeForRequest({}, { 'x-team-no-log': 'a, b', authorization: 'Bearer x', cookie: 'c' }, { manager });
    expect(scope.headers).toEqual({ 'x-team-no-log': 'a, b' });
  });

  it('reads a fetch Headers object (Hono), repeated values joined as a comma list', () => {
    const headers = new Headers([
      ['X-LiteLLM-Disable-Callbacks', 'audit'],
      ['x-litellm-disable-callbacks', 'keep'],
      ['accept', 'json'],
    ]);
    expect(scopeForRequest({}, headers, {}).headers).toEqual({ 'x-litellm-disable-callbacks': 'audit, keep', accept: 'json' });
    expect(scopeForRequest({}, headers, { manager: { disableHeaders: ['x-litellm-disable-callbacks'] } }).headers).toEqual({
      'x-litellm-disable-callbacks': 'audit, keep',
    });
  });

  it('adds the metadata hook result, and refuses a result that is not an object', () => {
    const req = { user: 'u-1' };
    expect(scopeForRequest(req, {}, { metadata: (r) => ({ userId: r.user }) }).metadata).toEqual({ userId: 'u-1' });
    expect(scopeForRequest(req, {}, { metadata: () => undefined })).not.toHaveProperty('metadata');
    for (const bad of ['u-1', null, ['a']]) {
      expect(() => scopeForRequest(req, {}, { metadata: () => bad as unknown as Record<string, unknown> })).toThrow(/must return an object/);
    }
  });
});

describe('bindEmitterToCurrentScope', () => {
  it('runs every listener, even one added before, in the async context that bound the emitter; binds once only', () => {
    // Any AsyncLocalStorage sees the binding; core's request scope is one.
    const storage = new AsyncLocalStorage<string>();
    const emitter = new EventEmitter();
    const outside = new AsyncResource('outside');
    const seen: Array<string | undefined> = [];
    const probe = (): void => {
      seen.push(storage.getStore());
    };
    emitter.on('end', probe);
    storage.run('request-1', () => bindEmitterToCurrentScope(emitter));
    storage.run('request-2', () => bindEmitterToCurrentScope(emitter));
    // Emitted from a context of its own, as Node emits a request's 'end' from the socket's.
    outside.runInAsyncScope(() => emitter.emit('end'));
    emitter.once('end', probe);
    expect(emitter.emit('end')).toBe(true);
    expect(seen).toEqual(['request-1', 'request-1', 'request-1']);
    // Listener removal and return values are the emitter's own.
    emitter.removeListener('end', probe);
    expect(emitter.emit('end')).toBe(false);
  });
});

describe('no framework is loaded by the package', () => {
  it('src imports express, fastify and hono as types only', async () => {
    const dir = join(import.meta.dirname, '..', 'src');
    const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const name of files) {
      const text = await readFile(join(dir, name), 'utf8');
      const valueImports = [...text.matchAll(/^\s*import\s+(?!type\b)[^;]*?from\s+['"](express|fastify|hono|@hono\/[^'"]+)['"]/gm)];
      expect(valueImports.map((m) => `${name}: ${m[0]}`)).toEqual([]);
      expect(text).not.toMatch(/import\(\s*['"](express|fastify|hono)/);
    }
  });
});
