// Test helpers: a wrapped openai client against the fake OpenAI server, a manager that records what
// it reports, and fast retry settings so failure cases finish in well under a second each.
import OpenAI from 'openai';
import {
  createCallbackManager,
  defineCallback,
  wrapOpenAI,
  type CallEvent,
  type Callback,
  type CallbackErrorInfo,
  type CallbackManager,
  type EventDroppedInfo,
  type WrappedOpenAI,
} from '@llm-callbacks/core';
import type { FakeLangfuseServer } from '@llm-callbacks/testing';
import { langfuseCallback, type LangfuseCallbackOptions } from '../src/index.js';

/** Few, short retries: a failing upload is given up in about a second. */
export const FAST: LangfuseCallbackOptions = {
  flushIntervalMs: 20,
  maxRetries: 1,
  retryDelayMs: 20,
  requestTimeoutMs: 1_000,
  flushTimeoutMs: 5_000,
  shutdownTimeoutMs: 3_000,
};

export function fastLangfuse(server: FakeLangfuseServer, options: LangfuseCallbackOptions = {}): ReturnType<typeof langfuseCallback> {
  return langfuseCallback({ ...server.clientOptions, ...FAST, ...options });
}

export interface Harness {
  manager: CallbackManager;
  openai: WrappedOpenAI<OpenAI>;
  /** Every event the recording callback received (it is never disabled). */
  events: CallEvent[];
  errors: CallbackErrorInfo[];
  dropped: EventDroppedInfo[];
}

export function harness(providerUrl: string, callbacks: Callback[], options: { allowDynamicCallbackDisabling?: boolean } = {}): Harness {
  const events: CallEvent[] = [];
  const errors: CallbackErrorInfo[] = [];
  const dropped: EventDroppedInfo[] = [];
  const recorder = defineCallback({ name: 'recorder', onSuccess: (e) => void events.push(e), onFailure: (e) => void events.push(e) });
  const manager = createCallbackManager({ ...options, callbacks: [...callbacks, recorder] });
  manager.on('callbackError', (info) => errors.push(info));
  manager.on('eventDropped', (info) => dropped.push(info));
  const openai = wrapOpenAI(new OpenAI({ apiKey: 'sk-test-0123456789abcdef', baseURL: providerUrl, maxRetries: 0 }), manager);
  return { manager, openai, events, errors, dropped };
}

export const chat = (content: string, model = 'gpt-4o-mini') => ({ model, messages: [{ role: 'user' as const, content }] });
