// No secret reaches an event: canary credentials in the API key, Authorization and custom auth
// headers (per call and client defaults), the base URL's query and the default query, body
// credential fields, and provider errors that echo them, must appear in no event a callback gets.
// Each adapter runs the same calls against its own sink (see packages/adapters/*/test/*canar*).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_CANARIES, findCanaries, makeCanaryCalls, serializeForLeakCheck, startFakeOpenAI, type FakeOpenAIServer } from '@llm-callbacks/testing';
import { createCallbackManager, defineCallback, type CallEvent } from '../src/index.js';

let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await startFakeOpenAI();
});
afterAll(async () => {
  await server.close();
});

describe('secret canaries', () => {
  it('no canary appears in any event, while the provider really received (and echoed) them', async () => {
    const events: CallEvent[] = [];
    const manager = createCallbackManager({
      callbacks: [defineCallback({ name: 'all', onSuccess: (e) => void events.push(e), onFailure: (e) => void events.push(e) })],
    });
    const calls = await makeCanaryCalls(server.url, manager);
    await manager.flush();
    expect(events).toHaveLength(calls);
    // The test is only worth something if the canaries did travel, and came back in errors.
    const wire = serializeForLeakCheck(server.requests.map((r) => [r.path, r.query, r.headers, r.body]));
    expect(findCanaries(wire).sort()).toEqual(Object.values(SECRET_CANARIES).sort());
    expect(events.filter((e) => e.error?.message.includes('[REDACTED]')).length).toBeGreaterThanOrEqual(4);
    const leaks = events
      .map((e) => [e.request['model'], e.error?.message, findCanaries(serializeForLeakCheck(e))])
      .filter(([, , found]) => (found as string[]).length > 0);
    expect(leaks).toEqual([]);
  });
});
