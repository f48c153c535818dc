// loadConfig()/readConfig(): LiteLLM-shaped YAML and JSON files (temp files) and objects become the
// callbacks and lock of a manager, exactly as list() then reports them and as events then reach
// them; every invalid input is a ConfigError naming the path, what was expected and what was found.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmCallbacksError, defineCallback, wrapOpenAI, type CallEvent, type Callback } from '@llm-callbacks/core';
import { startFakeOpenAI, type FakeOpenAIServer } from '@llm-callbacks/testing';
import { ConfigError, loadConfig, readConfig, type AdapterContext, type AdapterMap } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llm-callbacks-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileCount = 0;
async function file(name: string, text: string): Promise<string> {
  fileCount += 1;
  const path = join(dir, `${fileCount}-${name}`);
  await writeFile(path, text);
  return path;
}

interface Made {
  params: unknown;
  context: AdapterContext;
  events: Array<{ hook: 'success' | 'failure'; event: CallEvent }>;
  shutdowns: number;
}

/** Test adapters: each makes a callback with both hooks (unless told) that records what it gets. */
function testAdapters(names: string[] = ['audit', 'metrics', 'alerts', 's3', 'langfuse', 'datadog']) {
  const made = new Map<string, Made>();
  const adapters: Record<string, (params: { name?: string }, context: AdapterContext) => Callback> = {};
  for (const key of names) {
    adapters[key] = (params, context) => {
      const record: Made = { params, context, events: [], shutdowns: 0 };
      made.set(key, record);
      return defineCallback({
        name: params.name ?? key,
        onSuccess: (event) => void record.events.push({ hook: 'success', event }),
        onFailure: (event) => void record.events.push({ hook: 'failure', event }),
        shutdown: () => void (record.shutdowns += 1),
      });
    };
  }
  return { adapters: adapters as AdapterMap, made };
}

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

const LITELLM_YAML = `
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY_THAT_IS_NOT_SET
general_settings:
  master_key: sk-1234
litellm_settings:
  drop_params: true
  callbacks: ["audit"]
  success_callback: ["metrics"]
  failure_callback: ["alerts"]
  allow_dynamic_callback_disabling: false
callback_settings:
  otel:
    message_logging: false
`;

