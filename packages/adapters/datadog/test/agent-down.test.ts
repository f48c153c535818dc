// The agent is down (its port refuses connections): the call is unaffected, the problem reaches
// the manager as callbackError, and flush() and shutdown() return within their bound, reporting
// the spans they could not confirm as given up. Own child process (forks pool).
import './helpers/dd-env.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeDatadogAgent, startFakeOpenAI, type FakeOpenAIServer } from '@llm-callbacks/testing';
import { datadogCallback, DatadogDeliveryError } from '../src/index.js';
import { chat, setup } from './helpers/harness.js';

let provider: FakeOpenAIServer;
let deadUrl: string;

beforeAll(async () => {
  provider = await startFakeOpenAI();
  const agent = await startFakeDatadogAgent();
  deadUrl = agent.url;
  await agent.close();
});
afterAll(async () => {
  await provider.close();
});

it('the call is unaffected, callbackError is emitted, flush/shutdown are bounded and the span is reported dropped', async () => {
  const callback = datadogCallback({ init: { url: deadUrl, flushInterval: 0 }, mlApp: 'down-app', flushTimeoutMs: 1_500 });
  const { manager, client, events, errors, dropped } = setup(provider, callback);

  const res = await client.chat.completions.create(chat('agent is down'));
  expect(res.choices[0]?.message.content).toBe('Echo: agent is down');

  const started = Date.now();
  const report = await manager.flush({ timeoutMs: 10_000 });
  expect(report.complete).toBe(true);
  expect(errors.length).toBeGreaterThan(0);
  expect(errors[0]).toMatchObject({ callback: 'datadog', hook: 'delivery', eventId: events[0]?.id });
  expect(errors[0]?.error).toBeInstanceOf(DatadogDeliveryError);
  expect(errors[0]?.error.message).toMatch(/did not confirm 1 LLM Observability span/);

  await manager.shutdown({ timeoutMs: 10_000 });
  expect(Date.now() - started).toBeLessThan(10_000);
  // Never confirmed: given up, and counted as dropped, not silently lost.
  expect(dropped).toEqual([{ callback: 'datadog', eventId: events[0]?.id, reason: 'gave-up' }]);
  expect(manager.stats().callbacks['datadog']?.dropped).toBe(1);
  expect(callback.state().pendingSpans).toBe(0);
}, 30_000);
