// Every route through a wrapped client, not only the four create() methods: openai's helpers
// (parse, stream, runTools) report one event each and obey locks; the disable header never reaches
// the provider from any method or default header; a stream read raw through .asResponse() is still
// reported; and credentials the client sends (however it got them) never appear in an event.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { createCallbackManager, LlmCallbacksError, withCallbackContext, wrapOpenAI, type CallEvent } from '../src/index.js';
import { only, recorder, startFixture, type Fixture } from './helpers.js';

const HEADER = 'x-litellm-disable-callbacks';
const chat = (content = 'hi', model = 'gpt-test') => ({ model, messages: [{ role: 'user' as const, content }] });

let f: Fixture;
beforeEach(async () => {
  f = await startFixture();
});
afterEach(async () => {
  await f.manager.shutdown({ timeoutMs: 2000 });
  await f.server.close();
});

describe("openai's helpers are reported calls", () => {
  it('chat.completions.parse, .stream, responses.stream and .parse each give exactly one event', async () => {
    const parsed = await f.client.chat.completions.parse(chat('parse me'));
    expect(parsed.choices[0]?.message.content).toBe('Echo: parse me');
    const final = await f.client.chat.completions.stream(chat('stream helper')).finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe('Echo: stream helper');
    const response = await f.client.responses.stream({ model: 'gpt-test', input: 'responses helper' }).finalResponse();
    // Read the text from the output items: openai 5's stream helper does not add `output_text`.
    const text = response.output.flatMap((item) => (item.type === 'message' ? item.content : [])).map((c) => (c.type === 'output_text' ? c.text : ''));
    expect(text.join('')).toContain('responses helper');
    await f.client.responses.parse({ model: 'gpt-test', input: 'responses parse' });
    await f.manager.flush();
    expect(f.a.events.map((e) => [e.callType, e.stream])).toEqual([
      ['chat.completions', false],
      ['chat.completions', true],
      ['responses', true],
      ['responses', false],
    ]);
    expect((f.a.events[1]?.response as OpenAI.Chat.ChatCompletion).choices[0]?.message.content).toBe('Echo: stream helper');
    expect(f.server.requests).toHaveLength(4);
  });

  it('a locked manager reports helper calls too, whatever they ask', async () => {
    const locked = createCallbackManager({ allowDynamicCallbackDisabling: false });
    const audit = recorder('audit');
    locked.register(audit.callback);
    const client = wrapOpenAI(f.raw, locked);
    const opts = { headers: { [HEADER]: 'audit' } };
    await client.chat.completions.parse(chat(), opts);
    await client.chat.completions.stream(chat(), opts).finalChatCompletion();
    await client.responses.stream({ model: 'gpt-test', input: 'x' }, opts).finalResponse();
    await locked.flush();
    expect(audit.events).toHaveLength(3);
    expect(f.server.requests.every((r) => r.headers[HEADER] === undefined)).toBe(true);
  });
});

describe('the disable header never leaves the process', () => {
  it('is removed from requests of every method: models.list, files.list, client.post, helpers', async () => {
    await f.client.models.list({ headers: { [HEADER]: 'alpha' } });
    for await (const _ of f.client.files.list({ limit: 2 }, { headers: { [HEADER]: 'alpha' } })) void _;
    await f.client.post('/chat/completions', { body: chat(), headers: { [HEADER]: 'alpha' } });
    await f.client.chat.completions.parse(chat(), { headers: { [HEADER]: 'alpha' } });
    expect(f.server.requests.length).toBeGreaterThanOrEqual(6);
    for (const r of f.server.requests) expect(r.headers[HEADER]).toBeUndefined();
    expect(f.server.requests.every((r) => r.headers['x-llm-callbacks-call'] === undefined)).toBe(true);
  });

  it('is removed from a client default header on every method, and that default disables for every call', async () => {
    const raw = new OpenAI({ apiKey: 'sk-x-0123456789', baseURL: f.server.url, defaultHeaders: { [HEADER]: 'alpha' } });
    const client = wrapOpenAI(raw, f.manager);
    await client.models.list();
    await client.chat.completions.create(chat());
    for (const r of f.server.requests) expect(r.headers[HEADER]).toBeUndefined();
    await f.manager.flush();
    expect(f.a.events).toHaveLength(0);
    expect(only(f.b).disabledCallbacks).toEqual(['alpha']);
  });
});

