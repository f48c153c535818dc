#!/usr/bin/env node
// Release check for every publishable package, on the tarballs users will install (not the
// workspace): `pnpm pack` each one, lint the tarball with publint and "are the types wrong", check
// what it contains, then install all tarballs with npm into a fresh consumer project and use them
// there as Node ESM, as CommonJS, and from TypeScript with moduleResolution node16 and bundler.
//
// Needs built packages (`pnpm build` first). Usage: node scripts/check-packages.mjs [--keep]
// (--keep leaves the temporary directory for inspection). Exit code 0 only when every check passes.
// The workspace dist is already tested in packages/core/test/package-consumers.test.ts; this is
// the packed and npm-installed counterpart, for all packages together.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const bin = (name) => join(root, 'node_modules', '.bin', name);

let failures = 0;
const fail = (what, detail = '') => {
  failures += 1;
  console.log(`  FAIL ${what}${detail ? `\n${indent(detail)}` : ''}`);
};
const pass = (what) => console.log(`  ok   ${what}`);
const indent = (text) =>
  String(text)
    .trimEnd()
    .split('\n')
    .map((l) => `       ${l}`)
    .join('\n');
const check = (cond, what, detail) => (cond ? pass(what) : fail(what, detail));

function run(file, args, cwd, { timeout = 300_000, env = {} } = {}) {
  const childEnv = { ...process.env, ...env };
  delete childEnv.NODE_OPTIONS; // nothing may add export conditions behind our back
  return new Promise((done) => {
    execFile(file, args, { cwd, env: childEnv, timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr), output: `${stdout}${stderr}` });
    });
  });
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const timed = async (label, fn) => {
  const start = Date.now();
  console.log(`\n-- ${label}`);
  const result = await fn();
  console.log(`   (${((Date.now() - start) / 1000).toFixed(1)}s)`);
  return result;
};

// The workspace's publishable packages: every package.json under packages/ without "private".
function publishablePackages() {
  const dirs = [];
  const walk = (dir, depth) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === 'node_modules') continue;
      const full = join(dir, entry.name);
      if (existsSync(join(full, 'package.json'))) dirs.push(full);
      else if (depth > 0) walk(full, depth - 1);
    }
  };
  walk(join(root, 'packages'), 1);
  return dirs
    .map((dir) => ({ dir, manifest: readJson(join(dir, 'package.json')) }))
    .filter(({ manifest }) => manifest.private !== true)
    .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
}

const packages = publishablePackages();
const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8');
const work = await realpath(await mkdtemp(join(tmpdir(), 'llm-callbacks-packages-')));
const tarDir = join(work, 'tarballs');
const consumer = join(work, 'consumer');
await mkdir(tarDir, { recursive: true });
await mkdir(consumer, { recursive: true });
console.log(`checking ${packages.map((p) => p.manifest.name).join(', ')} in ${work}`);

