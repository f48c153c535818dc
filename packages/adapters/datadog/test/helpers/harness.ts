// Small helpers shared by the Datadog adapter tests: a wrapped openai client against the fake
// OpenAI server, and a manager that records what it emits.
import OpenAI from 'openai';
import {
  createCallbackManager,
  defineCallback,
  wrapOpenAI,
  type CallEvent,
  type Callback,
  type CallbackErrorInfo,
  type EventDroppedInfo,
} from '@llm-callbacks/core';
import type { FakeOpenAIServer } from '@llm-callbacks/testing';

export function setup(provider: FakeOpenAIServer, callback: Callback, options: { allowDynamicCallbackDisabling?: boolean } = {}) {
  const events: CallEvent[] = [];
  const errors: CallbackErrorInfo[] = [];
  const dropped: EventDroppedInfo[] = [];
  const witness = defineCallback({ name: 'witness', onSuccess: (e) => void events.push(e), onFailure: (e) => void events.push(e) });
  const manager = createCallbackManager({ ...options, callbacks: [callback, witness] });
  manager.on('callbackError', (info) => errors.push(info));
  manager.on('eventDropped', (info) => dropped.push(info));
  const client = wrapOpenAI(new OpenAI({ apiKey: 'sk-test-0123456789abcdef', baseURL: provider.url, maxRetries: 0 }), manager);
  return { manager, client, events, errors, dropped };
}

export const chat = (content: string, model = 'gpt-4o-mini') => ({ model, messages: [{ role: 'user' as const, content }] });
