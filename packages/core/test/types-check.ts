// Compile-time checks of the wrapped client's types (run by `pnpm typecheck`, never executed).
import OpenAI, { APIPromise } from 'openai';
import type { Stream } from 'openai/streaming';
import { createCallbackManager, wrapOpenAI } from '../src/index.js';

const client = wrapOpenAI(new OpenAI({ apiKey: 'x' }), createCallbackManager());
const asClient: OpenAI = client; // still assignable where an OpenAI is expected
void asClient;

async function check(): Promise<void> {
  const p = client.chat.completions.create({ model: 'm', messages: [] }, { disableCallbacks: ['langfuse'], metadata: { a: 1 } });
  const apiPromise: APIPromise<OpenAI.Chat.ChatCompletion> = p;
  const done: OpenAI.Chat.ChatCompletion = await apiPromise;
  void done.choices[0]?.message.content;
  const s = await client.chat.completions.create({ model: 'm', messages: [], stream: true }, { headers: { a: 'b' }, disableCallbacks: 'x' });
  const stream: Stream<OpenAI.Chat.ChatCompletionChunk> = s;
  void stream.controller;
  const plain = await client.chat.completions.create({ model: 'm', messages: [] }, { timeout: 5 });
  void plain.id;
  const r = await client.responses.create({ model: 'm', input: 'hi' }, { disableCallbacks: ['x'] });
  void r.output_text;
  const e = await client.embeddings.create({ model: 'm', input: 'x' }, { disableCallbacks: 'a,b' });
  void e.data[0]?.embedding;
  const c = await client.completions.create({ model: 'm', prompt: 'x' }, { disableCallbacks: 'a' });
  void c.choices;
  const { data, response } = await client.chat.completions.create({ model: 'm', messages: [] }).withResponse();
  void data.id;
  void response.status;
  // @ts-expect-error disableCallbacks must be names
  void client.chat.completions.create({ model: 'm', messages: [] }, { disableCallbacks: 5 });
}
void check;