try {
  // 1. Pack each package exactly as `pnpm publish` would (workspace: ranges replaced, publishConfig applied).
  const tarballs = await timed('pnpm pack', async () => {
    const out = {};
    for (const { dir, manifest } of packages) {
      const r = await run('pnpm', ['pack', '--pack-destination', tarDir], dir);
      const file = join(tarDir, `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`);
      if (r.code !== 0 || !existsSync(file)) fail(`pack ${manifest.name}`, r.output);
      else {
        pass(`pack ${manifest.name} -> ${relative(work, file)}`);
        out[manifest.name] = file;
      }
    }
    return out;
  });

  // 2. What is inside each tarball.
  await timed('tarball contents and manifests', async () => {
    for (const { manifest } of packages) {
      const file = tarballs[manifest.name];
      if (!file) continue;
      const name = manifest.name;
      const list = (await run('tar', ['-tzf', file], work)).stdout.split('\n').filter(Boolean);
      const has = (p) => list.includes(`package/${p}`);
      const missing = ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts'].filter((p) => !has(p));
      check(missing.length === 0, `${name}: ships package.json, README.md, LICENSE and both builds with declarations`, `missing: ${missing.join(', ')}`);
      const stray = list.filter((p) => /\/(test|tests|__fixtures__|node_modules)\/|\.test\.|\.tsbuildinfo$|tsup\.config/.test(p));
      check(stray.length === 0, `${name}: no tests, fixtures or build config in the tarball`, stray.join('\n'));
      const packed = JSON.parse((await run('tar', ['-xzOf', file, 'package/package.json'], work)).stdout);
      const ranges = { ...packed.dependencies, ...packed.peerDependencies, ...packed.optionalDependencies };
      const workspaceRanges = Object.entries(ranges).filter(([, v]) => String(v).startsWith('workspace:'));
      check(workspaceRanges.length === 0, `${name}: no workspace: ranges left in the packed manifest`, JSON.stringify(workspaceRanges));
      const exportsText = JSON.stringify(packed.exports ?? {});
      check(
        !exportsText.includes('@llm-callbacks/source') && !exportsText.includes('/src/'),
        `${name}: published exports point at dist only (no source condition)`,
        exportsText,
      );
      const fields = ['license', 'description', 'repository', 'homepage', 'bugs', 'keywords', 'engines'].filter((f) => packed[f] === undefined);
      check(
        fields.length === 0 && packed.license === 'MIT',
        `${name}: license MIT, description, repository, homepage, bugs, keywords, engines`,
        `missing: ${fields.join(', ')}`,
      );
      check(packed.publishConfig?.access === 'public', `${name}: publishConfig.access is public (a scoped package is private by default)`);
      const licenseText = (await run('tar', ['-xzOf', file, 'package/LICENSE'], work)).stdout;
      check(licenseText === rootLicense, `${name}: LICENSE is the repository's LICENSE`);
    }
  });

  // 3. publint (strict: warnings fail too) and attw on each tarball.
  await timed('publint --strict and attw on the tarballs', async () => {
    for (const [name, file] of Object.entries(tarballs)) {
      const p = await run(bin('publint'), ['--strict', file], work);
      check(p.code === 0, `publint ${name}`, p.output);
      const a = await run(bin('attw'), [file, '--format', 'ascii'], work);
      check(a.code === 0 && !/❌|⚠️|Error/.test(a.output.replace(/No problems found/g, '')), `attw ${name}`, a.output);
    }
  });

  // 4. A consumer project that installs the tarballs with npm, as a user would.
  const versionOf = (pkgDir, dep) => readJson(join(pkgDir, 'package.json')).devDependencies?.[dep];
  const coreDir = packages.find((p) => p.manifest.name === '@llm-callbacks/core')?.dir ?? join(root, 'packages', 'core');
  const openaiVersion = versionOf(coreDir, 'openai');
  const typesNode = readJson(join(root, 'package.json')).devDependencies['@types/node'];
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'tarball-consumer', private: true, version: '0.0.0' }, null, 2));
  const installed = await timed(`npm install (tarballs + openai@${openaiVersion} + @types/node@${typesNode})`, async () => {
    const r = await run(
      'npm',
      [
        'install',
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
        '--prefer-offline',
        '--loglevel=error',
        ...Object.values(tarballs),
        `openai@${openaiVersion}`,
        `@types/node@${typesNode}`,
      ],
      consumer,
      { timeout: 600_000, env: { npm_config_update_notifier: 'false' } },
    );
    check(r.code === 0, 'npm install of the tarballs (peer dependencies satisfied, no workspace links)', r.output);
    return r.code === 0;
  });

  if (installed) {
    const names = Object.keys(tarballs);
    const distOf = (name, file) => join(consumer, 'node_modules', ...name.split('/'), 'dist', file);

    await timed('Node consumers (ESM and CommonJS)', async () => {
      // Every package loads in both module systems, from its installed dist, with the same exports.
      const probe = (kind) => `
const names = ${JSON.stringify(names)};
const out = {};
for (const name of names) {
  ${kind === 'esm' ? 'const mod = await import(name); const resolved = (await import("node:url")).fileURLToPath(import.meta.resolve(name));' : 'const mod = require(name); const resolved = require.resolve(name);'}
  out[name] = { resolved, exports: Object.keys(mod).filter((k) => k !== 'default' && k !== 'module.exports').sort() };
}
${kind === 'esm' ? '' : "out.loadedEsm = Object.keys(require.cache).filter((k) => k.includes('@llm-callbacks') && k.endsWith('.js'));"}
console.log(JSON.stringify(out));
`;
      await writeFile(join(consumer, 'probe.mjs'), probe('esm'));
      await writeFile(join(consumer, 'probe.cjs'), probe('cjs'));
      const esm = await run(process.execPath, ['probe.mjs'], consumer);
      const cjs = await run(process.execPath, ['probe.cjs'], consumer);
      check(esm.code === 0, 'ESM: every package imports', esm.output);
      check(cjs.code === 0, 'CommonJS: every package requires', cjs.output);
      if (esm.code === 0 && cjs.code === 0) {
        const e = JSON.parse(esm.stdout);
        const c = JSON.parse(cjs.stdout);
        for (const name of names) {
          check(e[name].resolved === distOf(name, 'index.js'), `ESM: ${name} resolves to node_modules/${name}/dist/index.js`, e[name].resolved);
          check(c[name].resolved === distOf(name, 'index.cjs'), `CommonJS: ${name} resolves to node_modules/${name}/dist/index.cjs`, c[name].resolved);
          check(
            JSON.stringify(e[name].exports) === JSON.stringify(c[name].exports) && e[name].exports.length > 0,
            `${name}: ESM and CommonJS builds export the same ${e[name].exports.length} names`,
            `ESM: ${e[name].exports.join(', ')}\nCJS: ${c[name].exports.join(', ')}`,
          );
        }
        check(c.loadedEsm.length === 0, 'CommonJS: no ESM build is loaded', c.loadedEsm.join('\n'));
      }

      // End to end from the tarballs: a wrapped openai client calls a local OpenAI-compatible
      // server; a callback receives the event; the adapters are constructed and listed.
      const e2e = (kind) => `
${
  kind === 'esm'
    ? `import http from 'node:http';
import OpenAI from 'openai';
import { createCallbackManager, defineCallback, wrapOpenAI } from '@llm-callbacks/core';
import { langfuseCallback } from '@llm-callbacks/langfuse';
import { datadogCallback } from '@llm-callbacks/datadog';
import { s3Callback } from '@llm-callbacks/s3';
import { answerCallbacksList } from '@llm-callbacks/service';`
    : `const http = require('node:http');
const OpenAI = require('openai');
const { createCallbackManager, defineCallback, wrapOpenAI } = require('@llm-callbacks/core');
const { langfuseCallback } = require('@llm-callbacks/langfuse');
const { datadogCallback } = require('@llm-callbacks/datadog');
const { s3Callback } = require('@llm-callbacks/s3');
const { answerCallbacksList } = require('@llm-callbacks/service');`
}
const main = async () => {
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'm',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'pong' } }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const seen = [];
const manager = createCallbackManager({
  callbacks: [
    defineCallback({ name: 'probe', onSuccess(e) { seen.push(e); } }),
    langfuseCallback({ publicKey: 'pk', secretKey: 'sk', baseUrl: 'http://127.0.0.1:9' }),
    datadogCallback(),
    s3Callback({ bucket: 'llm-logs', region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
  ],
});
const client = wrapOpenAI(new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:' + server.address().port + '/v1' }), manager);
const answer = await client.chat.completions.create(
  { model: 'm', messages: [{ role: 'user', content: 'ping' }] },
  { disableCallbacks: ['langfuse', 'datadog', 's3'] },
);
await manager.flush();
const list = manager.list();
await manager.shutdown();
server.close();
console.log(JSON.stringify({
  answer: answer.choices[0].message.content,
  events: seen.length,
  disabled: seen[0] && seen[0].disabledCallbacks,
  list,
  service: typeof answerCallbacksList,
}));
};
main().catch((e) => { console.error(e); process.exit(1); });
`;
      await writeFile(join(consumer, 'e2e.mjs'), e2e('esm'));
      await writeFile(join(consumer, 'e2e.cjs'), e2e('cjs'));
      for (const [kind, file] of [
        ['ESM', 'e2e.mjs'],
        ['CommonJS', 'e2e.cjs'],
      ]) {
        const r = await run(process.execPath, [file], consumer, { timeout: 60_000, env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
        let out = {};
        try {
          out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
        } catch {
          // reported below with the raw output
        }
        const listed = [...(out.list?.success ?? []), ...(out.list?.success_and_failure ?? [])].sort();
        check(
          r.code === 0 &&
            out.answer === 'pong' &&
            out.events === 1 &&
            JSON.stringify(listed) === JSON.stringify(['datadog', 'langfuse', 'probe', 's3']) &&
            out.service === 'function',
          `${kind}: a wrapped openai call reaches a callback; langfuse, datadog and s3 callbacks register; service loads`,
          `${r.output}`,
        );
      }
    });

    await timed('TypeScript consumers (node16 ESM + CJS, bundler)', async () => {
      // Types from every package, used for real: each @ts-expect-error fails the check if a type
      // degraded to any (an unresolved import) or lost its shape.
      const tsConsumer = `import OpenAI from 'openai';
import { createCallbackManager, defineCallback, wrapOpenAI, type CallEvent, type Callback, type CallbackList } from '@llm-callbacks/core';
import { langfuseCallback, type LangfuseCallbackOptions } from '@llm-callbacks/langfuse';
import { datadogCallback, type DatadogCallbackOptions } from '@llm-callbacks/datadog';
import { s3Callback, type S3CallbackOptions } from '@llm-callbacks/s3';
import { answerCallbacksList } from '@llm-callbacks/service';

const probe: Callback = defineCallback({ name: 'probe', onSuccess(event: CallEvent) { void event.id; } });
const lf: LangfuseCallbackOptions = { publicKey: 'pk', secretKey: 'sk' };
const dd: DatadogCallbackOptions = {};
const s3: S3CallbackOptions = { bucket: 'llm-logs' };
const manager = createCallbackManager({ callbacks: [probe, langfuseCallback(lf), datadogCallback(dd), s3Callback(s3)] });
const list: CallbackList = manager.list();
const client: OpenAI = wrapOpenAI(new OpenAI({ apiKey: 'k' }), manager);
const handler: (...args: never[]) => unknown = answerCallbacksList;
// @ts-expect-error a callback needs a name
const noName: Callback = { onSuccess() {} };
// @ts-expect-error list() holds arrays of names
const notNames: number = manager.list().success;
// @ts-expect-error the bucket is a string
s3Callback({ bucket: 42 });
// @ts-expect-error the wrapped client keeps openai's types
const notClient: string = wrapOpenAI(new OpenAI({ apiKey: 'k' }), manager);
// @ts-expect-error langfuse options are typed
const badLf: LangfuseCallbackOptions = { publicKey: 42 };
export { list, client, handler, noName, notNames, notClient, badLf };
`;
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      const cases = [
        {
          label: 'moduleResolution node16 (.mts as ESM, .cts as CommonJS)',
          skipLibCheck: true,
          module: 'node16',
          moduleResolution: 'node16',
          files: { 'consumer-esm.mts': 'index.d.ts', 'consumer-cjs.cts': 'index.d.cts' },
        },
        {
          label: 'moduleResolution bundler',
          skipLibCheck: false,
          module: 'esnext',
          moduleResolution: 'bundler',
          files: { 'consumer-bundler.ts': 'index.d.ts' },
        },
      ];
      for (const c of cases) {
        for (const f of Object.keys(c.files)) await writeFile(join(consumer, f), tsConsumer);
        // The bundler case runs without skipLibCheck, so our own .d.ts files (and what they import
        // from openai, zod, dd-trace, ...) are checked as a consumer's compiler sees them; that is
        // slow (openai's declarations), so node16 skips it (attw covers its resolution).
        const r = await run(
          process.execPath,
          [
            tsc,
            '--noEmit',
            '--strict',
            ...(c.skipLibCheck ? ['--skipLibCheck'] : []),
            '--traceResolution',
            '--target',
            'es2022',
            '--types',
            'node',
            '--module',
            c.module,
            '--moduleResolution',
            c.moduleResolution,
            ...Object.keys(c.files),
          ],
          consumer,
        );
        const diagnostics = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
        check(r.code === 0 && diagnostics.length === 0, `tsc ${c.label}`, diagnostics.join('\n') || r.stderr);
        const resolvedTo = {};
        const pattern = /Resolving module '(@llm-callbacks\/[a-z0-9-]+)' from '([^']+)'[\s\S]*?Module name '\1' was successfully resolved to '([^']+)'/g;
        for (const m of r.stdout.matchAll(pattern)) {
          const from = m[2].split(/[\\/]/).pop();
          if (c.files[from]) resolvedTo[`${m[1]} from ${from}`] = m[3];
        }
        for (const [file, decl] of Object.entries(c.files)) {
          for (const name of names) {
            const got = resolvedTo[`${name} from ${file}`];
            check(got === distOf(name, decl), `tsc ${c.module}/${c.moduleResolution}: ${name} from ${file} -> node_modules/${name}/dist/${decl}`, String(got));
          }
        }
        check(!r.stdout.includes(`${sep}src${sep}index.ts`), `tsc ${c.moduleResolution}: never resolves a package's src/`);
      }
    });
  }
} finally {
  if (keep) console.log(`\nkept ${work}`);
  else await rm(work, { recursive: true, force: true });
}

console.log(failures === 0 ? '\npackage checks: all passed' : `\npackage checks: ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
