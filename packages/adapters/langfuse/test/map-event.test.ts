// The mapping from a CallEvent to Langfuse bodies, for the cases end-to-end tests do not reach.
import { describe, expect, it } from 'vitest';
import type { CallEvent } from '@llm-callbacks/core';
import { toLangfuseBodies } from '../src/index.js';

const base: CallEvent = {
  id: 'call-1',
  status: 'success',
  callType: 'chat.completions',
  model: 'gpt-4o-mini',
  provider: 'openai',
  stream: false,
  startTime: 1_764_000_000_000,
  endTime: 1_764_000_000_500,
  latencyMs: 500,
  request: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
  response: { choices: [{ index: 0, message: { role: 'assistant', content: 'hello' } }] },
  metadata: {},
  disabledCallbacks: [],
  ignoredDisables: [],
};

describe('toLangfuseBodies', () => {
  it('defaults: trace id and generation id are the event id, names from the call type', () => {
    const { trace, generation } = toLangfuseBodies(base);
    expect(trace).toMatchObject({
      id: 'call-1',
      name: 'openai.chat.completions',
      input: base.request['messages'],
      output: { role: 'assistant', content: 'hello' },
    });
    expect(generation).toMatchObject({ id: 'call-1', traceId: 'call-1', level: 'DEFAULT', model: 'gpt-4o-mini' });
    expect(generation.usage).toBeUndefined();
  });

  it('metadata conventions: tags from a comma list, numbers as ids, an unusable traceId kept in metadata', () => {
    const { trace } = toLangfuseBodies({ ...base, metadata: { tags: 'a, b,,a', userId: 42, traceId: 'bad\rid', region: 'eu' } });
    expect(trace).toMatchObject({ id: 'call-1', tags: ['a', 'b'], userId: '42', metadata: { region: 'eu', traceId: 'bad\rid' } });
  });

  it('metadata that cannot be JSON is sent as text rather than lost', () => {
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    const { trace } = toLangfuseBodies({ ...base, metadata: { count: BigInt(3), cycle, ok: 'yes' } });
    expect(trace.metadata).toEqual({ count: '3', cycle: '[object Object]', ok: 'yes' });
  });

  it('a stream the consumer stopped is a WARNING, and the trace name option applies', () => {
    const { generation } = toLangfuseBodies({ ...base, stream: true, streamEnd: 'stopped', timeToFirstTokenMs: 120 }, { traceName: 'my-app' });
    expect(generation).toMatchObject({ level: 'WARNING', name: 'my-app', modelParameters: { stream: true } });
    expect(generation.statusMessage).toMatch(/stopped by the consumer/);
    expect(generation.completionStartTime?.getTime()).toBe(base.startTime + 120);
  });

  it('tools go with the messages; structured parameters become JSON text', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    const { generation } = toLangfuseBodies({
      ...base,
      request: { ...base.request, tools, tool_choice: { type: 'function', function: { name: 'f' } }, stop: ['\n'] },
    });
    expect(generation.input).toEqual({ messages: base.request['messages'], tools });
    expect(generation.modelParameters).toEqual({ tool_choice: '{"type":"function","function":{"name":"f"}}', stop: ['\n'] });
  });

  it('completions: the prompt in, the text out; several choices as a list', () => {
    const { generation } = toLangfuseBodies({
      ...base,
      callType: 'completions',
      request: { model: 'x', prompt: 'say', n: 2 },
      response: { choices: [{ text: 'a' }, { text: 'b' }] },
    });
    expect(generation).toMatchObject({ input: 'say', output: ['a', 'b'], modelParameters: { n: 2 } });
  });

  it('responses with a function call: the output items as they are', () => {
    const output = [{ type: 'function_call', name: 'f', arguments: '{}' }];
    const { generation } = toLangfuseBodies({
      ...base,
      callType: 'responses',
      request: { model: 'x', input: [{ role: 'user', content: 'go' }] },
      response: { output },
    });
    expect(generation.input).toEqual([{ role: 'user', content: 'go' }]);
    expect(generation.output).toEqual(output);
  });
});
