// The Datadog adapter end to end: the real openai client through wrapOpenAI against the fake
// OpenAI server, the real dd-trace 5 (initialised here by the adapter's `init` option) against the
// fake Datadog agent, which checks every LLM Observability span against Datadog's span schema.
// This file runs in its own child process (vitest forks pool), so dd-trace's global state stays here.
import './helpers/dd-env.js';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONTENT_REDACTED, type CallbackManager } from '@llm-callbacks/core';
import { startFakeDatadogAgent, startFakeOpenAI, type FakeDatadogAgent, type FakeOpenAIServer, type ReceivedLlmObsSpan } from '@llm-callbacks/testing';
import { datadogCallback, type DatadogCallback } from '../src/index.js';
import { chat, setup } from './helpers/harness.js';

const HEADER = 'x-litellm-disable-callbacks';
let agent: FakeDatadogAgent;
let provider: FakeOpenAIServer;
const managers: CallbackManager[] = [];

function adapter(extra: Parameters<typeof datadogCallback>[0] = {}): DatadogCallback {
  return datadogCallback({
    init: { url: agent.url, flushInterval: 0 },
    mlApp: 'dd-test-app',
    service: 'checkout',
    env: 'test',
    tags: { team: 'core' },
    flushTimeoutMs: 5_000,
    ...extra,
  });
}

function harness(extra: Parameters<typeof datadogCallback>[0] = {}, options: { allowDynamicCallbackDisabling?: boolean } = {}) {
  const callback = adapter(extra);
  const h = setup(provider, callback, options);
  managers.push(h.manager);
  return { ...h, callback };
}

const spanOf = (eventId: string | undefined): ReceivedLlmObsSpan => {
  const found = agent.llmObsSpans.find((s) => s.eventId === eventId);
  if (!found) throw new Error(`no LLM Observability span for event ${String(eventId)}; agent: ${JSON.stringify(agent.summary())}`);
  return found;
};

beforeAll(async () => {
  agent = await startFakeDatadogAgent();
  provider = await startFakeOpenAI();
});
afterAll(async () => {
  await provider.close();
  await agent.close();
});
beforeEach(() => {
  agent.reset();
});
afterEach(async () => {
  for (const m of managers.splice(0)) await m.shutdown({ timeoutMs: 10_000 });
});

describe('datadog callback: a successful call', () => {
  it("sends one llm span with the call's real start, duration, messages, model and token metrics; flush() resolves only once the agent has it", async () => {
    const { manager, client, events, errors, callback } = harness();
    const res = await client.chat.completions.create(chat('hello datadog'));
    expect(res.choices[0]?.message.content).toBe('Echo: hello datadog');
    await manager.flush();

    const event = events[0];
    expect(event?.status).toBe('success');
    // Present as soon as flush() resolved: no waiting here.
    const { span, tags } = spanOf(event?.id);
    expect(callback.state()).toMatchObject({ tracerSource: 'initialised', pendingSpans: 0 });
    expect(agent.rejected).toEqual([]);
    expect(errors).toEqual([]);

    expect(span.meta['span.kind']).toBe('llm');
    expect(span.name).toBe('llm.chat.completions');
    expect(span.parent_id).toBe('undefined');
    expect(span.status).toBe('ok');
    expect(span.meta['model_name']).toBe(event?.model);
    expect(span.meta['model_provider']).toBe(event?.provider);
    expect(span.meta['input']).toEqual({ messages: [{ role: 'user', content: 'hello datadog' }] });
    expect(span.meta['output']).toEqual({ messages: [{ role: 'assistant', content: 'Echo: hello datadog' }] });
    expect(span.metrics).toMatchObject({
      input_tokens: event?.usage?.promptTokens,
      output_tokens: event?.usage?.completionTokens,
      total_tokens: event?.usage?.totalTokens,
    });
    // The call's own timing, not the time the event reached the callback.
    expect(span.start_ns).toBe(Math.round((event?.startTime ?? 0) * 1e6));
    expect(span.duration).toBe(Math.round(((event?.endTime ?? 0) - (event?.startTime ?? 0)) * 1e6));
    expect(tags).toMatchObject({ ml_app: 'dd-test-app', service: 'checkout', env: 'test', team: 'core', error: '0' });
    expect(span.meta['metadata']).toMatchObject({ event_id: event?.id, call_type: 'chat.completions', stream: false });
  });

  it('the matching APM span reaches /v0.4/traces with the same span id, service and timing', async () => {
    const { manager, client, events } = harness();
    await client.chat.completions.create(chat('apm please'));
    await manager.flush();
    const { span } = spanOf(events[0]?.id);
    // APM spans go on dd-trace's own exporter schedule (flushInterval 0 here): wait for them.
    await agent.waitFor((a) => a.apmSpans.some((s) => s.span_id === span.span_id));
    const apm = agent.apmSpans.find((s) => s.span_id === span.span_id);
    expect(apm).toMatchObject({ name: 'llm.chat.completions', service: 'checkout', error: 0 });
    expect(apm?.meta['env']).toBe('test');
    expect(apm?.start).toBe(BigInt(Math.round((events[0]?.startTime ?? 0) * 1e6)));
  });

  it('turns on no automatic instrumentation: the openai HTTP calls produce no APM spans of their own', async () => {
    const { manager, client } = harness();
    await client.chat.completions.create(chat('only mine'));
    await client.embeddings.create({ model: 'text-embedding-3-small', input: 'vectors' });
    await manager.flush();
    await agent.waitFor((a) => a.apmSpans.length >= 2);
    expect(agent.apmSpans.map((s) => s.name).sort()).toEqual(['llm.chat.completions', 'llm.embeddings']);
  });

  it('puts user, session and tags where Datadog expects them', async () => {
    const { manager, client, events } = harness();
    await client.chat.completions.create(chat('with metadata'), { metadata: { userId: 'u-42', sessionId: 's-7', tags: ['search', 'tier:gold'], plan: 'pro' } });
    await manager.flush();
    const { span, tags } = spanOf(events[0]?.id);
    expect(span.session_id).toBe('s-7');
    expect(span.tags).toEqual(expect.arrayContaining(['user_id:u-42', 'session_id:s-7', 'tag:search', 'tier:gold', 'team:core']));
    expect(tags['ml_app']).toBe('dd-test-app');
    expect(span.meta['metadata']).toMatchObject({ user_metadata: { plan: 'pro' } });
  });

  it('flush() waits for every queued span: 12 calls, all at the agent when it resolves', async () => {
    const { manager, client, events, callback } = harness();
    await Promise.all(Array.from({ length: 12 }, (_, i) => client.chat.completions.create(chat(`burst ${i}`))));
    await manager.flush();
    expect(events).toHaveLength(12);
    const ids = new Set(agent.eventIds());
    expect(events.filter((e) => ids.has(e.id))).toHaveLength(12);
    expect(callback.state().pendingSpans).toBe(0);
  });
});

