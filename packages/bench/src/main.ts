// `pnpm bench` (and `pnpm bench:smoke`): runs every benchmark and prints the figures, with the
// machine, Node and package versions, rounds, medians and spread. See BENCHMARKS.md.
//
// Environment: BENCH_SMOKE=1 (a few hundred calls, to prove it runs), BENCH_SOURCE=1 (load the
// packages from src/ instead of the built dist/; see ipc.ts), BENCH_ROUNDS=n,
// BENCH_SECTIONS=e2e,micro,batching,memory (a subset), BENCH_CPU_PROF=dir (client children write
// --cpu-prof profiles there), BENCH_OUT=file.json (default .tmp/bench-results.json in this package).
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem, type as osType, release as osRelease } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VARIANTS, type SinkAddresses, type Variant } from './client.js';
import { runE2E, type E2EResult, type Sinks } from './e2e.js';
import { spawnChild, useSource, type Child } from './ipc.js';
import { runMicro, type MicroResult } from './micro.js';
import { runLangfuseBatching, runS3Batching, type LangfuseBatching, type S3Batching } from './batching.js';
import { runMemory, type MemoryResult } from './memory.js';
import { renderReport } from './report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PACKAGE_DIR = join(HERE, '..');
const ROOT = join(PACKAGE_DIR, '..', '..');

export type Section = 'e2e' | 'micro' | 'batching' | 'memory';
export const SECTIONS: readonly Section[] = ['e2e', 'micro', 'batching', 'memory'];

export interface BenchOptions {
  smoke: boolean;
  rounds?: number;
  sections?: readonly Section[];
  cpuProfDir?: string;
  log?: (line: string) => void;
}

export interface Environment {
  date: string;
  mode: 'full' | 'smoke';
  /** Where the packages were loaded from. */
  code: 'dist' | 'src';
  /** The commit, and the files under packages/ that differ from it (a shared checkout). */
  git: { commit: string; dirty: string[] };
  machine: { os: string; cpu: string; cores: number; memoryGB: number; loadavgAtStart: number[]; loadavgAtEnd?: number[] };
  node: string;
  packages: Record<string, string>;
}

export interface BenchResult {
  environment: Environment;
  e2e?: E2EResult;
  micro?: MicroResult;
  s3?: S3Batching;
  langfuse?: LangfuseBatching;
  memory?: MemoryResult;
  seconds: number;
}

async function version(dir: string, name: string): Promise<string> {
  try {
    const json = JSON.parse(await readFile(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
    return json.version ?? '?';
  } catch {
    return 'not found';
  }
}

async function ownVersion(dir: string): Promise<string> {
  const json = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version?: string };
  return json.version ?? '?';
}

function gitState(): { commit: string; dirty: string[] } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages/core/src', 'packages/adapters'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: [] };
  }
}

