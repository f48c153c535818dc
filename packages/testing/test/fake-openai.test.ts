// Tests for the fake OpenAI server, driven through the real `openai` client so that any protocol
// mismatch (framing, field names, pagination, error bodies) shows up as a client failure here.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { APIConnectionTimeoutError, APIError, AuthenticationError, BadRequestError, InternalServerError, NotFoundError, RateLimitError } from 'openai';
import { startFakeOpenAI } from '../src/index.js';
import type { FakeOpenAIServer, RecordedRequest } from '../src/index.js';

let server: FakeOpenAIServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startFakeOpenAI();
  client = new OpenAI({ apiKey: 'sk-test', baseURL: server.url });
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  server.reset();
});

const user = (content: string): OpenAI.Chat.ChatCompletionMessageParam => ({ role: 'user', content });

function onlyRequest(): RecordedRequest {
  expect(server.requests).toHaveLength(1);
  const req = server.requests[0];
  if (!req) throw new Error('no request recorded');
  return req;
}

async function waitFor(predicate: () => boolean, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function catchError(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('chat completions', () => {
  it('answers a realistic chat.completion echoing the last user message', async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'system', content: 'be brief' }, user('first'), { role: 'assistant', content: 'ok' }, user('Hello there')],
      })
      .withResponse();
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('gpt-4o-mini');
    expect(typeof data.created).toBe('number');
    expect(data.system_fingerprint).toMatch(/^fp_/);
    expect(data.choices).toHaveLength(1);
    expect(data.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Echo: Hello there', refusal: null });
    expect(data.choices[0]?.finish_reason).toBe('stop');
    const usage = data.usage;
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);

    const req = onlyRequest();
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.body).toMatchObject({ model: 'gpt-4o-mini' });
    expect(JSON.parse(req.rawBody)).toEqual(req.body);
    expect(req.status).toBe(200);
  });

  it('reads content-part arrays and returns n distinct choices', async () => {
    const res = await client.chat.completions.create({
      model: 'gpt-4o',
      n: 2,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'part one' },
            { type: 'text', text: 'part two' },
          ],
        },
      ],
    });
    expect(res.choices.map((c) => [c.index, c.message.content])).toEqual([
      [0, 'Echo: part one part two'],
      [1, 'Echo: part one part two (2)'],
    ]);
  });

  it('streams role, word chunks and finish_reason, without usage unless asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [user('one two three')],
      stream: true,
    });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Echo: one two three');
    const contentChunks = chunks.filter((c) => (c.choices[0]?.delta.content ?? '') !== '');
    expect(contentChunks.length).toBe(4);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices[0]?.delta).toEqual({});
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && !('usage' in c))).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(onlyRequest().status).toBe(200);
  });

  it('sends a final usage chunk only with stream_options.include_usage', async () => {
    const { data: stream, response } = await client.chat.completions
      .create({
        model: 'gpt-4o-mini',
        messages: [user('count me')],
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.total_tokens).toBe((last?.usage?.prompt_tokens ?? 0) + (last?.usage?.completion_tokens ?? 0));
    expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('works with the client stream helper (finalChatCompletion)', async () => {
    const runner = client.chat.completions.stream({ model: 'gpt-4o-mini', messages: [user('helper test')] });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe('Echo: helper test');
  });

  it('tool-call scenario returns one get_weather call (non-stream)', async () => {
    const res = await client.chat.completions.create({ model: 'tool-call', messages: [user('weather?')] });
    const choice = res.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    const call = choice?.message.tool_calls?.[0];
    expect(choice?.message.tool_calls).toHaveLength(1);
    expect(call?.type).toBe('function');
    expect(call?.id).toMatch(/^call_/);
    if (call?.type !== 'function') throw new Error('expected a function tool call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
  });

  it('tool-call scenario streams split arguments with id/name only on the first delta', async () => {
    const stream = await client.chat.completions.create({ model: 'tool-call', messages: [user('weather?')], stream: true });
    const deltas: OpenAI.Chat.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) deltas.push(tc);
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas[0]?.id).toMatch(/^call_/);
    expect(deltas[0]?.type).toBe('function');
    expect(deltas[0]?.function?.name).toBe('get_weather');
    expect(deltas.slice(1).every((d) => d.id === undefined && d.type === undefined && d.function?.name === undefined)).toBe(true);
    expect(deltas.every((d) => d.index === 0)).toBe(true);
    expect(deltas.map((d) => d.function?.arguments ?? '').join('')).toBe('{"city":"Paris"}');

    const final = await client.chat.completions.stream({ model: 'tool-call', messages: [user('weather?')] }).finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    if (call?.type !== 'function') throw new Error('expected a function tool call');
    expect(call.function.arguments).toBe('{"city":"Paris"}');
  });
});