describe('valid configs', () => {
  let openaiServer: FakeOpenAIServer;
  beforeAll(async () => {
    openaiServer = await startFakeOpenAI();
  });
  afterAll(async () => {
    await openaiServer.close();
  });

  it('a LiteLLM proxy YAML: callbacks -> both, success_callback -> success only, failure_callback -> failure only; the lock; other keys ignored', async () => {
    const { adapters, made } = testAdapters();
    const manager = await loadConfig(await file('config.yaml', LITELLM_YAML), { adapters, env: {} });
    expect(manager.list()).toEqual({ success: ['metrics'], failure: ['alerts'], success_and_failure: ['audit'] });
    expect(manager.allowDynamicCallbackDisabling).toBe(false);

    // And events follow the lists: a success reaches audit and metrics, a failure audit and alerts.
    const openai = wrapOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: openaiServer.url, maxRetries: 0 }), manager);
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await expect(openai.chat.completions.create({ model: 'error-400', messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow();
    await manager.flush({ timeoutMs: 5_000 });
    const hooks = (key: string) => made.get(key)?.events.map((e) => `${e.hook}:${e.event.status}`);
    expect(hooks('audit')).toEqual(['success:success', 'failure:failure']);
    expect(hooks('metrics')).toEqual(['success:success']);
    expect(hooks('alerts')).toEqual(['failure:failure']);
    await manager.shutdown();
    expect(made.get('metrics')?.shutdowns).toBe(1);
  });

  it('the same shape as JSON, as an object, and as a file: URL to a .yml file', async () => {
    const config = {
      litellm_settings: { callbacks: ['audit'], success_callback: ['metrics'], failure_callback: ['alerts'], allow_dynamic_callback_disabling: true },
    };
    const yml = await file(
      'config.yml',
      `litellm_settings:\n  callbacks: [audit]\n  success_callback: [metrics]\n  failure_callback: [alerts]\n  allow_dynamic_callback_disabling: true\n`,
    );
    for (const source of [await file('config.json', JSON.stringify(config, null, 2)), config, pathToFileURL(yml)]) {
      const manager = await loadConfig(source, testAdapters());
      expect(manager.list()).toEqual({ success: ['metrics'], failure: ['alerts'], success_and_failure: ['audit'] });
      expect(manager.allowDynamicCallbackDisabling).toBe(true);
    }
  });

  it('a name in success_callback and failure_callback is one callback with both hooks; names match case-insensitively', async () => {
    const yaml = `litellm_settings:\n  success_callback: [Audit]\n  failure_callback: [AUDIT, metrics]\n`;
    const { adapters, made } = testAdapters();
    const resolved = await readConfig(await file('both.yaml', yaml), { adapters });
    const manager = await loadConfig(await file('both.yaml', yaml), { adapters });
    expect(manager.list()).toEqual({ success: [], failure: ['metrics'], success_and_failure: ['audit'] });
    expect(resolved.managerOptions).not.toHaveProperty('allowDynamicCallbackDisabling');
    expect(manager.allowDynamicCallbackDisabling).toBe(true);
    expect(made.get('audit')?.context.name).toBe('Audit');
  });

  it('hands each adapter its params from callback_settings or <name>_callback_params, with os.environ/ references resolved', async () => {
    const yaml = `
environment_variables:
  LOG_REGION: eu-west-1
  FROM_REAL_ENV: os.environ/REAL_BUCKET
litellm_settings:
  callbacks: [audit, s3]
  s3_callback_params:
    s3_bucket_name: os.environ/REAL_BUCKET
    s3_region_name: os.environ/LOG_REGION
    nested: { list: [os.environ/LOG_REGION, 1] }
callback_settings:
  audit:
    name: audit-eu
    secret: os.environ/AUDIT_SECRET
`;
    const { adapters, made } = testAdapters();
    const env = { REAL_BUCKET: 'llm-logs', AUDIT_SECRET: 's3cr3t' };
    const resolved = await readConfig(await file('params.yaml', yaml), { adapters, env });
    expect(made.get('s3')?.params).toEqual({ s3_bucket_name: 'llm-logs', s3_region_name: 'eu-west-1', nested: { list: ['eu-west-1', 1] } });
    expect(made.get('audit')?.params).toEqual({ name: 'audit-eu', secret: 's3cr3t' });
    expect(made.get('audit')?.context.env).toMatchObject({ REAL_BUCKET: 'llm-logs', LOG_REGION: 'eu-west-1', FROM_REAL_ENV: 'llm-logs' });
    expect(resolved.managerOptions.callbacks.map((c) => c.name)).toEqual(['audit-eu', 's3']);
    expect([...resolved.adapters.keys()]).toEqual(['audit', 's3']);
    expect(resolved.unusedSettings).toEqual([]);
  });

  it('reports params given for callbacks the config does not list, and references callback names through the environment', async () => {
    const yaml = `litellm_settings:\n  callbacks: [os.environ/CALLBACK]\n  datadog_callback_params: { site: x }\ncallback_settings:\n  otel: { a: 1 }\n`;
    const resolved = await readConfig(await file('unused.yaml', yaml), { ...testAdapters(), env: { CALLBACK: 'audit' } });
    expect(resolved.managerOptions.callbacks.map((c) => c.name)).toEqual(['audit']);
    expect(resolved.unusedSettings).toEqual(['callback_settings.otel', 'litellm_settings.datadog_callback_params']);
  });

  it('registers a success-only view that keeps the adapter lifecycle, and other manager options from the caller', async () => {
    const calls: string[] = [];
    class ClassAdapter implements Callback {
      readonly name = 'classy';
      readonly required = true;
      onSuccess(): void {
        calls.push(`success:${this.name}`);
      }
      onFailure(): void {
        calls.push('failure');
      }
      flush(): void {
        calls.push(`flush:${this.name}`);
      }
    }
    const manager = await loadConfig(
      { litellm_settings: { success_callback: ['classy'] } },
      { adapters: { classy: () => new ClassAdapter() }, manager: { timeoutMs: 1234 } },
    );
    expect(manager.list()).toEqual({ success: ['classy'], failure: [], success_and_failure: [] });
    const [view] = manager.callbacks();
    expect(view?.required).toBe(true);
    expect(view?.onFailure).toBeUndefined();
    await view?.onSuccess?.({} as CallEvent);
    await manager.flush();
    expect(calls).toEqual(['success:classy', 'flush:classy']);
  });

  it("required: true in a callback's settings locks it, even when the adapter factory ignores that param", async () => {
    const server = await startFakeOpenAI();
    try {
      const { adapters, made } = testAdapters();
      const yaml = `litellm_settings:\n  callbacks: [audit, metrics]\n  success_callback: [s3]\ncallback_settings:\n  audit: { required: true }\n  s3: { required: true }\n`;
      const manager = await loadConfig(await file('required.yaml', yaml), { adapters });
      // testAdapters() never copies params.required onto its callback: the lock comes from the config.
      expect(made.get('audit')?.params).toEqual({ required: true });
      expect(manager.callbacks().map((c) => [c.name, c.required === true])).toEqual([
        ['audit', true],
        ['metrics', false],
        ['s3', true],
      ]);
      const openai = wrapOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 }), manager);
      await openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, { disableCallbacks: 'audit,metrics,s3' });
      await manager.flush();
      expect(made.get('audit')?.events).toHaveLength(1);
      expect(made.get('s3')?.events).toHaveLength(1);
      expect(made.get('metrics')?.events).toHaveLength(0);
      await manager.shutdown();
    } finally {
      await server.close();
    }
  });

  it.each([
    ['"true"', 'the string "true"'],
    ['1', 'the number 1'],
  ])('required: %s is an error, never read as a lock or as no lock', async (value, found) => {
    const yaml = `litellm_settings:\n  callbacks: [audit]\ncallback_settings:\n  audit:\n    required: ${value}\n`;
    const error = await configError(loadConfig(await file('required-bad.yaml', yaml), testAdapters()));
    expect(error.issues).toEqual([expect.objectContaining({ path: 'callback_settings.audit.required', found, line: 5 })]);
    expect(error.message).toContain('required is a compliance lock');
  });

  it('a config with no callbacks gives an empty manager', async () => {
    const manager = await loadConfig(await file('none.yaml', 'general_settings:\n  master_key: sk-1\n'), testAdapters());
    expect(manager.size).toBe(0);
  });
});