describe('a stream read raw through .asResponse()', () => {
  it('is reported once when its body ends, without assembled output', async () => {
    const res = await f.client.chat.completions.create({ ...chat('raw stream'), stream: true }).asResponse();
    const text = await res.text();
    expect(text).toContain('data: ');
    expect(res.url).toContain('/chat/completions');
    await f.manager.flush();
    const e = only(f.a);
    expect(e).toMatchObject({ status: 'success', stream: true, streamEnd: 'completed' });
    expect(e.response).toBeUndefined();
  });

  it('is reported as stopped when the caller cancels the body', async () => {
    const res = await f.client.chat.completions.create({ ...chat('x', 'stream-slow'), stream: true }).asResponse();
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await f.manager.flush();
    expect(only(f.a).streamEnd).toBe('stopped');
  });

  it('a stream read normally is still reported by its iterator, once, with the output', async () => {
    const s = await f.client.chat.completions.create({ ...chat('normal'), stream: true });
    for await (const _ of s) void _;
    await f.manager.flush();
    expect((only(f.a).response as OpenAI.Chat.ChatCompletion).choices[0]?.message.content).toBe('Echo: normal');
  });
});

describe('credentials never reach an event, however the client got them', () => {
  const leaks = (events: CallEvent[], secret: string) => JSON.stringify(events).includes(secret);

  it('an apiKey function, a key changed after wrapping, an Authorization default header, an array-valued header', async () => {
    const secrets = ['sk-FNKEY-gggggggg', 'sk-ROTATED-bbbbbbbb', 'sk-DEFAULTHDR-cccccccc', 'sk-ARRAYAUTH-hhhhhhhh'];
    const fnClient = wrapOpenAI(new OpenAI({ apiKey: async () => secrets[0]!, baseURL: f.server.url, maxRetries: 0 }), f.manager);
    await fnClient.chat.completions.create(chat('x', 'echo-key')).catch(() => undefined);

    const rotatingRaw = new OpenAI({ apiKey: 'sk-original-aaaaaaaa', baseURL: f.server.url, maxRetries: 0 });
    const rotating = wrapOpenAI(rotatingRaw, f.manager);
    rotating.apiKey = secrets[1]!;
    await rotating.chat.completions.create(chat('x', 'echo-key')).catch(() => undefined);

    const defaults = wrapOpenAI(
      new OpenAI({ apiKey: 'sk-other-dddddddd', baseURL: f.server.url, maxRetries: 0, defaultHeaders: { Authorization: `Bearer ${secrets[2]}` } }),
      f.manager,
    );
    await defaults.chat.completions.create(chat('x', 'echo-key')).catch(() => undefined);

    await f.client.chat.completions.create(chat('x', 'echo-key'), { headers: { Authorization: [`Bearer ${secrets[3]}`] } as never }).catch(() => undefined);
    await f.manager.flush();
    expect(f.a.events).toHaveLength(4);
    // The provider saw each credential (so each test is real), and no event contains any.
    for (const [i, secret] of secrets.entries()) {
      expect(f.server.requests[i]?.headers['authorization']).toContain(secret);
      expect(leaks(f.a.events, secret)).toBe(false);
    }
    expect(f.a.events.every((e) => e.error?.message.includes('[REDACTED]'))).toBe(true);
  });
});

describe('misuse is caught where it happens', () => {
  it('withCallbackContext with a null or non-object scope throws LlmCallbacksError at once', () => {
    expect(() => withCallbackContext(null as never, () => 1)).toThrow(LlmCallbacksError);
    expect(() => withCallbackContext('alpha' as never, () => 1)).toThrow(/scope must be an object/);
    expect(() => withCallbackContext({}, 5 as never)).toThrow(/fn must be/);
  });
});