describe('datadog callback: failures and streams', () => {
  it('a failed call becomes an error span the intake accepts: status error and string error.message, error.type, error.stack', async () => {
    const { manager, client, events, errors } = harness();
    const failure = await client.chat.completions.create(chat('bad', 'error-400')).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
    await manager.flush();
    expect(agent.rejected).toEqual([]);
    expect(errors).toEqual([]);
    const { span, tags } = spanOf(events[0]?.id);
    expect(events[0]?.status).toBe('failure');
    expect(span.status).toBe('error');
    expect(events[0]?.error?.name).toEqual(expect.any(String));
    expect(span.meta['error.type']).toBe(events[0]?.error?.name);
    expect(span.meta['error.message']).toBe(events[0]?.error?.message);
    expect(span.meta['error.stack']).toEqual(expect.stringContaining('status 400'));
    expect(span.meta['output']).toEqual({});
    expect(tags).toMatchObject({ error: '1', error_type: events[0]?.error?.name });
  });

  it('a streamed call is one span with the assembled output and time to first token (seconds)', async () => {
    const { manager, client, events } = harness();
    const stream = await client.chat.completions.create({ ...chat('stream to datadog'), stream: true, stream_options: { include_usage: true } });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    await manager.flush();
    const matching = agent.llmObsSpans.filter((s) => s.eventId === events[0]?.id);
    expect(matching).toHaveLength(1);
    const span = matching[0]?.span;
    expect(span?.meta['output']).toEqual({ messages: [{ role: 'assistant', content: text }] });
    expect(span?.meta['metadata']).toMatchObject({ stream: true, stream_end: 'completed' });
    expect(span?.metrics?.['time_to_first_token']).toBeCloseTo((events[0]?.timeToFirstTokenMs ?? -1) / 1000, 6);
    expect(span?.metrics?.['total_tokens']).toBe(events[0]?.usage?.totalTokens);
  });
});

describe('datadog callback: disabling and locks', () => {
  it('disabled by header or option (any case): nothing reaches the agent for those calls', async () => {
    const { manager, client, events } = harness();
    await client.chat.completions.create(chat('by header'), { headers: { [HEADER]: 'DataDog' } });
    await client.chat.completions.create(chat('by option'), { disableCallbacks: ['datadog'] });
    // A third, enabled call: once it has arrived, anything sent before it would have arrived too.
    await client.chat.completions.create(chat('enabled'));
    await manager.flush();
    expect(events.map((e) => e.disabledCallbacks)).toEqual([['datadog'], ['datadog'], []]);
    expect(agent.eventIds()).toEqual([events[2]?.id]);
    expect(agent.llmObsSpans).toHaveLength(1);
  });

  it('a locked manager sends the span despite the header and the option', async () => {
    const { manager, client, events } = harness({}, { allowDynamicCallbackDisabling: false });
    await client.chat.completions.create(chat('locked'), { headers: { [HEADER]: 'datadog' }, disableCallbacks: 'datadog' });
    await manager.flush();
    expect(agent.eventIds()).toEqual([events[0]?.id]);
  });
});

describe('datadog callback: redaction', () => {
  it('redactMessages drops prompts and completions but keeps model, metrics and errors', async () => {
    const { manager, client, events } = harness({ redactMessages: true });
    await client.chat.completions.create(chat('secret prompt'));
    await manager.flush();
    const { span } = spanOf(events[0]?.id);
    const sent = JSON.stringify(span);
    expect(sent).not.toContain('secret prompt');
    expect(span.meta['input']).toEqual({ messages: [{ role: 'user', content: CONTENT_REDACTED }] });
    expect(span.meta['output']).toEqual({ messages: [{ role: 'assistant', content: CONTENT_REDACTED }] });
    expect(span.metrics?.['total_tokens']).toBe(events[0]?.usage?.totalTokens);
    expect(span.meta['model_name']).toBe(events[0]?.model);

    // A failure keeps its error fields (the intake needs them) while its prompt is dropped.
    await client.chat.completions.create(chat('secret failing prompt', 'error-400')).catch(() => undefined);
    await manager.flush();
    expect(agent.rejected).toEqual([]);
    const failed = spanOf(events[1]?.id).span;
    expect(JSON.stringify(failed)).not.toContain('secret failing prompt');
    expect(failed.status).toBe('error');
    expect(failed.meta['error.message']).toBe(events[1]?.error?.message);
    expect(failed.meta['error.type']).toBe(events[1]?.error?.name);
  });
});
