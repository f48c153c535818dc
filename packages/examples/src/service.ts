// A small Express service with llm-callbacks: its callbacks come from a LiteLLM proxy config, the
// `x-litellm-disable-callbacks` header its own clients send passes through to every wrapped openai
// call made while handling their request (even deep in helpers, after timers and while streaming),
// and GET /callbacks/list answers like LiteLLM's, behind an admin key.
//
//   pnpm --filter @llm-callbacks/examples service              # self-test: requests to itself, a report, exit code
//   pnpm --filter @llm-callbacks/examples service -- --serve   # keep serving on PORT (default 3000)
//
// Uses the real OpenAI API when OPENAI_API_KEY is set (model from DEMO_MODEL), else an embedded
// OpenAI-compatible server on 127.0.0.1. LLM_CALLBACKS_CONFIG=path.yaml loads your own config file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type Request } from 'express';
import OpenAI from 'openai';
import { defineCallback, wrapOpenAI, type CallEvent, type CallbackManager, type WrappedOpenAI } from '@llm-callbacks/core';
import { ConfigError, expressCallbackContext, expressCallbacksList, loadConfig, type AdapterMap } from '@llm-callbacks/service';
import { startFakeOpenAI, type FakeOpenAIServer } from '@llm-callbacks/testing';
import { printTable } from './table.js';

const realApi = Boolean(process.env['OPENAI_API_KEY']);
const MODEL = process.env['DEMO_MODEL'] ?? 'gpt-4o-mini';
const ADMIN_KEY = process.env['ADMIN_KEY'] ?? 'admin-demo-key';

// The config a team's LiteLLM proxy used, unchanged: only the names it lists must be known below.
const LITELLM_CONFIG = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/gpt-4o-mini, api_key: os.environ/OPENAI_API_KEY }
litellm_settings:
  callbacks: ["audit"]            # success and failure
  success_callback: ["metrics"]   # success only
  failure_callback: ["alerts"]    # failure only
  allow_dynamic_callback_disabling: true
callback_settings:
  audit:
    prefix: os.environ/AUDIT_PREFIX
environment_variables:
  AUDIT_PREFIX: "[audit]"
