// The Langfuse callback end to end: the real openai client through wrapOpenAI against the fake
// OpenAI server, the real langfuse client against the fake Langfuse server (which validates every
// item against the ingestion schema). What lands, what is switched off, and what happens when
// Langfuse is down, failing, hanging or rejecting items.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Langfuse } from 'langfuse';
import { CONTENT_REDACTED } from '@llm-callbacks/core';
import { startFakeLangfuse, startFakeOpenAI, type FakeLangfuseServer, type FakeOpenAIServer } from '@llm-callbacks/testing';
import { langfuseCallback } from '../src/index.js';
import { chat, fastLangfuse, harness, type Harness } from './helpers.js';

const HEADER = 'x-litellm-disable-callbacks';
let provider: FakeOpenAIServer;
let langfuse: FakeLangfuseServer;
let h: Harness | undefined;

beforeAll(async () => {
  provider = await startFakeOpenAI();
  langfuse = await startFakeLangfuse();
});
afterAll(async () => {
  await langfuse.close();
  await provider.close();
});
beforeEach(() => {
  langfuse.reset();
});
afterEach(async () => {
  await h?.manager.shutdown({ timeoutMs: 5_000 });
  h = undefined;
});

describe('what lands in Langfuse', () => {
  it('a successful call: one trace and one generation with the call facts, Basic auth, schema-valid', async () => {
    h = harness(provider.url, [fastLangfuse(langfuse)]);
    const res = await h.openai.chat.completions.create(
      { ...chat('what is the capital of France?'), temperature: 0.2, max_tokens: 50 },
      { metadata: { userId: 'u-42', sessionId: 's-7', tags: ['search', 'eu'], team: 'geo' } },
    );
    await h.manager.flush();
    const event = h.events[0];
    expect(event?.status).toBe('success');
    if (!event) return;

    expect(langfuse.rejected).toEqual([]);
    expect(langfuse.requests.every((r) => r.authorized && r.headers['authorization']?.startsWith('Basic '))).toBe(true);
    expect(langfuse.items.map((i) => i.type).sort()).toEqual(['generation-create', 'trace-create']);

    const trace = langfuse.traces().get(event.id);
    expect(trace).toMatchObject({
      id: event.id,
      name: 'openai.chat.completions',
      userId: 'u-42',
      sessionId: 's-7',
      tags: ['search', 'eu'],
      metadata: { team: 'geo' },
      timestamp: new Date(event.startTime).toISOString(),
      input: [{ role: 'user', content: 'what is the capital of France?' }],
    });
    const generation = langfuse.observations().get(event.id);
    expect(generation).toMatchObject({
      type: 'GENERATION',
      traceId: event.id,
      model: event.model,
      modelParameters: { temperature: 0.2, max_tokens: 50 },
      input: [{ role: 'user', content: 'what is the capital of France?' }],
      output: { role: 'assistant', content: res.choices[0]?.message.content },
      startTime: new Date(event.startTime).toISOString(),
      endTime: new Date(event.endTime).toISOString(),
      level: 'DEFAULT',
      usageDetails: { input: event.usage?.promptTokens, output: event.usage?.completionTokens, total: event.usage?.totalTokens },
      usage: { input: event.usage?.promptTokens, output: event.usage?.completionTokens, unit: 'TOKENS' },
      metadata: { callType: 'chat.completions', stream: false },
    });
    expect(event.usage?.totalTokens).toBeGreaterThan(0);
    expect(h.errors).toEqual([]);
  });

  it('a failed call: level ERROR with the status and message, no output', async () => {
    h = harness(provider.url, [fastLangfuse(langfuse)]);
    await expect(h.openai.chat.completions.create(chat('x', 'error-400'))).rejects.toThrow();
    await h.manager.flush();
    const event = h.events[0];
    expect(event?.status).toBe('failure');
    const generation = langfuse.observations().get(event?.id ?? '');
    expect(generation?.['level']).toBe('ERROR');
    expect(generation?.['statusMessage']).toMatch(/^400 BadRequestError: Invalid request/);
    expect(generation?.['metadata']).toMatchObject({ error: { status: 400, name: 'BadRequestError' } });
    expect(generation?.['output']).toBeUndefined();
    expect(langfuse.traces().get(event?.id ?? '')?.['output']).toBeUndefined();
  });

  it('a streamed call lands once, with usage and the time to first token', async () => {
    h = harness(provider.url, [fastLangfuse(langfuse)]);
    const stream = await h.openai.chat.completions.create({ ...chat('stream me'), stream: true, stream_options: { include_usage: true } });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    await h.manager.flush();
    const event = h.events[0];
    if (!event) throw new Error('no event');
    expect(langfuse.receivedEventIds()).toEqual([event.id]);
    const generation = langfuse.observations().get(event.id);
    expect(generation?.['output']).toMatchObject({ content: text });
    expect(generation?.['usageDetails']).toEqual({ input: event.usage?.promptTokens, output: event.usage?.completionTokens, total: event.usage?.totalTokens });
    expect(event.timeToFirstTokenMs).toBeDefined();
    expect(generation?.['completionStartTime']).toBe(new Date(event.startTime + (event.timeToFirstTokenMs ?? 0)).toISOString());
    expect(generation?.['modelParameters']).toMatchObject({ stream: true });
  });

  it('calls sharing metadata.traceId land as generations of one trace', async () => {
    h = harness(provider.url, [fastLangfuse(langfuse)]);
    const metadata = { traceId: 'conversation-1', traceName: 'support chat' };
    await h.openai.chat.completions.create(chat('first'), { metadata });
    await h.openai.chat.completions.create(chat('second'), { metadata });
    await h.manager.flush();
    expect([...langfuse.traces().keys()]).toEqual(['conversation-1']);
    expect(langfuse.traces().get('conversation-1')?.['name']).toBe('support chat');
    const generations = [...langfuse.observations().values()];
    expect(generations.map((g) => g['traceId'])).toEqual(['conversation-1', 'conversation-1']);
    expect(generations.map((g) => g.id).sort()).toEqual(h.events.map((e) => e.id).sort());
  });

  it('embeddings: the texts in, a count and dimensions out, input tokens as usage', async () => {
    h = harness(provider.url, [fastLangfuse(langfuse)]);
    await h.openai.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] });
    await h.manager.flush();
    const event = h.events[0];
    const generation = langfuse.observations().get(event?.id ?? '');
    expect(generation).toMatchObject({
      name: 'openai.embeddings',
      input: ['alpha', 'beta'],
      output: { embeddings: 2, dimensions: expect.any(Number) as number },
      usageDetails: { input: event?.usage?.promptTokens, output: 0 },
    });
    expect(JSON.stringify(langfuse.items)).not.toContain('"embedding"');
  });

  it('responses: instructions and input as chat messages, the output text as the assistant message', async () => {
    h = harness(provider.url, [fastLangfuse(langfuse)]);
    const res = await h.openai.responses.create({ model: 'gpt-4o-mini', instructions: 'be brief', input: 'hello there' });
    await h.manager.flush();
    const generation = langfuse.observations().get(h.events[0]?.id ?? '');
    expect(generation).toMatchObject({
      name: 'openai.responses',
      input: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello there' },
      ],
      output: { role: 'assistant', content: res.output_text },
    });
    expect(generation?.['usageDetails']).toBeDefined();
  });

  it('redactMessages: no message content reaches Langfuse, usage, timing and metadata do', async () => {
    h = harness(provider.url, [fastLangfuse(langfuse, { redactMessages: true })]);
    await h.openai.chat.completions.create(chat('my card number is 4111'), { metadata: { userId: 'u-1' } });
    await h.manager.flush();
    const event = h.events[0];
    const raw = JSON.stringify(langfuse.requests.map((r) => r.body));
    expect(raw).not.toContain('4111');
    const generation = langfuse.observations().get(event?.id ?? '');
    expect(generation?.['input']).toEqual([{ role: 'user', content: CONTENT_REDACTED }]);
    expect(generation?.['output']).toMatchObject({ content: CONTENT_REDACTED });
    expect(generation?.['usageDetails']).toMatchObject({ total: event?.usage?.totalTokens });
    expect(langfuse.traces().get(event?.id ?? '')?.['userId']).toBe('u-1');
    // The caller's own event is untouched: redaction is a copy.
    expect(JSON.stringify(event?.request)).toContain('4111');
  });
});