describe('responses', () => {
  it('answers a realistic response object for string input', async () => {
    const res = await client.responses.create({ model: 'gpt-4o-mini', input: 'Hi responses' });
    expect(res.id).toMatch(/^resp_/);
    expect(res.object).toBe('response');
    expect(res.status).toBe('completed');
    expect(res.model).toBe('gpt-4o-mini');
    expect(res.output_text).toBe('Echo: Hi responses');
    expect(res.error).toBeNull();
    expect(res.output[0]).toMatchObject({ type: 'message', status: 'completed', role: 'assistant' });
    expect(res.usage?.input_tokens).toBeGreaterThan(0);
    expect(res.usage?.output_tokens).toBeGreaterThan(0);
    expect(res.usage?.total_tokens).toBe((res.usage?.input_tokens ?? 0) + (res.usage?.output_tokens ?? 0));
    expect(res.usage?.input_tokens_details.cached_tokens).toBe(0);
    expect(res.usage?.output_tokens_details.reasoning_tokens).toBe(0);
  });

  it('reads the last user message from array input', async () => {
    const res = await client.responses.create({
      model: 'gpt-4o-mini',
      input: [
        { role: 'user', content: 'old' },
        { role: 'assistant', content: 'reply' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'newest question' }] },
      ],
    });
    expect(res.output_text).toBe('Echo: newest question');
  });

  it('streams the real event sequence with sequence numbers', async () => {
    const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'a b c', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(types.filter((t) => t === 'response.output_text.delta').length).toBe(4);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    let text = '';
    for (const e of events) if (e.type === 'response.output_text.delta') text += e.delta;
    expect(text).toBe('Echo: a b c');
    const done = events.find((e) => e.type === 'response.output_text.done');
    expect(done?.type === 'response.output_text.done' ? done.text : undefined).toBe('Echo: a b c');
    const completed = events.at(-1);
    if (completed?.type !== 'response.completed') throw new Error('expected response.completed last');
    expect(completed.response.status).toBe('completed');
    expect(completed.response.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('works with the client stream helper (finalResponse)', async () => {
    const final = await client.responses.stream({ model: 'gpt-4o-mini', input: 'helper' }).finalResponse();
    expect(final.output_text).toBe('Echo: helper');
  });

  it('tool-call scenario yields a function_call item', async () => {
    const res = await client.responses.create({ model: 'tool-call', input: 'weather?' });
    const item = res.output[0];
    if (item?.type !== 'function_call') throw new Error('expected a function_call item');
    expect(item.name).toBe('get_weather');
    expect(JSON.parse(item.arguments)).toEqual({ city: 'Paris' });

    const final = await client.responses.stream({ model: 'tool-call', input: 'weather?' }).finalResponse();
    const streamed = final.output[0];
    if (streamed?.type !== 'function_call') throw new Error('expected a function_call item');
    expect(streamed.arguments).toBe('{"city":"Paris"}');
  });

  it('error scenarios apply', async () => {
    const err = await catchError(() => client.responses.create({ model: 'error-400', input: 'x' }));
    expect(err).toBeInstanceOf(BadRequestError);
  });
});

describe('embeddings', () => {
  it('answers base64 by default, which the client decodes to number arrays', async () => {
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] });
    expect(onlyRequest().body).toMatchObject({ encoding_format: 'base64' });
    expect(res.object).toBe('list');
    expect(res.data.map((d) => [d.object, d.index])).toEqual([
      ['embedding', 0],
      ['embedding', 1],
    ]);
    const first = res.data[0]?.embedding ?? [];
    expect(first).toHaveLength(8);
    expect(first.every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
    expect(Math.hypot(...first)).toBeCloseTo(1, 5);
    expect(res.data[1]?.embedding).not.toEqual(first);
    expect(res.usage.prompt_tokens).toBeGreaterThan(0);
    expect(res.usage.total_tokens).toBe(res.usage.prompt_tokens);

    server.reset();
    const float = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'alpha', encoding_format: 'float' });
    expect(float.data[0]?.embedding).toEqual(first);
  });

  it('honours dimensions and token-array input', async () => {
    const res = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: [
        [1, 2, 3],
        [4, 5],
      ],
      dimensions: 4,
      encoding_format: 'float',
    });
    expect(res.data.map((d) => d.embedding.length)).toEqual([4, 4]);
    expect(res.usage.prompt_tokens).toBe(5);
  });
});