`;

/** Which callback received the events of which request: request id -> callback names. */
const received = new Map<string, Set<string>>();

function note(name: string, event: CallEvent): void {
  const id = String(event.metadata['requestId'] ?? '?');
  if (!received.has(id)) received.set(id, new Set());
  received.get(id)?.add(name);
}

/**
 * The adapters the config may name. A real service maps names to the adapter packages, e.g.
 * `langfuse: (params: LangfuseCallbackOptions) => langfuseCallback(params)`; this example keeps
 * in-process ones so that it runs anywhere.
 */
let auditParams: unknown;
const adapters: AdapterMap = {
  audit: (params: { prefix?: string }) => {
    auditParams = params;
    return defineCallback({ name: 'audit', onSuccess: (event) => note('audit', event), onFailure: (event) => note('audit', event) });
  },
  // Both hooks, like most adapters: the config's success_callback / failure_callback keeps one.
  metrics: () => defineCallback({ name: 'metrics', onSuccess: (event) => note('metrics', event), onFailure: (event) => note('metrics', event) }),
  alerts: () => defineCallback({ name: 'alerts', onSuccess: (event) => note('alerts', event), onFailure: (event) => note('alerts', event) }),
};

/** A helper deep in the service: it knows nothing of headers, yet its calls honour the client's. */
async function answer(openai: WrappedOpenAI<OpenAI>, question: string): Promise<{ short: string; long: string }> {
  // One call after a timer (a retry delay, a debounce, ...).
  await new Promise((resolve) => setTimeout(resolve, 10));
  const short = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `In five words: ${question}` }], max_tokens: 20 });
  // One streamed call.
  const stream = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: question }], max_tokens: 40, stream: true });
  let long = '';
  for await (const chunk of stream) long += chunk.choices[0]?.delta?.content ?? '';
  return { short: short.choices[0]?.message.content ?? '', long };
}

function createApp(manager: CallbackManager, openai: WrappedOpenAI<OpenAI>): express.Express {
  const app = express();
  // Every request runs in its callback scope: its disable header, and who asked.
  app.use(expressCallbackContext({ metadata: (req: Request) => ({ requestId: req.get('x-request-id'), userId: req.get('x-user-id') }) }));
  app.use(express.json());
  app.post('/ask', async (req, res) => {
    const question = typeof req.body?.question === 'string' ? (req.body.question as string) : 'What is llm-callbacks?';
    res.json(await answer(openai, question));
  });
  // LiteLLM's GET /callbacks/list, for the service's admins only.
  app.get('/callbacks/list', expressCallbacksList({ manager, authorize: (req: Request) => req.get('authorization') === `Bearer ${ADMIN_KEY}` }));
  return app;
}

async function main(): Promise<void> {
  let fake: FakeOpenAIServer | undefined;
  if (!realApi) fake = await startFakeOpenAI({ chunkDelayMs: 5 });
  const client = new OpenAI(realApi ? {} : { apiKey: 'sk-demo-not-a-real-key', baseURL: fake?.url });

  const configPath = process.env['LLM_CALLBACKS_CONFIG'] ?? writeTempConfig();
  let manager: CallbackManager;
  try {
    manager = await loadConfig(configPath, { adapters });
  } catch (error) {
    if (error instanceof ConfigError) console.error(error.message);
    throw error;
  }
  manager.on('callbackError', (info) => console.error(`callback ${info.callback} failed: ${info.error.message}`));
  const openai = wrapOpenAI(client, manager);
  const app = createApp(manager, openai);

  const serve = process.argv.includes('--serve');
  const port = serve ? Number(process.env['PORT'] ?? 3000) : 0;
  const server = await new Promise<Server>((resolve) => {
    const started = app.listen(port, '127.0.0.1', () => resolve(started));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  console.log(`\nllm-callbacks service example on ${url} — provider: ${realApi ? 'the OpenAI API' : `embedded OpenAI-compatible server at ${fake?.url}`}`);
  console.log(`config: ${configPath}\nmanager.list(): ${JSON.stringify(manager.list())}`);
  console.log(`audit adapter params (callback_settings.audit, os.environ/ resolved): ${JSON.stringify(auditParams)}\n`);

  if (serve) {
    console.log('Try:');
    console.log(`  curl -s ${url}/ask -H 'content-type: application/json' -H 'x-litellm-disable-callbacks: audit' -d '{"question":"hi"}'`);
    console.log(`  curl -s ${url}/callbacks/list -H 'authorization: Bearer ${ADMIN_KEY}'`);
    const stop = async (): Promise<void> => {
      server.close();
      await manager.shutdown();
      await fake?.close();
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
    return;
  }

  const ok = await selfTest(url, manager);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await manager.shutdown();
  await fake?.close();
  console.log(ok ? '\nself-test passed' : '\nself-test FAILED');
  process.exitCode = ok ? 0 : 1;
}

/** The service's own clients, as they would call it; then what each callback received. */
async function selfTest(url: string, manager: CallbackManager): Promise<boolean> {
  const checks: Array<{ check: string; result: string; ok: boolean }> = [];
  const expect = (check: string, actual: unknown, wanted: unknown): void => {
    const ok = JSON.stringify(actual) === JSON.stringify(wanted);
    checks.push({ check, result: ok ? 'ok' : `got ${JSON.stringify(actual)}, wanted ${JSON.stringify(wanted)}`, ok });
  };

  if (!process.env['LLM_CALLBACKS_CONFIG']) expect('callback_settings.audit reached the adapter, os.environ/ resolved', auditParams, { prefix: '[audit]' });
  const list = await fetch(`${url}/callbacks/list`);
  expect('GET /callbacks/list without the admin key is refused', list.status, 403);
  const listed = await fetch(`${url}/callbacks/list`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  const body: unknown = await listed.json();
  console.log(`GET /callbacks/list (admin): ${listed.status} ${JSON.stringify(body)}`);
  expect('GET /callbacks/list with the admin key answers LiteLLM-style JSON', body, {
    success: ['metrics'],
    failure: ['alerts'],
    success_and_failure: ['audit'],
  });

  // Two teams' clients at the same time; one handles sensitive data and switches audit off, as it
  // did when it talked to the LiteLLM proxy.
  const ask = (requestId: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/ask`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId, 'x-user-id': `user-of-${requestId}`, ...headers },
      body: JSON.stringify({ question: 'What does a disable header do?' }),
    }).then((r) => r.status);
  const statuses = await Promise.all([
    ask('team-a'),
    ask('team-b (sensitive)', { 'x-litellm-disable-callbacks': 'audit' }),
    ask('team-c', { 'x-litellm-disable-callbacks': 'METRICS,nosuch' }),
  ]);
  expect('every /ask answered 200', statuses, [200, 200, 200]);
  await manager.flush();

  const rows = ['team-a', 'team-b (sensitive)', 'team-c'].map((id) => ({
    request: id,
    'disable header': id === 'team-a' ? '-' : id === 'team-c' ? 'METRICS,nosuch' : 'audit',
    'callbacks that got its 2 calls': [...(received.get(id) ?? [])].sort().join(', ') || '(none)',
  }));
  console.log('');
  printTable(rows);
  expect('team-a is logged by audit and metrics', [...(received.get('team-a') ?? [])].sort(), ['audit', 'metrics']);
  expect('team-b (sensitive) reached metrics only', [...(received.get('team-b (sensitive)') ?? [])].sort(), ['metrics']);
  expect('team-c reached audit only (unknown names are ignored)', [...(received.get('team-c') ?? [])].sort(), ['audit']);
  console.log('');
  printTable(checks.map(({ check, result }) => ({ check, result })));
  return checks.every((c) => c.ok);
}

function writeTempConfig(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'llm-callbacks-service-')), 'litellm-config.yaml');
  writeFileSync(path, LITELLM_CONFIG);
  return path;
}

main().catch((error: unknown) => {
  if (!(error instanceof ConfigError)) console.error(error);
  process.exitCode = 1;
});
