// The fake Datadog agent's schema check must be able to fail: malformed LLM Observability payloads
// (including the failure-span shape the intake refused from LiteLLM: null error fields, and root
// spans of a kind that cannot be a root) are answered 400 and recorded as rejected, never accepted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDatadogAgent, validateLlmObsSpan, type FakeDatadogAgent } from '@llm-callbacks/testing';

const now = Date.now();
const validSpan = () => ({
  trace_id: '6b11bd410000000037b3eb14d4771606',
  span_id: '2313745697764060500',
  parent_id: 'undefined',
  name: 'llm.chat.completions',
  tags: ['ml_app:shop-bot', 'service:shop', 'env:test', 'error:0'],
  start_ns: (now - 2_000) * 1e6,
  duration: 1_500_000_000,
  status: 'ok',
  meta: {
    'span.kind': 'llm',
    model_name: 'gpt-4o-mini',
    model_provider: 'openai',
    input: { messages: [{ role: 'user', content: 'hi' }] },
    output: { messages: [{ role: 'assistant', content: 'hello' }] },
    metadata: { event_id: 'evt-1' },
  },
  metrics: { input_tokens: 3, output_tokens: 2, total_tokens: 5 },
});
const payload = (span: unknown) => [{ '_dd.stage': 'raw', '_dd.tracer_version': '5.132.0', event_type: 'span', spans: [span] }];

let agent: FakeDatadogAgent;
const post = (body: unknown, headers: Record<string, string> = { 'X-Datadog-EVP-Subdomain': 'llmobs-intake' }) =>
  fetch(`${agent.url}/evp_proxy/v2/api/v2/llmobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

beforeAll(async () => {
  agent = await startFakeDatadogAgent();
});
afterAll(async () => {
  await agent.close();
});

describe('fake Datadog agent', () => {
  it('lists /evp_proxy/v2/ in /info, so dd-trace stays in agent mode', async () => {
    const info = (await (await fetch(`${agent.url}/info`)).json()) as { endpoints: string[] };
    expect(info.endpoints).toContain('/evp_proxy/v2/');
  });

  it('accepts a well-formed span (202) and records it with its event id', async () => {
    const res = await post(payload(validSpan()));
    expect(res.status).toBe(202);
    expect(agent.eventIds()).toEqual(['evt-1']);
    expect(agent.summary().lines).toEqual(['llm.chat.completions ok openai/gpt-4o-mini 5 tokens event evt-1']);
  });

  it('refuses a malformed span with 400 and records nothing of it', async () => {
    agent.reset();
    const span = validSpan() as Record<string, unknown>;
    delete span['span_id'];
    (span['meta'] as Record<string, unknown>)['span.kind'] = 'chat';
    const res = await post(payload(span));
    expect(res.status).toBe(400);
    expect(agent.llmObsSpans).toEqual([]);
    expect(agent.rejected[0]?.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/span_id is required/), expect.stringMatching(/meta.kind must be one of/)]),
    );
  });

  it('refuses a failure span with null error fields (the shape the intake refused from LiteLLM)', async () => {
    const span = { ...validSpan(), status: 'error', meta: { ...validSpan().meta, error: { message: 'Bad Request', type: null, stack: null } } };
    expect(validateLlmObsSpan(span)).toEqual(
      expect.arrayContaining([expect.stringMatching(/error.type"\] must be a string, got null/), expect.stringMatching(/needs meta\["error.type"\]/)]),
    );
    expect((await post(payload(span))).status).toBe(400);
    const flat = {
      ...validSpan(),
      status: 'error',
      meta: { ...validSpan().meta, 'error.message': 'Bad Request', 'error.type': 'BadRequestError', 'error.stack': 'BadRequestError: Bad Request' },
    };
    expect(validateLlmObsSpan(flat)).toEqual([]);
  });

  it('refuses root spans of a kind that cannot be a root, times not in nanoseconds, bad ml_app, tags that are not strings, and a missing EVP header', async () => {
    expect(validateLlmObsSpan({ ...validSpan(), meta: { ...validSpan().meta, 'span.kind': 'tool' } })).toEqual([
      expect.stringMatching(/root span .* must be of kind llm, workflow or agent/),
    ]);
    expect(validateLlmObsSpan({ ...validSpan(), start_ns: now })).toEqual([expect.stringMatching(/more than 24 hours old/)]);
    expect(validateLlmObsSpan({ ...validSpan(), tags: ['ml_app:Shop Bot'] })).toEqual([expect.stringMatching(/lowercase/)]);
    expect(validateLlmObsSpan({ ...validSpan(), tags: ['ml_app:x', 42] })).toEqual([expect.stringMatching(/tags must be an array of "key:value" strings/)]);
    expect(validateLlmObsSpan({ ...validSpan(), metrics: { input_tokens: '3' } })).toEqual([
      expect.stringMatching(/metrics.input_tokens must be a finite number/),
    ]);
    expect(validateLlmObsSpan({ ...validSpan(), meta: { ...validSpan().meta, input: { messages: [{ role: 'user', content: null }] } } })).toEqual([
      expect.stringMatching(/content is required and must be a string/),
    ]);
    expect((await post(payload(validSpan()), {})).status).toBe(400);
  });
});
