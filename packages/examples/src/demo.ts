// The llm-callbacks demo: one openai client, several callbacks (a few in-process ones plus
// Langfuse, Datadog and S3), and a table of which callbacks received each call's event. Runs against
// the real OpenAI API when OPENAI_API_KEY is set, else against an embedded OpenAI-compatible server
// on 127.0.0.1; each sink likewise uses the real service when configured, else an embedded one.
//
//   pnpm demo
import './demo-env.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import {
  createCallbackManager,
  defineCallback,
  jsonlCallback,
  withCallbackContext,
  wrapOpenAI,
  type Callback,
  type CallEvent,
  type CallbackManager,
} from '@llm-callbacks/core';
import { startFakeOpenAI, type FakeOpenAIServer } from '@llm-callbacks/testing';
import { datadogSink, langfuseSink, s3Sink, type DemoSink } from './demo-sinks.js';
import { printTable } from './table.js';

const realApi = Boolean(process.env['OPENAI_API_KEY']);
const MODEL = process.env['DEMO_MODEL'] ?? 'gpt-4o-mini';
// The embedded server fails on request for this model name; the real API rejects an unknown model.
const FAILING_MODEL = realApi ? 'no-such-model-llm-callbacks-demo' : 'error-404';

/** Which callbacks received which events, keyed by the `step` metadata each call carries. */
const received = new Map<string, Set<string>>();
const events = new Map<string, CallEvent>();

function note(name: string, event: CallEvent): void {
  const step = String(event.metadata['step'] ?? '?');
  if (!received.has(step)) received.set(step, new Set());
  received.get(step)?.add(name);
  events.set(step, event);
}

/**
 * The same callback, also noting every event it receives for the table. Every hook is delegated
 * explicitly: adapters may be class instances whose methods a `{ ...spread }` would lose.
 */
function observed(callback: Callback): Callback {
  const { onSuccess, onFailure, flush, shutdown, onRegister } = callback;
  return defineCallback({
    name: callback.name,
    ...(callback.required !== undefined ? { required: callback.required } : {}),
    ...(callback.timeoutMs !== undefined ? { timeoutMs: callback.timeoutMs } : {}),
    ...(callback.maxQueueSize !== undefined ? { maxQueueSize: callback.maxQueueSize } : {}),
    ...(callback.overflow !== undefined ? { overflow: callback.overflow } : {}),
    ...(onSuccess ? { onSuccess: (e: CallEvent) => (note(callback.name, e), onSuccess.call(callback, e)) } : {}),
    ...(onFailure ? { onFailure: (e: CallEvent) => (note(callback.name, e), onFailure.call(callback, e)) } : {}),
    ...(flush ? { flush: () => flush.call(callback) } : {}),
    ...(shutdown ? { shutdown: () => shutdown.call(callback) } : {}),
    ...(onRegister ? { onRegister: (r: Parameters<typeof onRegister>[0]) => onRegister.call(callback, r) } : {}),
  });
}

/** A callback that does nothing but be there, with the hooks asked for. */
function sink(name: string, hooks: 'both' | 'success' | 'failure'): Callback {
  const ignore = (): void => {};
  return defineCallback({
    name,
    ...(hooks !== 'failure' ? { onSuccess: ignore } : {}),
    ...(hooks !== 'success' ? { onFailure: ignore } : {}),
  });
}