describe('legacy completions', () => {
  it('answers text_completion objects', async () => {
    const res = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hi' });
    expect(res.id).toMatch(/^cmpl-/);
    expect(res.object).toBe('text_completion');
    expect(res.choices[0]?.text).toBe('Echo: Say hi');
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.usage?.total_tokens).toBe((res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0));
  });

  it('streams text pieces, then usage when asked', async () => {
    const stream = await client.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say hi please',
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Completions.Completion[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe('Echo: Say hi please');
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBeGreaterThan(0);
  });
});

describe('models and files', () => {
  it('lists and retrieves models', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toHaveLength(3);
    const model = await client.models.retrieve('gpt-4o');
    expect(model).toMatchObject({ id: 'gpt-4o', object: 'model' });
    const err = await catchError(() => client.models.retrieve('no-such-model'));
    expect(err).toBeInstanceOf(NotFoundError);
  });

  it('auto-paginates files over 3 requests', async () => {
    const ids: string[] = [];
    for await (const file of client.files.list({ limit: 2 })) ids.push(file.id);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
    expect(server.requests.map((r) => r.query)).toEqual([{ limit: '2' }, { limit: '2', after: ids[1] }, { limit: '2', after: ids[3] }]);
    const page = await client.files.list({ limit: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.has_more).toBe(true);
  });
});

