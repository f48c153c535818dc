// Shared test helpers: a recording callback and a fake-openai + wrapped client fixture.
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
} from '../src/index.js';

export interface Recorder {
  readonly name: string;
  readonly events: CallEvent[];
  readonly callback: ReturnType<typeof defineCallback>;
}

/** A callback that records every event it receives (with both hooks unless told otherwise). */
export function recorder(name: string, hooks: 'both' | 'success' | 'failure' = 'both'): Recorder {
  const events: CallEvent[] = [];
  const push = (e: CallEvent): void => {
    events.push(e);
  };
  const callback = defineCallback({
    name,
    ...(hooks !== 'failure' ? { onSuccess: push } : {}),
    ...(hooks !== 'success' ? { onFailure: push } : {}),
  });
  return { name, events, callback };
}

export interface Fixture {
  server: FakeOpenAIServer;
  raw: OpenAI;
  manager: CallbackManager;
  client: WrappedOpenAI<OpenAI>;
  a: Recorder;
  b: Recorder;
  /** All events any recorder received, by event id. */
  eventsFor(id?: string): CallEvent[];
}

export async function startFixture(
  managerOptions: Omit<CallbackManagerOptions, 'callbacks'> = {},
  clientOptions: ConstructorParameters<typeof OpenAI>[0] = {},
): Promise<Fixture> {
  const server = await startFakeOpenAI();
  const raw = new OpenAI({ apiKey: 'sk-test-key-0123456789', baseURL: server.url, maxRetries: 2, ...clientOptions });
  const a = recorder('alpha');
  const b = recorder('beta');
  const manager = createCallbackManager({ ...managerOptions, callbacks: [a.callback, b.callback] });
  const client = wrapOpenAI(raw, manager);
  return {
    server,
    raw,
    manager,
    client,
    a,
    b,
    eventsFor: (id) => [...a.events, ...b.events].filter((e) => id === undefined || e.id === id),
  };
}

/** The only event a recorder got, failing loudly when there is not exactly one. */
export function only(r: Recorder): CallEvent {
  if (r.events.length !== 1) throw new Error(`expected exactly 1 event for ${r.name}, got ${r.events.length}`);
  return r.events[0] as CallEvent;
}
