// GET /callbacks/list on each framework's real server: LiteLLM's JSON for an authorized caller, a
// 403 for others, a 403 that says how to configure it when no authorize hook is set, and no list when
// the hook throws.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineCallback } from '@llm-callbacks/core';
import { NOT_AUTHORIZED_MESSAGE, NOT_CONFIGURED_MESSAGE, answerCallbacksList } from '../src/callbacks-list.js';
import { http, startFixture, type Fixture } from './helpers.js';
import { ADMIN_KEY, FRAMEWORKS, startService, type Service } from './servers.js';

describe.each(FRAMEWORKS)('%s GET /callbacks/list', (framework) => {
  let fixture: Fixture;
  let service: Service;

  beforeAll(async () => {
    fixture = await startFixture();
    // One of each kind, so all three lists are filled.
    fixture.manager.register(defineCallback({ name: 'alerts', onFailure: () => undefined }));
    fixture.manager.register(defineCallback({ name: 'metrics', onSuccess: () => undefined }));
    service = await startService(framework, fixture, { wait: () => Promise.resolve() });
  });

  afterAll(async () => {
    await service?.close();
    await fixture?.close();
  });

  it('answers an authorized caller with the manager list, as LiteLLM does', async () => {
    const answer = await http(`${service.url}/callbacks/list`, { headers: { 'x-admin-key': ADMIN_KEY } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    // Exactly these keys, in LiteLLM's order.
    expect(answer.text).toBe(JSON.stringify({ success: ['metrics'], failure: ['alerts'], success_and_failure: ['audit', 'keep'] }));
    expect(answer.json()).toEqual(fixture.manager.list());
  });

  it('refuses a caller the hook does not authorize, without the list', async () => {
    for (const headers of [{ 'x-admin-key': 'wrong' }, {}] as Array<Record<string, string>>) {
      const answer = await http(`${service.url}/callbacks/list`, { headers });
      expect(answer.status).toBe(403);
      expect(answer.json()).toEqual({ error: { message: NOT_AUTHORIZED_MESSAGE, type: 'auth_error', param: null, code: '403' } });
      expect(answer.text).not.toContain('audit');
    }
  });

  it('refuses everyone when no authorize hook is configured, saying how to configure it', async () => {
    const answer = await http(`${service.url}/open/callbacks/list`, { headers: { 'x-admin-key': ADMIN_KEY } });
    expect(answer.status).toBe(403);
    const body = answer.json() as { error: { message: string } };
    expect(body.error.message).toBe(NOT_CONFIGURED_MESSAGE);
    expect(body.error.message).toContain('authorize: (req) =>');
    expect(answer.text).not.toContain('audit');
  });

  it('sends no list when the hook throws: the framework error path answers 500', async () => {
    const before = service.errors.length;
    const answer = await http(`${service.url}/broken/callbacks/list`, { headers: { 'x-admin-key': ADMIN_KEY } });
    expect(answer.status).toBe(500);
    expect(answer.text).not.toContain('audit');
    expect(service.errors.slice(before).map(String)).toEqual([expect.stringContaining('auth backend down')]);
  });
});

describe('answerCallbacksList', () => {
  const manager = { list: () => ({ success: [], failure: [], success_and_failure: ['x'] }) };

  it('opens only on a real true: truthy values from a sloppy hook refuse', async () => {
    for (const value of ['yes', 1, {}, 'true']) {
      const answer = await answerCallbacksList({}, { manager, authorize: () => value as unknown as boolean });
      expect(answer.status).toBe(403);
    }
    expect((await answerCallbacksList({}, { manager, authorize: async () => true })).status).toBe(200);
  });

  it('gives the hook the request it was called with', async () => {
    const seen: unknown[] = [];
    const req = { headers: { 'x-admin-key': 'k' } };
    await answerCallbacksList(req, { manager, authorize: (r) => (seen.push(r), true) });
    expect(seen).toEqual([req]);
  });
});