describe('error scenarios', () => {
  const cases = [
    { model: 'error-400', cls: BadRequestError, status: 400, attempts: 1, code: null },
    { model: 'error-401', cls: AuthenticationError, status: 401, attempts: 1, code: 'invalid_api_key' },
    { model: 'error-404', cls: NotFoundError, status: 404, attempts: 1, code: 'model_not_found' },
    { model: 'error-429', cls: RateLimitError, status: 429, attempts: 3, code: 'rate_limit_exceeded' },
    { model: 'error-500', cls: InternalServerError, status: 500, attempts: 3, code: null },
  ] as const;

  for (const c of cases) {
    it(`${c.model} gives ${c.cls.name} after ${c.attempts} attempt(s)`, async () => {
      const err = await catchError(() => client.chat.completions.create({ model: c.model, messages: [user('x')] }));
      expect(err).toBeInstanceOf(c.cls);
      if (!(err instanceof APIError)) throw new Error('expected an APIError');
      expect(err.status).toBe(c.status);
      expect(err.code).toBe(c.code);
      expect(err.param).toBeNull();
      expect(typeof err.type).toBe('string');
      expect(err.requestID).toMatch(/^req_/);
      expect(server.requests).toHaveLength(c.attempts);
      expect(server.requests.map((r) => r.headers['x-stainless-retry-count'])).toEqual(Array.from({ length: c.attempts }, (_, i) => String(i)));
      expect(server.requests.every((r) => r.status === c.status)).toBe(true);
      // 429/5xx carry a 1 ms retry hint so the client's retries do not slow the suite down.
      expect(err.headers?.get('retry-after-ms') ?? null).toBe(c.attempts > 1 ? '1' : null);
    });
  }

  it('error scenarios apply to embeddings and completions too', async () => {
    expect(await catchError(() => client.embeddings.create({ model: 'error-401', input: 'x' }))).toBeInstanceOf(AuthenticationError);
    expect(await catchError(() => client.completions.create({ model: 'error-404', prompt: 'x' }))).toBeInstanceOf(NotFoundError);
  });

  it('streaming requests get the error as JSON before any stream starts', async () => {
    const err = await catchError(() => client.chat.completions.create({ model: 'error-400', messages: [user('x')], stream: true }));
    expect(err).toBeInstanceOf(BadRequestError);
  });

  it('flaky-500 fails the first attempt and succeeds on the retry', async () => {
    const res = await client.chat.completions.create({ model: 'flaky-500', messages: [user('again')] });
    expect(res.choices[0]?.message.content).toBe('Echo: again');
    expect(server.requests.map((r) => [r.headers['x-stainless-retry-count'], r.status])).toEqual([
      ['0', 500],
      ['1', 200],
    ]);
  });

  it('flaky-500 without retries surfaces the 500', async () => {
    const err = await catchError(() => client.chat.completions.create({ model: 'flaky-500', messages: [user('x')] }, { maxRetries: 0 }));
    expect(err).toBeInstanceOf(InternalServerError);
    expect(server.requests).toHaveLength(1);
  });

  it('echo-key puts the Authorization header in the error message', async () => {
    const err = await catchError(() => client.chat.completions.create({ model: 'echo-key', messages: [user('x')] }));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(String(err instanceof Error ? err.message : '')).toContain('Bearer sk-test');
  });

  it('unknown routes and invalid JSON answer OpenAI error JSON', async () => {
    const err = await catchError(() => client.get('/no/such/route'));
    expect(err).toBeInstanceOf(NotFoundError);

    const res = await fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const body = (await res.json()) as { error: { type: string; param: unknown; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.param).toBeNull();
    expect(body.error.message).toContain('could not parse the JSON body');
    expect(server.requests.map((r) => [r.path, r.status])).toEqual([
      ['/v1/no/such/route', 404],
      ['/v1/chat/completions', 400],
    ]);
    expect(server.requests[1]?.rawBody).toBe('{not json');
    expect(server.requests[1]?.body).toBeUndefined();
  });
});

describe('slow and broken streams', () => {
  it('slow answers after ~500 ms', async () => {
    const started = Date.now();
    const res = await client.chat.completions.create({ model: 'slow', messages: [user('patience')] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(res.choices[0]?.message.content).toBe('Echo: patience');
  });

  it('slow with a 100 ms client timeout gives APIConnectionTimeoutError, and the server notices', async () => {
    const err = await catchError(() => client.chat.completions.create({ model: 'slow', messages: [user('x')] }, { timeout: 100, maxRetries: 0 }));
    expect(err).toBeInstanceOf(APIConnectionTimeoutError);
    const req = onlyRequest();
    await waitFor(() => req.clientDisconnected === true);
    expect(req.status).toBeUndefined();
  });

  it('timeouts are retried like 5xx answers', async () => {
    const err = await catchError(() => client.chat.completions.create({ model: 'slow', messages: [user('x')] }, { timeout: 100, maxRetries: 1 }));
    expect(err).toBeInstanceOf(APIConnectionTimeoutError);
    expect(server.requests.map((r) => r.headers['x-stainless-retry-count'])).toEqual(['0', '1']);
  });

  it('stream-cut throws during iteration after two content chunks', async () => {
    const stream = await client.chat.completions.create({ model: 'stream-cut', messages: [user('a b c d e')], stream: true });
    const received: string[] = [];
    const err = await catchError(async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
    });
    expect(received).toEqual(['', 'Echo: ', 'a ']);
    // Not an OpenAI error class: undici's TypeError('terminated') passes through unwrapped.
    expect(err).toBeInstanceOf(TypeError);
    expect(err).not.toBeInstanceOf(APIError);
    expect(onlyRequest().clientDisconnected).toBeUndefined();
  });

  it('stream-cut also breaks responses and completions streams', async () => {
    const responses = await client.responses.create({ model: 'stream-cut', input: 'a b c d', stream: true });
    const types: string[] = [];
    const err = await catchError(async () => {
      for await (const event of responses) types.push(event.type);
    });
    expect(err).toBeInstanceOf(Error);
    expect(types.filter((t) => t === 'response.output_text.delta')).toHaveLength(2);
    expect(types).not.toContain('response.completed');

    const completions = await client.completions.create({ model: 'stream-cut', prompt: 'a b c d', stream: true });
    const texts: string[] = [];
    expect(
      await catchError(async () => {
        for await (const chunk of completions) texts.push(chunk.choices[0]?.text ?? '');
      }),
    ).toBeInstanceOf(Error);
    expect(texts).toEqual(['Echo: ', 'a ']);
  });

  it('stream-error-event throws an APIError mid-iteration', async () => {
    const stream = await client.chat.completions.create({
      model: 'stream-error-event',
      messages: [user('a b c d e')],
      stream: true,
    });
    const received: string[] = [];
    const err = await catchError(async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
    });
    expect(received).toEqual(['', 'Echo: ', 'a ']);
    expect(err).toBeInstanceOf(APIError);
    if (!(err instanceof APIError)) throw new Error('expected an APIError');
    expect(err.status).toBeUndefined();
    expect(err.type).toBe('server_error');
    expect(err.message).toContain('The server had an error');
    expect(err.requestID).toMatch(/^req_/);
  });

  it('stream-error-event on responses sends a typed error event (openai 6 yields it, 7 throws it)', async () => {
    const stream = await client.responses.create({ model: 'stream-error-event', input: 'a b c d', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    let thrown: unknown;
    try {
      for await (const event of stream) events.push(event);
    } catch (err) {
      thrown = err;
    }
    expect(events.filter((e) => e.type === 'response.output_text.delta')).toHaveLength(2);
    if (thrown === undefined) {
      const last = events.at(-1);
      if (last?.type !== 'error') throw new Error('expected a final error event');
      expect(last.code).toBe('server_error');
      expect(last.sequence_number).toBe(events.length - 1);
    } else {
      // openai 7 turns an `event: error` into an APIError built from the event's payload.
      expect(thrown).toBeInstanceOf(APIError);
      if (!(thrown instanceof APIError)) throw new Error('expected an APIError');
      expect(thrown.code).toBe('server_error');
      expect(thrown.message).toContain('The server had an error');
    }
  });

  it('stream-slow can be broken out of early and the server stops writing', async () => {
    const started = Date.now();
    const stream = await client.chat.completions.create({ model: 'stream-slow', messages: [user('x')], stream: true });
    const received: string[] = [];
    for await (const chunk of stream) {
      received.push(chunk.choices[0]?.delta.content ?? '');
      if (received.length === 3) break;
    }
    expect(received).toEqual(['', '1 ', '2 ']);
    const req = onlyRequest();
    await waitFor(() => req.clientDisconnected === true);
    const sent = req.sseEventsSent ?? 0;
    expect(sent).toBeLessThan(6);
    await new Promise((r) => setTimeout(r, 250));
    expect(req.sseEventsSent).toBe(sent);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('stream-slow spaces its 20 content chunks 100 ms apart', async () => {
    const stream = await client.completions.create({ model: 'stream-slow', prompt: 'x', stream: true });
    const times: number[] = [];
    for await (const chunk of stream) {
      times.push(Date.now());
      if (chunk.choices[0]?.text === '3 ') break;
    }
    expect(times).toHaveLength(3);
    const gap = (times[2] ?? 0) - (times[1] ?? 0);
    expect(gap).toBeGreaterThanOrEqual(80);
  });
});

describe('server behaviour', () => {
  it('records headers lower-cased, including custom request headers', async () => {
    await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [user('h')] },
      { headers: { 'X-Custom-Trace': 'trace-123' }, query: { probe: 'yes' } },
    );
    const req = onlyRequest();
    expect(req.headers['x-custom-trace']).toBe('trace-123');
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-stainless-retry-count']).toBe('0');
    expect(Object.keys(req.headers).every((k) => k === k.toLowerCase())).toBe(true);
    expect(req.query).toEqual({ probe: 'yes' });
    expect(Math.abs(Date.now() - req.receivedAt)).toBeLessThan(2000);
  });

  it('joins repeated headers with ", "', async () => {
    const headers = new Headers();
    headers.append('x-multi', 'a');
    headers.append('x-multi', 'b');
    await fetch(`${server.url}/models`, { headers });
    expect(onlyRequest().headers['x-multi']).toBe('a, b');
  });

  it('reset() clears recorded requests', async () => {
    await client.models.list();
    expect(server.requests.length).toBe(1);
    server.reset();
    expect(server.requests).toHaveLength(0);
  });

  it('rejects a request without a model with a 400', async () => {
    const res = await fetch(`${server.url}/chat/completions`, { method: 'POST', body: '{"messages":[]}' });
    expect(res.status).toBe(400);
  });

  it('chunkDelayMs spaces streamed chunks', async () => {
    const delayed = await startFakeOpenAI({ chunkDelayMs: 30 });
    try {
      const c = new OpenAI({ apiKey: 'sk-test', baseURL: delayed.url });
      const started = Date.now();
      const stream = await c.chat.completions.create({ model: 'm', messages: [user('a b')], stream: true });
      let count = 0;
      for await (const _chunk of stream) count += 1;
      // role + 3 words + finish + [DONE] => 5 gaps of 30 ms.
      expect(count).toBe(5);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      await delayed.close();
    }
  });

  it('close() does not hang with a stream and keep-alive connections open', async () => {
    const other = await startFakeOpenAI();
    const c = new OpenAI({ apiKey: 'sk-test', baseURL: other.url });
    await c.models.list(); // leaves an idle keep-alive connection behind
    const stream = await c.chat.completions.create({ model: 'stream-slow', messages: [user('x')], stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(500);
    const err = await catchError(async () => {
      for (;;) {
        const step = await iterator.next();
        if (step.done) throw new Error('stream ended cleanly after close');
      }
    });
    expect(err).toBeInstanceOf(Error);
    expect(String(err)).not.toContain('stream ended cleanly');
    expect(other.requests.at(-1)?.clientDisconnected).toBeUndefined();
    await expect(fetch(`${other.url}/models`)).rejects.toThrow();
  });

  it('serves on the requested host and reports url and port', async () => {
    const other = await startFakeOpenAI({ host: '127.0.0.1' });
    try {
      expect(other.url).toBe(`http://127.0.0.1:${other.port}/v1`);
      expect(other.port).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });
});
