// The built package as consumers see it: Node ESM and CommonJS, and TypeScript under node16 and
// bundler resolution, all importing @llm-callbacks/core from dist/ (never the source condition).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const coreDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(coreDir, '..', '..');
const distDir = join(coreDir, 'dist');
const distFiles = ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts'];
const tscBin = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A clean environment for child processes: no inherited NODE_OPTIONS (which could add conditions). */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['NODE_OPTIONS'];
  return env;
}

function run(file: string, args: string[], cwd: string, timeout = 60_000): Promise<RunResult> {
  return new Promise((done) => {
    execFile(file, args, { cwd, env: childEnv(), timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The directory of the package named `name` that contains `file` (openai does not export ./package.json). */
function packageRoot(file: string, name: string): string {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return dir;
  }
  throw new Error(`no package.json named ${name} above ${file}`);
}

let work = '';

beforeAll(async () => {
  if (!distFiles.every((f) => existsSync(join(distDir, f)))) {
    const built = await run('pnpm', ['--filter', '@llm-callbacks/core', 'build'], repoRoot, 120_000);
    if (built.code !== 0) throw new Error(`building @llm-callbacks/core failed:\n${built.stdout}\n${built.stderr}`);
  }
  // Resolve openai the way core itself does (core's own dependency, not whatever is hoisted).
  const requireFromCore = createRequire(join(coreDir, 'package.json'));
  const openaiDir = packageRoot(requireFromCore.resolve('openai'), 'openai');

  work = await realpath(await mkdtemp(join(tmpdir(), 'llm-callbacks-consumers-')));
  await mkdir(join(work, 'node_modules', '@llm-callbacks'), { recursive: true });
  await symlink(coreDir, join(work, 'node_modules', '@llm-callbacks', 'core'), 'dir');
  await symlink(openaiDir, join(work, 'node_modules', 'openai'), 'dir');
  // Node's own types for the TypeScript checks (openai's declarations refer to them).
  const typesNodeDir = dirname(createRequire(join(repoRoot, 'package.json')).resolve('@types/node/package.json'));
  await mkdir(join(work, 'node_modules', '@types'), { recursive: true });
  await symlink(typesNodeDir, join(work, 'node_modules', '@types', 'node'), 'dir');
  // No "type" field: .mjs/.mts are ESM, .cjs/.cts CommonJS, whatever the extension-less default.
  await writeFile(join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
}, 150_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const expectedList = { success: ['ok-logger'], failure: ['fail-logger'], success_and_failure: ['both-logger'] };

describe('Node consumers of the built package', () => {
  it('both builds loaded at once (dual package): a manager from one works with the other, and scopes are shared', async () => {
    await writeFile(
      join(work, 'dual.mjs'),
      `import { createRequire } from 'node:module';
import * as esm from '@llm-callbacks/core';
import OpenAI from 'openai';
const cjs = createRequire(import.meta.url)('@llm-callbacks/core');
const seen = [];
const manager = esm.createCallbackManager({ callbacks: [esm.defineCallback({ name: 'audit', onSuccess() {}, onFailure() {} })] });
manager.on('callbacksDisabled', (info) => seen.push(info.disabled));
const client = cjs.wrapOpenAI(new OpenAI({ apiKey: 'test', baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0 }), manager);
await esm.withCallbackContext({ disableCallbacks: 'audit' }, () => client.chat.completions.create({ model: 'm', messages: [] }).catch(() => {}));
console.log(JSON.stringify({ different: esm.wrapOpenAI !== cjs.wrapOpenAI, seen }));
`,
    );
    const r = await run(process.execPath, ['dual.mjs'], work);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ different: true, seen: [['audit']] });
  });

  it('ESM: import resolves dist/index.js and the API works', async () => {
    await writeFile(
      join(work, 'consumer.mjs'),
      `import { createCallbackManager, wrapOpenAI, defineCallback, CallEventSchema } from '@llm-callbacks/core';
import OpenAI from 'openai';
const manager = createCallbackManager({
  callbacks: [
    defineCallback({ name: 'ok-logger', onSuccess() {} }),
    defineCallback({ name: 'fail-logger', onFailure() {} }),
  ],
});
manager.register(defineCallback({ name: 'both-logger', onSuccess() {}, onFailure() {} }));
const client = wrapOpenAI(new OpenAI({ apiKey: 'test', baseURL: 'http://127.0.0.1:9/v1' }), manager);
console.log(JSON.stringify({
  list: manager.list(),
  resolved: import.meta.resolve('@llm-callbacks/core'),
  schema: typeof CallEventSchema.safeParse,
  wrapped: typeof client.chat.completions.create,
}));
`,
    );
    const r = await run(process.execPath, ['consumer.mjs'], work);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { list: unknown; resolved: string; schema: string; wrapped: string };
    expect(out.list).toEqual(expectedList);
    expect(fileURLToPath(out.resolved)).toBe(join(distDir, 'index.js'));
    expect(out.schema).toBe('function');
    expect(out.wrapped).toBe('function');
  });

  it('CommonJS: require resolves dist/index.cjs and never loads the ESM build', async () => {
    await writeFile(
      join(work, 'consumer.cjs'),
      `const core = require('@llm-callbacks/core');
const OpenAI = require('openai');
const { createCallbackManager, wrapOpenAI, defineCallback, CallEventSchema } = core;
const manager = createCallbackManager({
  callbacks: [
    defineCallback({ name: 'ok-logger', onSuccess() {} }),
    defineCallback({ name: 'fail-logger', onFailure() {} }),
  ],
});
manager.register(defineCallback({ name: 'both-logger', onSuccess() {}, onFailure() {} }));
const client = wrapOpenAI(new OpenAI({ apiKey: 'test', baseURL: 'http://127.0.0.1:9/v1' }), manager);
const loaded = Object.keys(require.cache).filter((k) => k.includes('${join('core', 'dist')}'));
console.log(JSON.stringify({
  list: manager.list(),
  resolved: require.resolve('@llm-callbacks/core'),
  loaded,
  schema: typeof CallEventSchema.safeParse,
  wrapped: typeof client.chat.completions.create,
}));
`,
    );
    const r = await run(process.execPath, ['consumer.cjs'], work);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { list: unknown; resolved: string; loaded: string[]; schema: string; wrapped: string };
    expect(out.list).toEqual(expectedList);
    expect(out.resolved).toBe(join(distDir, 'index.cjs'));
    expect(out.loaded).toEqual([join(distDir, 'index.cjs')]);
    expect(out.schema).toBe('function');
    expect(out.wrapped).toBe('function');
  });
});

// A consumer using values and types. Its expected-error lines only hold while the declarations
// really resolve (an unresolved import would type things as `any` and make them unused errors).
const tsConsumer = `import { createCallbackManager, wrapOpenAI, defineCallback, CallEventSchema } from '@llm-callbacks/core';
import type { CallEvent, Callback, CallbackList } from '@llm-callbacks/core';
import OpenAI from 'openai';

const seen: CallEvent[] = [];
const logger: Callback = defineCallback({
  name: 'ts-logger',
  onSuccess(event: CallEvent) {
    seen.push(event);
  },
});
const manager = createCallbackManager({ callbacks: [logger] });
const list: CallbackList = manager.list();
const names: string[] = list.success;
manager.on('callbackError', (info) => {
  const who: string = info.callback;
  void who;
});
const client = wrapOpenAI(new OpenAI({ apiKey: 'test' }), manager);
const asOpenAI: OpenAI = client;
const parsed = CallEventSchema.safeParse({});
const ok: boolean = parsed.success;
// @ts-expect-error a callback needs a name
const bad: Callback = { onSuccess() {} };
// @ts-expect-error list() returns arrays of names (fails if the types were any)
const notNames: number = manager.list().success;
// @ts-expect-error the wrapped client is an OpenAI client, not a string (fails if openai's types were lost)
const notClient: string = client;
// @ts-expect-error safeParse().success is a boolean (fails if zod's types were lost)
const notBool: string = parsed.success;
// @ts-expect-error no such manager event (fails if eventemitter3's types were lost)
manager.on('noSuchEvent', () => {});
export { seen, names, asOpenAI, ok, bad, notNames, notClient, notBool };
`;

interface TsCase {
  label: string;
  module: string;
  moduleResolution: string;
  /** Consumer file name -> the declaration file @llm-callbacks/core must resolve to from it. */
  files: Record<string, string>;
}

const tsCases: TsCase[] = [
  {
    label: 'module node16 + moduleResolution node16 (ESM .mts and CommonJS .cts)',
    module: 'node16',
    moduleResolution: 'node16',
    files: { 'consumer-esm.mts': 'index.d.ts', 'consumer-cjs.cts': 'index.d.cts' },
  },
  {
    label: 'module esnext + moduleResolution bundler',
    module: 'esnext',
    moduleResolution: 'bundler',
    files: { 'consumer-bundler.ts': 'index.d.ts' },
  },
];

describe('TypeScript consumers of the built package', () => {
  it.each(tsCases)('tsc --noEmit passes with $label, using the dist declarations', async ({ module, moduleResolution, files }) => {
    for (const file of Object.keys(files)) await writeFile(join(work, file), tsConsumer);
    // skipLibCheck keeps this fast (checking openai's own declarations takes ~15 s); the consumer's
    // expected-error lines still fail if any declaration import does not resolve.
    // No customConditions: a consumer never sees the "@llm-callbacks/source" condition.
    const r = await run(
      process.execPath,
      [
        tscBin,
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--traceResolution',
        '--target',
        'es2022',
        '--types',
        'node',
        '--module',
        module,
        '--moduleResolution',
        moduleResolution,
        ...Object.keys(files),
      ],
      work,
    );
    const diagnostics = r.stdout
      .split('\n')
      .filter((l) => /error TS\d+/.test(l))
      .join('\n');
    expect(diagnostics).toBe('');
    expect(r.code).toBe(0);
    const resolved: Record<string, string> = {};
    const pattern = /Resolving module '@llm-callbacks\/core' from '([^']+)'[\s\S]*?Module name '@llm-callbacks\/core' was successfully resolved to '([^']+)'/g;
    for (const m of r.stdout.matchAll(pattern)) resolved[m[1]!.split(/[\\/]/).pop()!] = m[2]!;
    const expected = Object.fromEntries(Object.entries(files).map(([file, decl]) => [file, join(distDir, decl)]));
    expect(resolved).toEqual(expected);
    expect(r.stdout).not.toContain(join(coreDir, 'src'));
  });
});