describe('switching it off, and locks', () => {
  it('disabled by header or option: zero items at the server, the other callbacks still fire', async () => {
    h = harness(provider.url, [fastLangfuse(langfuse)]);
    await h.openai.chat.completions.create(chat('by header'), { headers: { [HEADER]: 'Langfuse' } });
    await h.openai.chat.completions.create(chat('by option'), { disableCallbacks: ['langfuse'] });
    await h.manager.flush();
    expect(h.events).toHaveLength(2);
    expect(langfuse.items).toEqual([]);
    expect(langfuse.requests).toEqual([]);
    expect(h.manager.stats().callbacks['langfuse']?.disabled).toBe(2);
    // The sink was live all along: the next call, not disabled, lands (and only that one).
    await h.openai.chat.completions.create(chat('not disabled'));
    await h.manager.flush();
    expect(langfuse.receivedEventIds()).toEqual([h.events[2]?.id]);
  });

  it('a locked manager delivers despite the header', async () => {
    h = harness(provider.url, [fastLangfuse(langfuse)], { allowDynamicCallbackDisabling: false });
    await h.openai.chat.completions.create(chat('locked'), { headers: { [HEADER]: 'langfuse' } });
    await h.manager.flush();
    expect(langfuse.receivedEventIds()).toEqual([h.events[0]?.id]);
  });

  it('two projects are two callbacks by name; disabling one leaves the other', async () => {
    const second = await startFakeLangfuse({ publicKey: 'pk-lf-second', secretKey: 'sk-lf-second' });
    try {
      h = harness(provider.url, [fastLangfuse(langfuse, { name: 'langfuse-team' }), fastLangfuse(second, { name: 'langfuse-audit' })]);
      expect(h.manager.list().success_and_failure).toEqual(['langfuse-team', 'langfuse-audit', 'recorder']);
      await h.openai.chat.completions.create(chat('audited only'), { headers: { [HEADER]: 'langfuse-team' } });
      await h.manager.flush();
      expect(langfuse.items).toEqual([]);
      expect(second.receivedEventIds()).toEqual([h.events[0]?.id]);
      expect(second.requests.every((r) => r.authorized)).toBe(true);
    } finally {
      await h?.manager.shutdown();
      await second.close();
    }
  });
});