async function main(): Promise<void> {
  let server: FakeOpenAIServer | undefined;
  if (!realApi) server = await startFakeOpenAI({ chunkDelayMs: 5 });
  const client = new OpenAI(realApi ? {} : { apiKey: 'sk-demo-not-a-real-key', baseURL: server?.url });
  const jsonlPath = join(mkdtempSync(join(tmpdir(), 'llm-callbacks-demo-')), 'events.jsonl');
  const sinks: DemoSink[] = [await langfuseSink(), await datadogSink(), await s3Sink()];

  const manager = createCallbackManager({
    callbacks: [
      sink('audit', 'both'),
      sink('metrics', 'success'),
      sink('alerts', 'failure'),
      jsonlCallback({ path: jsonlPath }),
      ...sinks.map((s) => s.callback),
    ].map(observed),
  });
  manager.on('callbackError', (info) => console.error(`callback ${info.callback} failed: ${info.error.message}`));
  const openai = wrapOpenAI(client, manager);

  console.log(`\nllm-callbacks demo — provider: ${realApi ? 'the OpenAI API' : `embedded OpenAI-compatible server at ${server?.url}`}\n`);
  // The same JSON as LiteLLM's GET /callbacks/list, shown as a table (the JSON line below it).
  const list = manager.list();
  console.log('manager.list():');
  printTable((Object.keys(list) as Array<keyof typeof list>).map((kind) => ({ list: kind, callbacks: list[kind].join(', ') || '(none)' })));
  console.log(JSON.stringify(list), '\n');

  const rows: Array<{ step: string; what: string }> = [];
  const chat = (content: string) => ({ model: MODEL, messages: [{ role: 'user' as const, content }], max_tokens: 20 });

  rows.push({ step: 'plain', what: 'plain chat call' });
  await openai.chat.completions.create(chat('Say hi in three words.'), { metadata: { step: 'plain' } });

  rows.push({ step: 'header', what: 'header x-litellm-disable-callbacks: metrics,langfuse' });
  await openai.chat.completions.create(chat('Say hi.'), {
    metadata: { step: 'header' },
    headers: { 'x-litellm-disable-callbacks': 'metrics,langfuse' },
  });

  rows.push({ step: 'option', what: "option disableCallbacks: ['AUDIT', 'Jsonl', 'DataDog']" });
  await openai.chat.completions.create(chat('Say hi.'), { metadata: { step: 'option' }, disableCallbacks: ['AUDIT', 'Jsonl', 'DataDog'] });

  rows.push({ step: 'scope', what: 'responses.create in withCallbackContext (incoming header: audit)' });
  await withCallbackContext({ headers: { 'x-litellm-disable-callbacks': 'audit' } }, () =>
    openai.responses.create({ model: MODEL, input: 'Say hi.' }, { metadata: { step: 'scope' } }),
  );

  rows.push({ step: 'stream', what: 'streaming chat call' });
  const stream = await openai.chat.completions.create(
    { ...chat('Count to five.'), stream: true, stream_options: { include_usage: true } },
    { metadata: { step: 'stream' } },
  );
  for await (const _ of stream) void _;

  rows.push({ step: 'embed', what: 'embeddings call' });
  await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' }, { metadata: { step: 'embed' } });

  rows.push({ step: 'fail', what: `failing call (model ${FAILING_MODEL})` });
  await openai.chat.completions.create({ ...chat('x'), model: FAILING_MODEL }, { metadata: { step: 'fail' } }).catch(() => undefined);

  rows.push({ step: 'unknown', what: "disableCallbacks: 'nosuch' (unknown name)" });
  await openai.chat.completions.create(chat('Say hi.'), { metadata: { step: 'unknown' }, disableCallbacks: 'nosuch' });

  await manager.flush();
  printTable(rows.map((r) => describeRow(r.step, r.what)));

  // A compliance owner locks logging: every disable attempt, by every route, is refused.
  const locked = await lockedManagerRun(client);
  console.log('\nLocked manager (allowDynamicCallbackDisabling: false):');
  printTable([describeRow('locked', locked)]);

  await manager.shutdown();
  const lines = readFileSync(jsonlPath, 'utf8').trim().split('\n');
  console.log(`\njsonl: ${lines.length} events appended to ${jsonlPath}`);
  for (const s of sinks) {
    console.log(`\n${s.label}:`);
    for (const line of await s.report()) console.log(`  ${line}`);
    await s.close();
  }
  console.log('\nmanager.stats():');
  printTable(
    Object.entries(manager.stats().callbacks).map(([name, c]) => ({
      callback: name,
      delivered: String(c.delivered),
      failed: String(c.failed),
      timedOut: String(c.timedOut),
      dropped: String(c.dropped),
      pending: String(c.pending),
      disabled: String(c.disabled),
    })),
  );
  await server?.close();
}

async function lockedManagerRun(client: OpenAI): Promise<string> {
  const lockedManager: CallbackManager = createCallbackManager({
    allowDynamicCallbackDisabling: false,
    callbacks: [sink('audit', 'both'), sink('metrics', 'success'), sink('alerts', 'failure')].map(observed),
  });
  let refusals = 0;
  lockedManager.on('disableRefused', () => (refusals += 1));
  const openai = wrapOpenAI(client, lockedManager);
  await withCallbackContext({ disableCallbacks: 'audit,metrics' }, () =>
    openai.chat.completions.create(
      { model: MODEL, messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 20 },
      { metadata: { step: 'locked' }, disableCallbacks: ['audit', 'metrics'], headers: { 'X-LiteLLM-Disable-Callbacks': 'AUDIT,metrics' } },
    ),
  );
  await lockedManager.shutdown();
  return `header + option + scope all disabling audit,metrics (${refusals} call refused)`;
}

function describeRow(step: string, what: string) {
  const event = events.get(step);
  return {
    call: what,
    status: event?.status ?? '-',
    'received by': [...(received.get(step) ?? [])].sort().join(', ') || '(none)',
    disabled: event?.disabledCallbacks.join(', ') || '-',
    ignored: summarizeIgnored(event) || '-',
  };
}

/** "audit, metrics: locked (option, header, scope)": one entry per reason. */
function summarizeIgnored(event: CallEvent | undefined): string {
  const byReason = new Map<string, { names: Set<string>; sources: Set<string> }>();
  for (const i of event?.ignoredDisables ?? []) {
    const entry = byReason.get(i.reason) ?? { names: new Set(), sources: new Set() };
    entry.names.add(i.name);
    entry.sources.add(i.source);
    byReason.set(i.reason, entry);
  }
  return [...byReason].map(([reason, e]) => `${[...e.names].join(', ')}: ${reason} (${[...e.sources].join(', ')})`).join('; ');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
