// Shared pieces of the S3 adapter's tests: reading the bucket back (every line parsed and checked
// against core's CallEventSchema), and a manager + wrapped openai client wired to collect reports.
import OpenAI from 'openai';
import { expect } from 'vitest';
import {
  CallEventSchema,
  createCallbackManager,
  defineCallback,
  wrapOpenAI,
  type CallEvent,
  type Callback,
  type CallbackErrorInfo,
  type CallbackManager,
  type CallbackManagerOptions,
  type EventDroppedInfo,
  type WrappedOpenAI,
} from '@llm-callbacks/core';
import type { S3Server, S3StoredObject } from '@llm-callbacks/testing';

// The SDK warns on Node 20 that later releases need Node 22 (TOOLCHAIN.md); it is noise here.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

export interface BucketContents {
  objects: S3StoredObject[];
  /** Every event in every object, in key order then line order. */
  events: CallEvent[];
}

/** Reads every object, parses every line (ndjson) or the whole body (json), and checks each event. */
export async function readBucket(server: S3Server, prefix?: string): Promise<BucketContents> {
  const objects = await server.readObjects(prefix);
  const events: CallEvent[] = [];
  for (const object of objects) {
    if (object.key.endsWith('.json')) {
      events.push(CallEventSchema.parse(JSON.parse(object.body)));
      continue;
    }
    expect(object.key.endsWith('.ndjson'), object.key).toBe(true);
    expect(object.body.endsWith('\n'), `${object.key} ends with a newline`).toBe(true);
    for (const line of object.body.slice(0, -1).split('\n')) events.push(CallEventSchema.parse(JSON.parse(line)));
  }
  return { objects, events };
}

export interface Harness {
  manager: CallbackManager;
  client: WrappedOpenAI<OpenAI>;
  /** Events as the other (in-memory) callback saw them: the ground truth of what happened. */
  seen: CallEvent[];
  errors: CallbackErrorInfo[];
  dropped: EventDroppedInfo[];
}

/** A manager with `callback` plus an in-memory witness, and a wrapped openai client on `baseURL`. */
export function harness(callback: Callback, baseURL: string, options: CallbackManagerOptions = {}): Harness {
  const seen: CallEvent[] = [];
  const errors: CallbackErrorInfo[] = [];
  const dropped: EventDroppedInfo[] = [];
  const witness = defineCallback({ name: 'witness', onSuccess: (e) => void seen.push(e), onFailure: (e) => void seen.push(e) });
  const manager = createCallbackManager({ ...options, callbacks: [callback, witness] });
  manager.on('callbackError', (info) => errors.push(info));
  manager.on('eventDropped', (info) => dropped.push(info));
  const client = wrapOpenAI(new OpenAI({ apiKey: 'sk-test-0123456789abcdef', baseURL, maxRetries: 0 }), manager);
  return { manager, client, seen, errors, dropped };
}

export const chat = (content: string, model = 'gpt-4o-mini') => ({ model, messages: [{ role: 'user' as const, content }] });

/** Runs `count` tasks with at most `width` at a time. */
export async function pooled(count: number, width: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        await task(i);
      }
    }),
  );
}
