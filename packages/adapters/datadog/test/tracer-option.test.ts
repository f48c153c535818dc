// Passing dd-trace's tracer before anyone initialised it asks the adapter to initialise it: exactly
// once, with the adapter's safe defaults; a second adapter then finds it initialised and leaves it
// alone. Own child process (forks pool).
import './helpers/dd-env.js';
import tracer from 'dd-trace';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startFakeDatadogAgent, startFakeOpenAI, type FakeDatadogAgent, type FakeOpenAIServer } from '@llm-callbacks/testing';
import { datadogCallback } from '../src/index.js';
import { chat, setup } from './helpers/harness.js';

let provider: FakeOpenAIServer;
let agent: FakeDatadogAgent;

beforeAll(async () => {
  provider = await startFakeOpenAI();
  agent = await startFakeDatadogAgent();
});
afterAll(async () => {
  await provider.close();
  await agent.close();
});

it('initialises the given tracer once, with plugins off and agentless off; the next adapter reuses it', async () => {
  const initSpy = vi.spyOn(tracer, 'init');
  const first = datadogCallback({ tracer, init: { url: agent.url, flushInterval: 0 }, mlApp: 'tracer-opt', flushTimeoutMs: 5_000 });
  const second = datadogCallback({ tracer, init: { url: 'http://127.0.0.1:9' }, flushTimeoutMs: 5_000 });
  const a = setup(provider, first);
  const b = setup(provider, second);
  await a.client.chat.completions.create(chat('first'));
  await b.client.chat.completions.create(chat('second'));
  await a.manager.flush();
  await b.manager.flush();

  expect(initSpy).toHaveBeenCalledTimes(1);
  expect(initSpy.mock.calls[0]?.[0]).toMatchObject({ url: agent.url, plugins: false, llmobs: { mlApp: 'tracer-opt', agentlessEnabled: false } });
  expect(first.state()).toMatchObject({ tracerSource: 'initialised', initIgnored: false });
  expect(second.state()).toMatchObject({ tracerSource: 'existing', initIgnored: true });
  expect(agent.eventIds().sort()).toEqual([a.events[0]?.id, b.events[0]?.id].sort());
  await a.manager.shutdown();
  await b.manager.shutdown();
  initSpy.mockRestore();
});
