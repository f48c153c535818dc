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

it("a refused upload is reported with the agent's answer and the event counted as dropped", async () => {
  // protocolVersion 0.5: the fake agent decodes that trace format too (checked at the end).
  const callback = datadogCallback({ init: { url: agent.url, flushInterval: 0, protocolVersion: '0.5' }, mlApp: 'refused-app', flushTimeoutMs: 5_000 });
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
  // APM is a separate path: the trace itself was accepted, as v0.5.
  expect(agent.requests.some((r) => r.path === '/v0.5/traces' && r.status === 200)).toBe(true);
  expect(agent.apmSpans.map((s) => [s.name, s.service, s.error])).toEqual([['llm.chat.completions', expect.any(String), 0]]);
  expect(agent.apmSpans[0]?.start).toBe(BigInt(Math.round((events[0]?.startTime ?? 0) * 1e6)));
  await manager.shutdown();
});
