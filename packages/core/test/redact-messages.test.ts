// redactMessages on the manager and per callback: content (prompts, completions, streamed output,
// tool-call arguments) replaced by a marker before events reach a callback; a redact function that
// throws fails closed (the content is dropped, and the failure reported).
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAIServer } from '@llm-callbacks/testing';
import {
  CONTENT_REDACTED,
  createCallbackManager,
  defineCallback,
  wrapOpenAI,
  type CallEvent,
  type CallbackManagerOptions,
  type InternalErrorInfo,
  type RedactMessages,
} from '../src/index.js';

let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await startFakeOpenAI();
});
afterAll(async () => {
  await server.close();
});

const SECRET_PROMPT = 'my diagnosis is confidential';

function setup(managerOptions: Omit<CallbackManagerOptions, 'callbacks'>, callbacks: Record<string, RedactMessages | undefined>) {
  const got: Record<string, CallEvent[]> = {};
  const manager = createCallbackManager({
    ...managerOptions,
    callbacks: Object.entries(callbacks).map(([name, redactMessages]) => {
      got[name] = [];
      const push = (e: CallEvent): void => void got[name]?.push(e);
      return defineCallback({ name, onSuccess: push, onFailure: push, ...(redactMessages === undefined ? {} : { redactMessages }) });
    }),
  });
  const internal: InternalErrorInfo[] = [];
  manager.on('internalError', (i) => internal.push(i));
  const client = wrapOpenAI(new OpenAI({ apiKey: 'sk-redact-0123456789', baseURL: server.url, maxRetries: 0 }), manager);
  return { manager, client, got, internal };
}

const text = (value: unknown): string => JSON.stringify(value);

describe('redactMessages', () => {
  it('manager-wide: prompts, streamed output and streamed tool-call arguments are replaced by the marker; usage and model stay', async () => {
    const { manager, client, got } = setup({ redactMessages: true }, { a: undefined, b: undefined });
    const stream = await client.chat.completions.create({
      model: 'tool-call',
      messages: [{ role: 'user', content: SECRET_PROMPT }],
      tools: [{ type: 'function', function: { name: 'get_weather', description: `Look up the weather (${SECRET_PROMPT})`, parameters: { type: 'object' } } }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _ of stream) void _;
    const plain = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: SECRET_PROMPT }], stream: true });
    let answer = '';
    for await (const chunk of plain) answer += chunk.choices[0]?.delta.content ?? '';
    await manager.flush();
    expect(answer).toContain(SECRET_PROMPT); // the caller still gets the real answer
    for (const name of ['a', 'b']) {
      const [tool, streamed] = got[name] ?? [];
      expect(text(tool)).not.toContain(SECRET_PROMPT);
      expect(text(tool)).not.toContain('Paris');
      expect(text(streamed)).not.toContain(SECRET_PROMPT);
      const toolCalls = (tool?.response as { choices: Array<{ message: { tool_calls: Array<{ function: { name: string; arguments: string } }> } }> }).choices[0]
        ?.message.tool_calls;
      expect(toolCalls?.[0]?.function).toEqual({ name: 'get_weather', arguments: CONTENT_REDACTED });
      // A tool's description is prompt text too; its name and schema are configuration and stay.
      expect((tool?.request as { tools: Array<{ function: Record<string, unknown> }> }).tools[0]?.function).toEqual({
        name: 'get_weather',
        description: CONTENT_REDACTED,
        parameters: { type: 'object' },
      });
      expect((streamed?.request as { messages: Array<{ content: string }> }).messages[0]?.content).toBe(CONTENT_REDACTED);
      expect((streamed?.response as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe(CONTENT_REDACTED);
      expect(tool?.usage?.totalTokens).toBeGreaterThan(0);
      expect(tool?.model).toBe('tool-call');
    }
  });

  it("per callback: a callback's own setting wins over the manager's, both ways", async () => {
    const { manager, client, got } = setup({ redactMessages: true }, { keeps: false, inherits: undefined });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: SECRET_PROMPT }] });
    await manager.flush();
    expect(text(got['keeps'])).toContain(SECRET_PROMPT);
    expect(text(got['inherits'])).not.toContain(SECRET_PROMPT);

    const second = setup({}, { redacts: true, plain: undefined });
    await second.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: SECRET_PROMPT }] });
    await second.manager.flush();
    expect(text(second.got['redacts'])).not.toContain(SECRET_PROMPT);
    expect(text(second.got['plain'])).toContain(SECRET_PROMPT);
  });

  it('Responses API: input, output items, output_text and function-call output are redacted', async () => {
    const { manager, client, got } = setup({ redactMessages: true }, { a: undefined });
    await client.responses.create({
      model: 'gpt-4o-mini',
      input: [
        { role: 'user', content: SECRET_PROMPT },
        { type: 'function_call_output', call_id: 'c1', output: `tool says ${SECRET_PROMPT}` },
      ],
    });
    await manager.flush();
    expect(text(got['a'])).not.toContain(SECRET_PROMPT);
    expect(got['a']?.[0]?.usage).toBeDefined();
  });

  it('a user redact function is applied; one that throws drops the content (fails closed) and is reported', async () => {
    const custom: RedactMessages = (e) => ({ ...e, metadata: { ...e.metadata, redactedBy: 'custom' }, request: { model: e.request['model'] } });
    const broken: RedactMessages = () => {
      throw new Error('redactor bug');
    };
    const nothing = (() => undefined) as unknown as RedactMessages;
    const { manager, client, got, internal } = setup({}, { custom, broken, nothing });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: SECRET_PROMPT }] });
    await manager.flush();
    expect(got['custom']?.[0]?.metadata).toEqual({ redactedBy: 'custom' });
    for (const name of ['broken', 'nothing']) {
      const [e] = got[name] ?? [];
      expect(text(e)).not.toContain(SECRET_PROMPT);
      expect(e?.request).toEqual({ model: 'gpt-4o-mini', content: CONTENT_REDACTED });
      expect(e?.response).toBe(CONTENT_REDACTED);
      expect(e?.usage?.totalTokens).toBeGreaterThan(0);
    }
    expect(internal.map((i) => i.where)).toEqual([
      'redactMessages for "broken" (failed closed: content dropped)',
      'redactMessages for "nothing" (failed closed: content dropped)',
    ]);
    expect(internal[0]?.error.message).toBe('redactor bug');
  });

  it('rejects a redactMessages that is neither a boolean nor a function', () => {
    expect(() => createCallbackManager({ redactMessages: 'yes' as never })).toThrow(/redactMessages must be true, false or a function/);
    expect(() => defineCallback({ name: 'x', onSuccess: () => {}, redactMessages: 1 as never })).toThrow(/redactMessages must be true, false or a function/);
  });
});
