// The agent answers, but refuses the LLM Observability upload (as the intake does for a malformed
// payload, relayed by the agent's EVP proxy): the failure reaches the manager as callbackError and
// the event is counted dropped ("gave-up"), the call unaffected. Own child process (forks pool).
import './helpers/dd-env.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeDatadogAgent, startFakeOpenAI, type FakeDatadogAgent, type FakeOpenAIServer } from '@llm-callbacks/testing';
import { datadogCallback, DatadogDeliveryError } from '../src/index.js';
import { chat, setup } from './helpers/harness.js';

let provider: FakeOpenAIServer;
let agent: FakeDatadogAgent;

beforeAll(async () => {
  provider = await startFakeOpenAI();
  agent = await startFakeDatadogAgent({ llmObsStatus: 400 });
});
afterAll(async () => {
  await provider.close();
  await agent.close();
});

it('a refused upload is reported with the agent\'s answer and the event counted as dropped', async () => {
  const callback = datadogCallback({ init: { url: agent.url, flushInterval: 0 }, mlApp: 'refused-app', flushTimeoutMs: 5_000 });
  const { manager, client, events, errors, dropped } = setup(provider, callback);
  const res = await client.chat.completions.create(chat('refused'));
  expect(res.choices[0]?.message.content).toBe('Echo: refused');

  await manager.flush();
  expect(agent.requests.some((r) => r.path === '/evp_proxy/v2/api/v2/llmobs' && r.status === 400)).toBe(true);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ callback: 'datadog', hook: 'delivery', eventId: events[0]?.id });
  expect(errors[0]?.error).toBeInstanceOf(DatadogDeliveryError);
  expect(errors[0]?.error.message).toMatch(/did not accept 1 LLM Observability span.*400/);
  expect(dropped).toEqual([{ callback: 'datadog', eventId: events[0]?.id, reason: 'gave-up' }]);
  await manager.shutdown();
});