describe('invalid configs: each problem names its path, what was expected and what was found', () => {
  it('is a ConfigError (an LlmCallbacksError) with the file, every issue and a message listing them', async () => {
    const path = await file('two.yaml', `litellm_settings:\n  callbacks: [audit, 3]\n  allow_dynamic_callback_disabling: "false"\n`);
    const error = await configError(loadConfig(path, testAdapters()));
    expect(error).toBeInstanceOf(LlmCallbacksError);
    expect(error.code).toBe('INVALID_OPTIONS');
    expect(error.file).toBe(path);
    expect(error.issues).toEqual([
      { path: 'litellm_settings.callbacks[1]', expected: 'a callback name (a string such as "langfuse")', found: 'the number 3', line: 2, column: 22 },
      {
        path: 'litellm_settings.allow_dynamic_callback_disabling',
        expected: 'true or false (a YAML/JSON boolean, unquoted), since this is the compliance lock and is never guessed',
        found: 'the string "false"',
        line: 3,
        column: 37,
      },
    ]);
    expect(error.message).toBe(
      [
        `Invalid llm-callbacks config in ${path} (2 problems):`,
        '  - litellm_settings.callbacks[1] (line 2, column 22): expected a callback name (a string such as "langfuse"), found the number 3',
        '  - litellm_settings.allow_dynamic_callback_disabling (line 3, column 37): expected true or false (a YAML/JSON boolean, unquoted), since this is the compliance lock and is never guessed, found the string "false"',
      ].join('\n'),
    );
  });

  it('reports the problems of every stage in one run, in file order (the README example)', async () => {
    const yaml = [
      'litellm_settings:',
      '  callbacks: [s3]',
      '  success_callback: ["langfuze"]',
      '  allow_dynamic_callback_disabling: "false"',
      'callback_settings:',
      '  s3:',
      '    bucket: os.environ/LOG_BUCKET',
      '',
    ].join('\n');
    const path = await file('litellm-config.yaml', yaml);
    const error = await configError(loadConfig(path, { ...testAdapters(['langfuse', 'datadog', 's3']), env: {} }));
    expect(error.message).toBe(
      [
        `Invalid llm-callbacks config in ${path} (3 problems):`,
        '  - litellm_settings.success_callback[0] (line 3, column 22): expected the name of a known callback: datadog, langfuse, s3, found the name "langfuze"; did you mean "langfuse"? Otherwise add it to the adapters map passed to loadConfig, or remove it from the config',
        '  - litellm_settings.allow_dynamic_callback_disabling (line 4, column 37): expected true or false (a YAML/JSON boolean, unquoted), since this is the compliance lock and is never guessed, found the string "false"',
        '  - callback_settings.s3.bucket (line 7, column 13): expected environment variable LOG_BUCKET to be set (referenced as os.environ/LOG_BUCKET), found it unset; set LOG_BUCKET, or define it under environment_variables in the config',
      ].join('\n'),
    );
  });

  it.each([
    ['"false"', 'the string "false"'],
    ['no', 'the string "no"'],
    ['0', 'the number 0'],
    ['1', 'the number 1'],
    ['', 'null (an empty value)'],
    ['[false]', 'a list of 1'],
  ])('allow_dynamic_callback_disabling: %s is an error, never read as true or false', async (value, found) => {
    const error = await configError(loadConfig(await file('lock.yaml', `litellm_settings:\n  allow_dynamic_callback_disabling: ${value}\n`), testAdapters()));
    expect(error.issues).toEqual([expect.objectContaining({ path: 'litellm_settings.allow_dynamic_callback_disabling', found, line: 2 })]);
    expect(error.message).toContain('expected true or false');
  });

  it('allow_dynamic_callback_disabling from os.environ/ is a string too, and says where it came from', async () => {
    const error = await configError(
      loadConfig({ litellm_settings: { allow_dynamic_callback_disabling: 'os.environ/LOCK' } }, { ...testAdapters(), env: { LOCK: 'false' } }),
    );
    expect(error.issues).toEqual([expect.objectContaining({ found: 'the string "false" (from os.environ/LOCK)' })]);
  });

  it('an unknown callback lists the known ones and suggests the closest', async () => {
    const error = await configError(
      loadConfig(await file('unknown.yaml', 'litellm_settings:\n  success_callback: ["langfuze"]\n'), testAdapters(['langfuse', 'datadog', 's3'])),
    );
    expect(error.issues).toEqual([
      {
        path: 'litellm_settings.success_callback[0]',
        expected: 'the name of a known callback: datadog, langfuse, s3',
        found: 'the name "langfuze"',
        hint: 'did you mean "langfuse"? Otherwise add it to the adapters map passed to loadConfig, or remove it from the config',
        line: 2,
        column: 22,
      },
    ]);
  });

  it('an os.environ/ reference to a variable that is not set, and a malformed one', async () => {
    const yaml = `litellm_settings:\n  callbacks: [s3]\n  s3_callback_params:\n    s3_bucket_name: os.environ/LOG_BUCKET\n    s3_path: "os.environ/"\n`;
    const error = await configError(loadConfig(await file('env.yaml', yaml), { ...testAdapters(), env: {} }));
    expect(error.issues).toEqual([
      {
        path: 'litellm_settings.s3_callback_params.s3_bucket_name',
        expected: 'environment variable LOG_BUCKET to be set (referenced as os.environ/LOG_BUCKET)',
        found: 'it unset',
        hint: 'set LOG_BUCKET, or define it under environment_variables in the config',
        line: 4,
        column: 21,
      },
      expect.objectContaining({ path: 'litellm_settings.s3_callback_params.s3_path', found: 'the string "os.environ/"', line: 5 }),
    ]);
    expect(error.message).toContain(
      'litellm_settings.s3_callback_params.s3_bucket_name (line 4, column 21): expected environment variable LOG_BUCKET to be set',
    );
  });

  it.each<[string, unknown, string, string]>([
    ['a list at the root', ['litellm_settings'], '(root)', 'a list of 1'],
    ['litellm_settings as a string', { litellm_settings: 'callbacks' }, 'litellm_settings', 'the string "callbacks"'],
    ['callbacks as one string', { litellm_settings: { callbacks: 'langfuse' } }, 'litellm_settings.callbacks', 'the string "langfuse"'],
    ['an empty callback name', { litellm_settings: { failure_callback: [''] } }, 'litellm_settings.failure_callback[0]', 'an empty string'],
    ['callback_settings as a list', { callback_settings: ['audit'] }, 'callback_settings', 'a list of 1'],
    ['params as a list', { litellm_settings: { callbacks: ['audit'] }, callback_settings: { audit: [1] } }, 'callback_settings.audit', 'a list of 1'],
    [
      '_callback_params as a string',
      { litellm_settings: { callbacks: ['s3'], s3_callback_params: 'bucket' } },
      'litellm_settings.s3_callback_params',
      'the string "bucket"',
    ],
    ['environment_variables with a mapping value', { environment_variables: { A: { b: 1 } } }, 'environment_variables.A', 'a mapping'],
  ])('%s', async (_title, config, path, found) => {
    const error = await configError(loadConfig(config as object, testAdapters()));
    expect(error.issues).toEqual([expect.objectContaining({ path, found })]);
    expect(error.issues[0]?.expected).toMatch(/^a /);
  });

  it('params given both in callback_settings and in <name>_callback_params', async () => {
    const error = await configError(
      loadConfig({ litellm_settings: { callbacks: ['s3'], s3_callback_params: { a: 1 } }, callback_settings: { s3: { a: 2 } } }, testAdapters()),
    );
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: 'litellm_settings.s3_callback_params',
        expected: 'the params of "s3" in one place only',
        found: 'them also at callback_settings.s3',
      }),
    ]);
  });

  it('file problems: missing, YAML syntax (with its line), JSON syntax, an empty document', async () => {
    const missing = await configError(loadConfig(join(dir, 'nope.yaml'), testAdapters()));
    expect(missing.issues).toEqual([{ path: '(file)', expected: 'a readable YAML or JSON config file', found: 'no such file' }]);

    const yaml = await configError(loadConfig(await file('bad.yaml', 'litellm_settings:\n  callbacks: [audit\n'), testAdapters()));
    expect(yaml.issues[0]).toMatchObject({
      path: '(file)',
      expected: 'valid YAML',
      found: expect.stringMatching(/^a syntax error: /),
      line: expect.any(Number),
    });

    const duplicate = await configError(loadConfig(await file('dup.yaml', 'litellm_settings:\n  callbacks: [a]\n  callbacks: [b]\n'), testAdapters()));
    expect(duplicate.issues[0]).toMatchObject({ expected: 'valid YAML', found: expect.stringContaining('unique'), line: 3 });

    const json = await configError(loadConfig(await file('bad.json', '{\n  "litellm_settings": {,}\n}'), testAdapters()));
    expect(json.issues[0]).toMatchObject({ path: '(file)', expected: 'valid JSON', line: 2 });

    const empty = await configError(loadConfig(await file('empty.yaml', ''), testAdapters()));
    expect(empty.issues).toEqual([expect.objectContaining({ path: '(root)', found: 'null (an empty value)' })]);
  });

  it('an adapter that fails to start: its error, at the path that named it; the ones already made are shut down', async () => {
    const { adapters, made } = testAdapters();
    const failing: AdapterMap = {
      ...adapters,
      langfuse: () => {
        throw new Error('langfuseCallback: publicKey is required (option publicKey or LANGFUSE_PUBLIC_KEY)');
      },
    };
    const error = await configError(loadConfig({ litellm_settings: { callbacks: ['audit'], success_callback: ['langfuse'] } }, { adapters: failing }));
    expect(error.issues).toEqual([
      {
        path: 'litellm_settings.success_callback[0]',
        expected: 'the adapter "langfuse" to start with the params given',
        found: 'an error: langfuseCallback: publicKey is required (option publicKey or LANGFUSE_PUBLIC_KEY)',
      },
    ]);
    expect(made.get('audit')?.shutdowns).toBe(1);
  });

  it('a callback without the hook its list needs, a factory returning no callback, and two names making one callback name', async () => {
    const adapters: AdapterMap = {
      onlysuccess: () => defineCallback({ name: 'onlysuccess', onSuccess: () => undefined }),
      nothing: () => ({}) as Callback,
      one: () => defineCallback({ name: 'same', onSuccess: () => undefined, onFailure: () => undefined }),
      two: () => defineCallback({ name: 'SAME', onSuccess: () => undefined, onFailure: () => undefined }),
    };
    const error = await configError(
      loadConfig({ litellm_settings: { callbacks: ['one', 'two'], failure_callback: ['onlysuccess', 'nothing'] } }, { adapters }),
    );
    expect(error.issues).toEqual([
      expect.objectContaining({ path: 'litellm_settings.callbacks[1]', found: '"two" and "one" both make a callback named "SAME"' }),
      expect.objectContaining({
        path: 'litellm_settings.failure_callback[0]',
        expected: 'a callback with an onFailure hook for a failure list (callbacks or failure_callback)',
        found: '"onlysuccess" has only onSuccess',
      }),
      expect.objectContaining({
        path: 'litellm_settings.failure_callback[1]',
        expected: 'the adapter "nothing" to return a callback ({ name, onSuccess and/or onFailure })',
        found: expect.stringMatching(/^one that is not usable: Callback name undefined is not valid/),
      }),
    ]);
  });

  it('options.manager cannot bring callbacks or the lock: they come from the file', async () => {
    const options = { ...testAdapters(), manager: { allowDynamicCallbackDisabling: true } } as unknown as Parameters<typeof loadConfig>[1];
    await expect(loadConfig({ litellm_settings: { allow_dynamic_callback_disabling: false } }, options)).rejects.toThrow(
      /options\.manager\.allowDynamicCallbackDisabling is not accepted/,
    );
  });

  it('options.adapters is required', async () => {
    await expect(loadConfig({}, undefined as unknown as { adapters: AdapterMap })).rejects.toThrow(/options\.adapters is required/);
  });
});
