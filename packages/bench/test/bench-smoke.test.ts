// The benchmark suite in smoke mode (`pnpm bench:smoke`): proves that it still runs end to end and
// produces well-formed figures. It asserts nothing about speed: figures from a CI machine mean
// nothing, and the real run is `pnpm bench` on a quiet machine (BENCHMARKS.md).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResult } from '../src/main.js';
import { VARIANTS } from '../src/client.js';

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
let dir: string | undefined;

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const finite = (n: unknown): boolean => typeof n === 'number' && Number.isFinite(n);

describe('pnpm bench:smoke', () => {
  it('runs every section and writes well-formed figures', { timeout: 240_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-callbacks-bench-'));
    const out = join(dir, 'smoke.json');
    let output = '';
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--conditions=@llm-callbacks/source', '--import', 'tsx', 'src/main.ts'], {
        cwd: PACKAGE_DIR,
        env: { ...process.env, BENCH_SMOKE: '1', BENCH_SOURCE: '1', BENCH_OUT: out },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('exit', resolve);
    });
    expect(code, output.slice(-3000)).toBe(0);
    const result = JSON.parse(await readFile(out, 'utf8')) as BenchResult;
    const markdown = await readFile(out.replace(/\.json$/, '.md'), 'utf8');
    expect(markdown).toContain('## Targets');

    expect(result.environment.mode).toBe('smoke');
    expect(result.environment.node).toBe(process.version);
    expect(result.environment.packages['openai']).toMatch(/^\d+\.\d+\.\d+/);

    const e2e = result.e2e;
    expect(e2e?.cells).toHaveLength(4);
    for (const cell of e2e?.cells ?? []) {
      expect(Object.keys(cell.variants).sort()).toEqual([...VARIANTS].sort());
      for (const variant of VARIANTS) {
        const f = cell.variants[variant];
        expect(f.errors, `${variant} c${cell.concurrency}`).toBe(0);
        for (const s of [f.p50Ms, f.p99Ms, f.callsPerSec, f.cpuPerCallUs, f.ratio.p50, f.ratio.throughput, f.ratio.cpu]) {
          expect(finite(s.median) && s.median > 0, `${variant} c${cell.concurrency} ${JSON.stringify(s)}`).toBe(true);
        }
      }
      expect(cell.variants.raw.ratio.p50.median).toBe(1);
    }
    expect(e2e?.langfuseIngestion['wrap-3-adapters']?.requests).toBeGreaterThan(0);
    expect(e2e?.langfuseIngestion['observeOpenAI']?.requests).toBeGreaterThan(0);

    expect(result.micro?.decide).toHaveLength(15);
    for (const d of result.micro?.decide ?? []) expect(finite(d.nsPerCall) && d.nsPerCall > 0 && finite(d.policyNsPerCall)).toBe(true);
    expect(result.micro?.fanOut.map((f) => f.callbacks)).toEqual([1, 3, 10]);
    for (const f of result.micro?.fanOut ?? []) expect(finite(f.eventsPerSec) && f.eventsPerSec > 0).toBe(true);

    expect(result.s3?.uploadedEvents).toBe(result.s3?.events);
    expect(result.s3?.eventsPerPut).toBeGreaterThan(0);
    expect(result.s3?.complete).toBe(true);
    expect(result.langfuse?.requests).toBeGreaterThan(0);
    expect(result.langfuse?.eventsPerRequest).toBeGreaterThan(0);

    expect(result.memory?.samples.length).toBeGreaterThanOrEqual(2);
    for (const s of result.memory?.samples ?? []) expect(finite(s.rssMB) && s.rssMB > 0).toBe(true);
    expect(result.memory?.calls).toBeGreaterThan(0);
  });
});
