// A service that initialised dd-trace itself: the adapter reports through that tracer, never calls
// init() a second time (its own `init` options are ignored, and say so in state()), and uses the
// service's configuration (agent URL, ml_app). Own child process (forks pool).
import './helpers/dd-env.js';
import tracer from 'dd-trace';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startFakeDatadogAgent, startFakeOpenAI, type FakeDatadogAgent, type FakeOpenAIServer } from '@llm-callbacks/testing';
import { datadogCallback } from '../src/index.js';
import { chat, setup } from './helpers/harness.js';

let provider: FakeOpenAIServer;
let agent: FakeDatadogAgent;
let initSpy: ReturnType<typeof vi.spyOn>;

beforeAll(async () => {
  provider = await startFakeOpenAI();
  agent = await startFakeDatadogAgent();
  // What the service does at startup, before any adapter exists.
  // A long flushInterval: APM spans arrive in time only because the adapter's flush() sends them.
  tracer.init({ url: agent.url, flushInterval: 60_000, plugins: false, service: 'svc-own', llmobs: { mlApp: 'service-app', agentlessEnabled: false } });
  initSpy = vi.spyOn(tracer, 'init');
});
afterAll(async () => {
  initSpy.mockRestore();
  await provider.close();
  await agent.close();
});

it('reuses the initialised tracer and ignores its own init options (no second init)', async () => {
  // An unreachable URL: if the adapter initialised dd-trace with it, nothing would arrive.
  const callback = datadogCallback({ init: { url: 'http://127.0.0.1:9', flushInterval: 0 }, flushTimeoutMs: 5_000 });
  const { manager, client, events, errors } = setup(provider, callback);
  await client.chat.completions.create(chat('existing tracer'));
  await manager.flush();

  expect(initSpy).not.toHaveBeenCalled();
  expect(callback.state()).toMatchObject({ tracerSource: 'existing', initIgnored: true, pendingSpans: 0 });
  expect(errors).toEqual([]);
  const received = agent.llmObsSpans.find((s) => s.eventId === events[0]?.id);
  expect(received?.tags).toMatchObject({ ml_app: 'service-app', service: 'svc-own' });
  await manager.shutdown();
});

it('the tracer option with an initialised tracer is used as is', async () => {
  const callback = datadogCallback({ tracer, mlApp: 'other-app', flushTimeoutMs: 5_000 });
  const { manager, client, events } = setup(provider, callback);
  await client.chat.completions.create(chat('explicit tracer'));
  await manager.flush();
  expect(initSpy).not.toHaveBeenCalled();
  expect(callback.state()).toMatchObject({ tracerSource: 'existing', initIgnored: false });
  // Per-callback mlApp goes on the span without touching the tracer's configuration.
  expect(agent.llmObsSpans.find((s) => s.eventId === events[0]?.id)?.tags['ml_app']).toBe('other-app');
  await manager.shutdown();
});

it('a call made inside a service span is reported as its child in APM, sent by flush()', async () => {
  const callback = datadogCallback({ tracer, flushTimeoutMs: 5_000 });
  const { manager, client, events } = setup(provider, callback);
  let requestSpanId = '';
  await tracer.trace('web.request', async (span) => {
    requestSpanId = span?.context().toSpanId() ?? '';
    await client.chat.completions.create(chat('inside a request'));
  });
  await manager.flush();
  const llm = agent.llmObsSpans.find((s) => s.eventId === events[0]?.id);
  // The request span and the call's span form one finished trace: flush() sent it, no waiting.
  const apm = agent.apmSpans.find((s) => s.span_id === llm?.span.span_id);
  expect(apm?.parent_id).toBe(requestSpanId);
  await manager.shutdown();
});