async function environment(smoke: boolean): Promise<Environment> {
  const adapters = join(ROOT, 'packages', 'adapters');
  return {
    date: new Date().toISOString(),
    mode: smoke ? 'smoke' : 'full',
    code: useSource() ? 'src' : 'dist',
    git: gitState(),
    machine: {
      os: `${osType()} ${osRelease()}`,
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGB: Math.round(totalmem() / 1e9),
      loadavgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    },
    node: process.version,
    packages: {
      '@llm-callbacks/core': await ownVersion(join(ROOT, 'packages', 'core')),
      '@llm-callbacks/langfuse': await ownVersion(join(adapters, 'langfuse')),
      '@llm-callbacks/datadog': await ownVersion(join(adapters, 'datadog')),
      '@llm-callbacks/s3': await ownVersion(join(adapters, 's3')),
      openai: await version(PACKAGE_DIR, 'openai'),
      langfuse: await version(PACKAGE_DIR, 'langfuse'),
      'dd-trace': await version(join(adapters, 'datadog'), 'dd-trace'),
      '@aws-sdk/client-s3': await version(join(adapters, 's3'), '@aws-sdk/client-s3'),
      s3rver: await version(join(ROOT, 'packages', 'testing'), 's3rver'),
      tinybench: await version(PACKAGE_DIR, 'tinybench'),
    },
  };
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const t0 = Date.now();
  const base = options.log ?? ((line: string) => console.log(line));
  const log = (line: string): void => base(`[bench +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
  const smoke = options.smoke;
  const sections = new Set(options.sections ?? SECTIONS);
  const started = Date.now();
  const env = await environment(smoke);
  log(`${env.mode} run on ${env.machine.cpu} x${env.machine.cores}, Node ${env.node}, load ${env.machine.loadavgAtStart.join(' ')}`);
  const result: BenchResult = { environment: env, seconds: 0 };

  const needSinks = sections.has('e2e') || sections.has('batching') || sections.has('memory');
  const children: Child[] = [];
  try {
    let sinks: Sinks | undefined;
    let addresses: SinkAddresses | undefined;
    if (needSinks) {
      log('starting the provider and the sinks, each in its own process');
      const [provider, langfuse, datadog, s3] = await Promise.all([spawnChild('provider'), spawnChild('langfuse'), spawnChild('datadog'), spawnChild('s3')]);
      children.push(provider, langfuse, datadog, s3);
      sinks = { provider, langfuse, datadog, s3 };
      addresses = {
        providerUrl: provider.info['url'] as string,
        langfuse: langfuse.info['clientOptions'] as SinkAddresses['langfuse'],
        datadogUrl: datadog.info['url'] as string,
        s3: s3.info as unknown as SinkAddresses['s3'],
      };
    }

    if (sections.has('e2e') && sinks && addresses) {
      log(`starting ${VARIANTS.length} client processes: ${VARIANTS.join(', ')}`);
      const spawned = await Promise.all(
        VARIANTS.map((variant) => spawnChild('client', { args: { ...addresses, variant }, ...(options.cpuProfDir ? { cpuProfDir: options.cpuProfDir } : {}) })),
      );
      children.push(...spawned);
      const clients = Object.fromEntries(VARIANTS.map((v, i) => [v, spawned[i] as Child])) as Record<Variant, Child>;
      result.e2e = await runE2E(
        clients,
        sinks,
        {
          rounds: options.rounds ?? (smoke ? 1 : 5),
          calls: smoke ? { 1: 10, 64: 64 } : { 1: 400, 64: 3000 },
          concurrencies: [1, 64],
          streams: [false, true],
          warmup: !smoke,
        },
        log,
      );
      await Promise.all(spawned.map((c) => c.stop()));
    }

    if (sections.has('micro')) {
      result.micro = await runMicro(
        {
          timeMs: smoke ? 20 : 500,
          iterations: smoke ? 4 : 64,
          callbackCounts: [1, 10, 100],
          headerNameCounts: [0, 1, 3, 10, 100],
          fanOutCallbackCounts: [1, 3, 10],
          fanOutEvents: smoke ? 100 : 1000,
        },
        log,
      );
    }

    if (sections.has('batching') && sinks && addresses) {
      const s3Events = smoke ? 1_000 : 100_000;
      log(`batching: ${s3Events} events to s3rver`);
      result.s3 = await runS3Batching(sinks, addresses, s3Events);
      const lfEvents = smoke ? 100 : 3_000;
      log(`batching: ${lfEvents} events to Langfuse`);
      result.langfuse = await runLangfuseBatching(sinks, addresses, lfEvents);
    }

    if (sections.has('memory') && addresses) {
      const config = smoke ? { rate: 100, durationMs: 3_000, sampleEveryMs: 250 } : { rate: 400, durationMs: 120_000, sampleEveryMs: 2_000 };
      log(`memory: every sink down, ${config.rate} calls/s for ${config.durationMs / 1000} s`);
      result.memory = await runMemory(addresses.providerUrl, config, options.cpuProfDir ? { cpuProfDir: options.cpuProfDir } : {});
    }
  } finally {
    await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
  }
  env.machine.loadavgAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

function parseSections(value: string | undefined): Section[] | undefined {
  if (!value) return undefined;
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of list)
    if (!SECTIONS.includes(s as Section)) throw new Error(`BENCH_SECTIONS: unknown section "${s}"; the sections are ${SECTIONS.join(', ')}.`);
  return list as Section[];
}

async function cli(): Promise<void> {
  const smoke = process.env['BENCH_SMOKE'] === '1' || process.argv.includes('--smoke');
  const rounds = process.env['BENCH_ROUNDS'] ? Number(process.env['BENCH_ROUNDS']) : undefined;
  const sections = parseSections(process.env['BENCH_SECTIONS']);
  const cpuProf = process.env['BENCH_CPU_PROF'];
  const cpuProfDir = cpuProf ? resolve(cpuProf) : undefined;
  if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
  const result = await runBench({ smoke, ...(rounds ? { rounds } : {}), ...(sections ? { sections } : {}), ...(cpuProfDir ? { cpuProfDir } : {}) });
  const text = renderReport(result);
  console.log(`\n${text}`);
  const out = resolve(process.env['BENCH_OUT'] ?? join(PACKAGE_DIR, '.tmp', smoke ? 'bench-smoke.json' : 'bench-results.json'));
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify(result, null, 2));
  await writeFile(out.replace(/\.json$/, '.md'), text);
  console.log(`\n[bench] results written to ${out} (and .md beside it)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