describe('when Langfuse misbehaves, the caller never notices', () => {
  const expectCallerUnaffected = async (hx: Harness) => {
    const res = await hx.openai.chat.completions.create(chat('still works'));
    expect(res.choices[0]?.message.content).toBe('Echo: still works');
    const started = Date.now();
    const report = await hx.manager.flush({ timeoutMs: 10_000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    return report;
  };

  it('server down: callbackError and a gave-up drop, flush returns', async () => {
    const down = await startFakeLangfuse();
    await down.close();
    h = harness(provider.url, [fastLangfuse(down)]);
    await expectCallerUnaffected(h);
    expect(h.errors.length).toBeGreaterThan(0);
    expect(h.errors.every((e) => e.callback === 'langfuse' && e.hook === 'delivery')).toBe(true);
    expect(h.errors[0]?.error.message).toMatch(/upload of 2 items failed/);
    expect(h.dropped).toEqual([{ callback: 'langfuse', eventId: h.events[0]?.id, reason: 'gave-up' }]);
  });

  it('HTTP 500 on every attempt: one callbackError per attempt, then given up', async () => {
    langfuse.fail('status-500');
    h = harness(provider.url, [fastLangfuse(langfuse)]);
    await expectCallerUnaffected(h);
    const attempts = langfuse.requests.length;
    expect(attempts).toBe(2); // maxRetries: 1
    expect(h.errors.filter((e) => /HTTP 500/.test(e.error.message))).toHaveLength(attempts);
    expect(h.dropped.map((d) => d.eventId)).toEqual([h.events[0]?.id]);
    expect(langfuse.items).toEqual([]);
  });

  it('hanging server: the request times out, callbackError, flush still returns within its bound', async () => {
    langfuse.fail('hang');
    h = harness(provider.url, [fastLangfuse(langfuse)]);
    await expectCallerUnaffected(h);
    expect(h.errors.some((e) => /no answer in time/.test(e.error.message))).toBe(true);
    expect(h.dropped).toHaveLength(1);
  });

  it('207 with errors for every item: callbackError naming the rejection, then given up', async () => {
    langfuse.fail('207-errors');
    h = harness(provider.url, [fastLangfuse(langfuse)]);
    await expectCallerUnaffected(h);
    expect(h.errors.some((e) => /rejected 2 of 2 items \(HTTP 207\)/.test(e.error.message))).toBe(true);
    expect(h.dropped.map((d) => d.reason)).toEqual(['gave-up']);
  });

  it('one failed attempt then success: reported, retried by the client, delivered, nothing dropped', async () => {
    langfuse.fail('status-500', 1);
    h = harness(provider.url, [fastLangfuse(langfuse)]);
    await expectCallerUnaffected(h);
    expect(h.errors).toHaveLength(1);
    expect(h.dropped).toEqual([]);
    expect(langfuse.receivedEventIds()).toEqual([h.events[0]?.id]);
  });

  it('items the server rejects as invalid are reported, not retried into success', async () => {
    // An environment Langfuse refuses: the client sends it, the schema check rejects every item.
    const client = new Langfuse({ ...langfuse.clientOptions, environment: 'langfuse-internal', fetchRetryCount: 0, flushInterval: 20 });
    h = harness(provider.url, [langfuseCallback({ client, flushTimeoutMs: 3_000 })]);
    await expectCallerUnaffected(h);
    expect(langfuse.rejected.length).toBe(2);
    expect(langfuse.rejected[0]?.issues.join()).toMatch(/body\.environment/);
    expect(h.errors.some((e) => /Invalid request data/.test(e.error.message))).toBe(true);
    expect(h.dropped).toHaveLength(1);
    await client.shutdownAsync();
  });
});

describe('flush and shutdown', () => {
  it('flush() resolves only once Langfuse accepted everything: 40 calls over several batches', async () => {
    h = harness(provider.url, [fastLangfuse(langfuse, { flushIntervalMs: 60_000 })]);
    await Promise.all(Array.from({ length: 40 }, (_, i) => h?.openai.chat.completions.create(chat(`burst ${i}`))));
    await h.manager.flush();
    expect(new Set(langfuse.receivedEventIds())).toEqual(new Set(h.events.map((e) => e.id)));
    expect(langfuse.items).toHaveLength(80);
    // 80 items at 15 a batch: the client's own flushAsync() would have sent only the first batch.
    expect(langfuse.requests.length).toBeGreaterThanOrEqual(6);
  });

  it('a slow Langfuse: flush() waits for its answer, and everything is there when it resolves', async () => {
    langfuse.setLatency(300);
    // flushAt 2: each call's items are uploaded as soon as they are queued, so at flush() time the
    // client's queue is empty while the uploads still wait for their answer (its flushAsync() would
    // resolve right away here).
    h = harness(provider.url, [fastLangfuse(langfuse, { requestTimeoutMs: 5_000, flushAt: 2 })]);
    await Promise.all(Array.from({ length: 5 }, (_, i) => h?.openai.chat.completions.create(chat(`slow ${i}`))));
    const report = await h.manager.flush();
    expect(report.complete).toBe(true);
    expect(new Set(langfuse.receivedEventIds())).toEqual(new Set(h.events.map((e) => e.id)));
    expect(langfuse.requests.every((r) => r.status === 207)).toBe(true);
    expect(h.errors).toEqual([]);
  });

  it('large calls: batches the client splits at its 2.5 MB limit are all confirmed, nothing wrongly dropped', async () => {
    // 2.5 MB uploads: give each the time a loaded 2-core CI machine needs (the FAST 1 s is for failures).
    h = harness(provider.url, [fastLangfuse(langfuse, { flushIntervalMs: 60_000, requestTimeoutMs: 15_000, flushTimeoutMs: 40_000 })]);
    const big = 'x'.repeat(200_000);
    await Promise.all(Array.from({ length: 10 }, (_, i) => h?.openai.chat.completions.create(chat(`${i} ${big}`))));
    const report = await h.manager.flush();
    expect(report.complete).toBe(true);
    expect(h.dropped).toEqual([]);
    expect(h.errors).toEqual([]);
    expect(new Set(langfuse.receivedEventIds())).toEqual(new Set(h.events.map((e) => e.id)));
    // 20 items of ~400 kB: more than one upload, each under the client's batch limit.
    expect(langfuse.requests.length).toBeGreaterThan(2);
  });

  it('flush() then shutdown() deliver everything queued; shutdown is bounded and final', async () => {
    const callback = fastLangfuse(langfuse, { flushIntervalMs: 60_000 });
    h = harness(provider.url, [callback]);
    await h.openai.chat.completions.create(chat('one'));
    await h.manager.flush();
    expect(langfuse.receivedEventIds()).toHaveLength(1);
    await Promise.all([h.openai.chat.completions.create(chat('two')), h.openai.chat.completions.create(chat('three'))]);
    const started = Date.now();
    const report = await h.manager.shutdown({ timeoutMs: 5_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(report.pending).toBe(0);
    expect(new Set(langfuse.receivedEventIds())).toEqual(new Set(h.events.map((e) => e.id)));
    expect(h.dropped).toEqual([]);
    h = undefined;
  });

  it('shutdown() against a hanging server is bounded by shutdownTimeoutMs and reports the drop', async () => {
    langfuse.fail('hang');
    h = harness(provider.url, [fastLangfuse(langfuse, { maxRetries: 5, requestTimeoutMs: 10_000, shutdownTimeoutMs: 500 })]);
    await h.openai.chat.completions.create(chat('never confirmed'));
    const started = Date.now();
    await h.manager.shutdown({ timeoutMs: 5_000 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(h.dropped.map((d) => d.eventId)).toEqual([h.events[0]?.id]);
    expect(h.errors.some((e) => /shutdownTimeoutMs/.test(e.error.message))).toBe(true);
    h = undefined;
  });
});

describe('an existing client', () => {
  it('is used as given, and handed back untouched on shutdown', async () => {
    const client = new Langfuse({ ...langfuse.clientOptions, flushAt: 1, fetchRetryCount: 0 });
    const callback = langfuseCallback({ client });
    expect(callback.client).toBe(client);
    h = harness(provider.url, [callback]);
    await h.openai.chat.completions.create(chat('through my client'));
    await h.manager.flush();
    expect(langfuse.receivedEventIds()).toEqual([h.events[0]?.id]);
    await h.manager.shutdown();
    h = undefined;
    // The client still works for its owner after the callback is gone.
    expect(Object.prototype.hasOwnProperty.call(client, 'fetch') ? client.fetch : undefined).toBe(Langfuse.prototype.fetch);
    client.trace({ id: 'owner-trace', name: 'mine' });
    await client.shutdownAsync();
    expect(langfuse.traces().has('owner-trace')).toBe(true);
  });

  it('a client that samples calls out does not make flush() wait for them', async () => {
    const client = new Langfuse({ ...langfuse.clientOptions, sampleRate: 0.000001 });
    h = harness(provider.url, [langfuseCallback({ client, flushTimeoutMs: 10_000 })]);
    await h.openai.chat.completions.create(chat('sampled out'));
    const started = Date.now();
    const report = await h.manager.flush();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(report.complete).toBe(true);
    expect(langfuse.items).toEqual([]);
    expect(h.errors).toEqual([]);
  });
});
