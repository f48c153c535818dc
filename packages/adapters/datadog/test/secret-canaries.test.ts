// Secret canaries through the Datadog adapter: after calls carrying canary credentials everywhere
// (see @llm-callbacks/testing's makeCanaryCalls), nothing the fake agent got (LLM Observability
// spans, APM spans, refused payloads) contains one. Own child process (forks pool).
import './helpers/dd-env.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCallbackManager } from '@llm-callbacks/core';
import {
  findCanaries,
  makeCanaryCalls,
  serializeForLeakCheck,
  startFakeDatadogAgent,
  startFakeOpenAI,
  type FakeDatadogAgent,
  type FakeOpenAIServer,
} from '@llm-callbacks/testing';
import { datadogCallback } from '../src/index.js';

let agent: FakeDatadogAgent;
let provider: FakeOpenAIServer;
beforeAll(async () => {
  agent = await startFakeDatadogAgent();
  provider = await startFakeOpenAI();
});
afterAll(async () => {
  await provider.close();
  await agent.close();
});

it('no canary reaches the Datadog agent, and every call did', async () => {
  const manager = createCallbackManager({
    callbacks: [datadogCallback({ init: { url: agent.url, flushInterval: 0 }, mlApp: 'canary-app', service: 'canary', flushTimeoutMs: 5_000 })],
  });
  const calls = await makeCanaryCalls(provider.url, manager);
  const report = await manager.flush();
  expect(report.callbacks['datadog']?.confirmed).toBe(calls);
  await agent.waitFor((a) => a.eventIds().length >= calls && a.apmSpans.length >= calls, 5_000);
  const received = serializeForLeakCheck({ llmObs: agent.llmObsSpans, apm: agent.apmSpans, rejected: agent.rejected, requests: agent.requests });
  expect(received).toContain('[REDACTED]');
  expect(findCanaries(received)).toEqual([]);
  await manager.shutdown();
});
