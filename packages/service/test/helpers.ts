// Shared by the middleware tests: recording callbacks, the fake OpenAI server with a wrapped client,
// the work a request handler does (two LLM calls: one from a timer, one streamed), a barrier that
// holds concurrent requests inside their handlers together, and a small HTTP client.
import OpenAI from 'openai';
import { startFakeOpenAI, type FakeOpenAIServer } from '@llm-callbacks/testing';
import {
  createCallbackManager,
  defineCallback,
  wrapOpenAI,
  type CallEvent,
  type CallbackManager,
  type CallbackManagerOptions,
  type WrappedOpenAI,
} from '@llm-callbacks/core';

export interface Recorder {
  readonly events: CallEvent[];
  readonly callback: ReturnType<typeof defineCallback>;
}

export function recorder(name: string): Recorder {
  const events: CallEvent[] = [];
  const push = (event: CallEvent): void => {
    events.push(event);
  };
  return { events, callback: defineCallback({ name, onSuccess: push, onFailure: push }) };
}

export interface Fixture {
  openaiServer: FakeOpenAIServer;
  manager: CallbackManager;
  openai: WrappedOpenAI<OpenAI>;
  /** The callback requests try to disable. */
  audit: Recorder;
  /** A callback nobody disables: it sees every call, with its decision recorded on the event. */
  keep: Recorder;
  close(): Promise<void>;
}

export async function startFixture(options: Omit<CallbackManagerOptions, 'callbacks'> = {}): Promise<Fixture> {
  // A small pause between streamed chunks, so a stream spans several turns of the event loop.
  const openaiServer = await startFakeOpenAI({ chunkDelayMs: 2 });
  const audit = recorder('audit');
  const keep = recorder('keep');
  const manager = createCallbackManager({ ...options, callbacks: [audit.callback, keep.callback] });
  const openai = wrapOpenAI(new OpenAI({ apiKey: 'sk-test-0123456789', baseURL: openaiServer.url, maxRetries: 0 }), manager);
  return {
    openaiServer,
    manager,
    openai,
    audit,
    keep,
    async close() {
      await manager.shutdown({ timeoutMs: 5_000 });
      await openaiServer.close();
    },
  };
}

/** Resolves every waiter once `count` have arrived, so concurrent handlers are provably interleaved. */
export function barrier(count: number): { arrive(): Promise<void> } {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return {
    arrive() {
      arrived += 1;
      if (arrived >= count) release();
      return all;
    },
  };
}

/** What a handler does: wait for its peers, one call from inside a timer, then one streamed call. */
export async function twoCalls(openai: WrappedOpenAI<OpenAI>, wait: () => Promise<void>): Promise<{ text: string; streamed: string }> {
  await wait();
  const first = await new Promise<OpenAI.Chat.Completions.ChatCompletion>((resolve, reject) => {
    setTimeout(() => {
      openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'first' }] }).then(resolve, reject);
    }, 15);
  });
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'second' }],
    stream: true,
  });
  let streamed = '';
  for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
  return { text: first.choices[0]?.message.content ?? '', streamed };
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json(): unknown;
}

export async function http(url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as unknown };
}

/** The events one request produced (found by the requestId the middleware's metadata hook set). */
export function eventsOf(recorder: Recorder, requestId: string): CallEvent[] {
  return recorder.events.filter((event) => event.metadata?.['requestId'] === requestId);
}
