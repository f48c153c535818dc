// End-to-end call overhead: every variant makes the same batches of calls against the same
// loopback provider, one variant at a time, interleaved within each round (the order rotates from
// round to round), so drift on the machine hits every variant alike. Each figure is compared with
// the raw client's figure of the same round and cell; the report gives the median over rounds and
// the range.
import type { BatchResult, Variant } from './client.js';
import { VARIANTS } from './client.js';
import type { Child } from './ipc.js';
import { quantile, spread, type Spread } from './stats.js';

export interface E2EConfig {
  rounds: number;
  /** Calls per batch, by concurrency. */
  calls: Record<number, number>;
  concurrencies: readonly number[];
  streams: readonly boolean[];
  /** One unmeasured batch per variant and cell first (JIT, connection pools, tracer start-up). */
  warmup: boolean;
}

export interface Sinks {
  provider: Child;
  langfuse: Child;
  datadog: Child;
  s3: Child;
}

export interface VariantFigures {
  p50Ms: Spread;
  p99Ms: Spread;
  callsPerSec: Spread;
  /** Client CPU per call, microseconds, including the flush that delivers the batch's events. */
  cpuPerCallUs: Spread;
  /** Ratios to the raw client of the same round. */
  ratio: { p50: Spread; p99: Spread; throughput: Spread; cpu: Spread };
  errors: number;
}

export interface E2ECell {
  concurrency: number;
  stream: boolean;
  callsPerBatch: number;
  variants: Record<Variant, VariantFigures>;
}

export interface IngestionCount {
  requests: number;
  items: number;
  calls: number;
}

export interface E2EResult {
  rounds: number;
  cells: E2ECell[];
  /** Langfuse ingestion requests seen during the measured batches, per variant that feeds Langfuse. */
  langfuseIngestion: Partial<Record<Variant, IngestionCount>>;
}

interface Row {
  p50: number;
  p99: number;
  tput: number;
  cpu: number;
  errors: number;
}

export async function runE2E(clients: Record<Variant, Child>, sinks: Sinks, config: E2EConfig, log: (line: string) => void): Promise<E2EResult> {
  const cells = config.concurrencies.flatMap((concurrency) => config.streams.map((stream) => ({ concurrency, stream })));
  const rows = new Map<string, Row[]>(); // key: cell|variant, one row per round
  const ingestion: Partial<Record<Variant, IngestionCount>> = {};
  const key = (c: { concurrency: number; stream: boolean }, v: Variant): string => `${c.concurrency}|${c.stream}|${v}`;

  const resetSinks = async (): Promise<void> => {
    await Promise.all([sinks.provider.call('reset'), sinks.langfuse.call('reset'), sinks.datadog.call('reset')]);
  };

  if (config.warmup) {
    log('warm-up: one batch per variant and cell');
    for (const cell of cells) {
      for (const variant of VARIANTS) {
        await clients[variant].call<BatchResult>('batch', {
          calls: Math.max(50, Math.round((config.calls[cell.concurrency] ?? 100) / 4)),
          concurrency: cell.concurrency,
          stream: cell.stream,
        });
        await resetSinks();
      }
    }
    await sinks.s3.call('reset');
  }

  for (let round = 0; round < config.rounds; round += 1) {
    const shift = round % VARIANTS.length;
    const order = [...VARIANTS.slice(shift), ...VARIANTS.slice(0, shift)];
    const started = Date.now();
    for (const cell of cells) {
      const calls = config.calls[cell.concurrency] ?? 100;
      for (const variant of order) {
        const r = await clients[variant].call<BatchResult>('batch', { calls, concurrency: cell.concurrency, stream: cell.stream });
        const ok = r.latencies.length;
        const row: Row = {
          p50: quantile(r.latencies, 0.5),
          p99: quantile(r.latencies, 0.99),
          tput: ok / (r.wallMs / 1000),
          cpu: r.cpuTotalUs / Math.max(1, r.calls),
          errors: r.errors,
        };
        const list = rows.get(key(cell, variant)) ?? [];
        list.push(row);
        rows.set(key(cell, variant), list);
        if (variant === 'wrap-3-adapters' || variant === 'observeOpenAI') {
          const s = await sinks.langfuse.call<{ requests: number; items: number }>('summary');
          const acc = (ingestion[variant] ??= { requests: 0, items: 0, calls: 0 });
          acc.requests += s.requests;
          acc.items += s.items;
          acc.calls += ok;
        }
        await resetSinks();
      }
    }
    await sinks.s3.call('reset');
    log(`round ${round + 1}/${config.rounds} done in ${((Date.now() - started) / 1000).toFixed(1)} s (order: ${order.join(', ')})`);
  }

  const result: E2EResult = { rounds: config.rounds, cells: [], langfuseIngestion: ingestion };
  for (const cell of cells) {
    const raw = rows.get(key(cell, 'raw')) ?? [];
    const variants = {} as Record<Variant, VariantFigures>;
    for (const variant of VARIANTS) {
      const list = rows.get(key(cell, variant)) ?? [];
      const ratio = (pick: (r: Row) => number): Spread => spread(list.map((r, i) => pick(r) / pick(raw[i] as Row)));
      variants[variant] = {
        p50Ms: spread(list.map((r) => r.p50)),
        p99Ms: spread(list.map((r) => r.p99)),
        callsPerSec: spread(list.map((r) => r.tput)),
        cpuPerCallUs: spread(list.map((r) => r.cpu)),
        ratio: { p50: ratio((r) => r.p50), p99: ratio((r) => r.p99), throughput: ratio((r) => r.tput), cpu: ratio((r) => r.cpu) },
        errors: list.reduce((n, r) => n + r.errors, 0),
      };
    }
    result.cells.push({ ...cell, callsPerBatch: config.calls[cell.concurrency] ?? 100, variants });
  }
  return result;
}
