// Secret canaries through the Langfuse adapter: after calls carrying canary credentials everywhere
// (see @llm-callbacks/testing's makeCanaryCalls), nothing the Langfuse receiver got contains one.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCallbackManager } from '@llm-callbacks/core';
import {
  findCanaries,
  makeCanaryCalls,
  serializeForLeakCheck,
  startFakeLangfuse,
  startFakeOpenAI,
  type FakeLangfuseServer,
  type FakeOpenAIServer,
} from '@llm-callbacks/testing';
import { fastLangfuse } from './helpers.js';

let langfuse: FakeLangfuseServer;
let provider: FakeOpenAIServer;
beforeAll(async () => {
  langfuse = await startFakeLangfuse();
  provider = await startFakeOpenAI();
});
afterAll(async () => {
  await provider.close();
  await langfuse.close();
});

it('no canary reaches the Langfuse receiver, and every call did', async () => {
  const manager = createCallbackManager({ callbacks: [fastLangfuse(langfuse)] });
  const calls = await makeCanaryCalls(provider.url, manager);
  const report = await manager.shutdown();
  expect(report.callbacks['langfuse']?.confirmed).toBe(calls);
  expect(langfuse.receivedEventIds()).toHaveLength(calls);
  const received = serializeForLeakCheck(langfuse.requests.map((r) => ({ path: r.path, body: r.body })));
  expect(received).toContain('[REDACTED]');
  expect(findCanaries(received)).toEqual([]);
});
