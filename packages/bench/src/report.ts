// Renders a benchmark result as Markdown: the environment, one table per section, and the issue's
// targets marked met or missed. The same text is printed and written beside the JSON results.
import type { Variant } from './client.js';
import type { E2ECell } from './e2e.js';
import type { BenchResult } from './main.js';
import { fmt, fmtSpread, table } from './stats.js';

export interface TargetCheck {
  target: string;
  value: string;
  met: boolean;
}

const mark = (met: boolean): string => (met ? 'met' : 'MISSED');

export function checkTargets(result: BenchResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const cell of result.e2e?.cells.filter((c) => c.concurrency === 64) ?? []) {
    const kind = cell.stream ? 'streaming' : 'non-streaming';
    for (const v of ['wrap-0', 'wrap-3-noop'] as const) {
      const f = cell.variants[v];
      checks.push({ target: `${v}, c64 ${kind}: p50 ratio <= 1.02`, value: fmt(f.ratio.p50.median, 3), met: f.ratio.p50.median <= 1.02 });
      checks.push({ target: `${v}, c64 ${kind}: throughput ratio >= 0.98`, value: fmt(f.ratio.throughput.median, 3), met: f.ratio.throughput.median >= 0.98 });
    }
    const a = cell.variants['wrap-3-adapters'];
    const o = cell.variants['observeOpenAI'];
    checks.push({
      target: `3 adapters, c64 ${kind}: throughput ratio >= 0.90`,
      value: fmt(a.ratio.throughput.median, 3),
      met: a.ratio.throughput.median >= 0.9,
    });
    checks.push({ target: `3 adapters, c64 ${kind}: client CPU per call <= 1.15x raw`, value: fmt(a.ratio.cpu.median, 3), met: a.ratio.cpu.median <= 1.15 });
    const quarter = (ours: number, theirs: number, higherIsWorse: boolean): { value: string; met: boolean } => {
      const ourOver = higherIsWorse ? ours - 1 : 1 - ours;
      const theirOver = higherIsWorse ? theirs - 1 : 1 - theirs;
      return { value: `${fmt(ourOver * 100, 1)}% vs ${fmt(theirOver * 100, 1)}% (quarter: ${fmt((theirOver * 100) / 4, 1)}%)`, met: ourOver <= theirOver / 4 };
    };
    const p = quarter(a.ratio.p50.median, o.ratio.p50.median, true);
    checks.push({ target: `3 adapters, c64 ${kind}: p50 overhead <= 1/4 of observeOpenAI's`, ...p });
    const t = quarter(a.ratio.throughput.median, o.ratio.throughput.median, false);
    checks.push({ target: `3 adapters, c64 ${kind}: throughput loss <= 1/4 of observeOpenAI's`, ...t });
    const c = quarter(a.ratio.cpu.median, o.ratio.cpu.median, true);
    checks.push({ target: `3 adapters, c64 ${kind}: CPU overhead <= 1/4 of observeOpenAI's`, ...c });
  }
  const d = result.micro?.decide.find((x) => x.callbacks === 10 && x.headerNames === 3);
  if (d) checks.push({ target: 'disable decision, 10 callbacks, 3-name header: < 1 us', value: `${fmt(d.nsPerCall, 0)} ns`, met: d.nsPerCall < 1000 });
  return checks;
}

const LABEL: Record<Variant, string> = {
  raw: 'raw openai',
  'wrap-0': 'wrapOpenAI, 0 callbacks',
  'wrap-3-noop': 'wrapOpenAI, 3 no-op callbacks',
  'wrap-3-adapters': 'wrapOpenAI, langfuse+datadog+s3',
  observeOpenAI: 'langfuse observeOpenAI',
};

function e2eTable(cell: E2ECell): string {
  const rows = (Object.keys(LABEL) as Variant[]).map((v) => {
    const f = cell.variants[v];
    return [
      LABEL[v],
      fmt(f.p50Ms.median, 3),
      fmt(f.p99Ms.median, 3),
      fmt(f.callsPerSec.median, 0),
      fmt(f.cpuPerCallUs.median, 0),
      v === 'raw' ? '1' : fmtSpread(f.ratio.p50),
      v === 'raw' ? '1' : fmtSpread(f.ratio.p99),
      v === 'raw' ? '1' : fmtSpread(f.ratio.throughput),
      v === 'raw' ? '1' : fmtSpread(f.ratio.cpu),
      String(f.errors),
    ];
  });
  return table(['variant', 'p50 ms', 'p99 ms', 'calls/s', 'CPU us/call', 'p50 x raw', 'p99 x raw', 'throughput x raw', 'CPU x raw', 'errors'], rows);
}

export function renderReport(result: BenchResult): string {
  const env = result.environment;
  const out: string[] = [];
  out.push(`# llm-callbacks benchmark (${env.mode}), ${env.date}`);
  out.push('');
  out.push(`- machine: ${env.machine.cpu}, ${env.machine.cores} cores, ${env.machine.memoryGB} GB, ${env.machine.os}`);
  out.push(`- load average (1/5/15 min): ${env.machine.loadavgAtStart.join(' / ')} at start, ${(env.machine.loadavgAtEnd ?? []).join(' / ')} at end`);
  out.push(
    `- Node ${env.node}; ${Object.entries(env.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  out.push(
    `- code: packages loaded from ${env.code === 'dist' ? 'their built dist/' : 'src/ through tsx (BENCH_SOURCE=1)'}; commit ${env.git.commit}${env.git.dirty.length ? `, with uncommitted changes in ${env.git.dirty.join(', ')}` : ''}`,
  );
  out.push(`- took ${fmt(result.seconds, 0)} s`);
  if (result.e2e) {
    out.push('');
    out.push(`## End-to-end call overhead (${result.e2e.rounds} rounds, variants interleaved; medians over rounds, ratios as median (min-max))`);
    for (const cell of result.e2e.cells) {
      out.push('');
      out.push(`### concurrency ${cell.concurrency}, ${cell.stream ? 'streaming' : 'non-streaming'} (${cell.callsPerBatch} calls per batch)`);
      out.push('');
      out.push('```');
      out.push(e2eTable(cell));
      out.push('```');
    }
    const ing = result.e2e.langfuseIngestion;
    out.push('');
    out.push('Langfuse ingestion requests during the measured batches (each batch ends with a flush):');
    for (const [v, c] of Object.entries(ing)) {
      out.push(
        `- ${LABEL[v as Variant]}: ${c.calls} calls, ${c.requests} requests, ${fmt(c.calls / Math.max(1, c.requests), 1)} calls and ${fmt(c.items / Math.max(1, c.requests), 1)} items per request`,
      );
    }
  }
  if (result.micro) {
    out.push('');
    out.push('## Disable decision (tinybench; ns per call, median sample)');
    out.push('');
    out.push('```');
    out.push(
      table(
        ['callbacks', 'names in header', 'manager.decide ns', 'policy alone ns', 'rme %', 'samples'],
        result.micro.decide.map((d) => [
          String(d.callbacks),
          d.headerNames === 0 ? 'no header' : String(d.headerNames),
          fmt(d.nsPerCall, 0),
          fmt(d.policyNsPerCall, 0),
          fmt(d.rmePercent, 1),
          String(d.samples),
        ]),
      ),
    );
    out.push('```');
    out.push('');
    out.push('## Dispatcher fan-out to no-op callbacks (tinybench)');
    out.push('');
    out.push('```');
    out.push(
      table(
        ['callbacks', 'events/s', 'hook calls/s', 'rme %', 'samples'],
        result.micro.fanOut.map((f) => [String(f.callbacks), fmt(f.eventsPerSec, 0), fmt(f.deliveriesPerSec, 0), fmt(f.rmePercent, 1), String(f.samples)]),
      ),
    );
    out.push('```');
  }
  if (result.s3 || result.langfuse) {
    out.push('');
    out.push('## Batching');
    out.push('');
    if (result.s3) {
      const s = result.s3;
      out.push(
        `- S3 (defaults: batchSize 100, ndjson): ${s.events} events in ${fmt(s.seconds, 1)} s (${fmt(s.eventsPerSec, 0)} events/s) to s3rver; ${s.objects} objects, ${s.puts} PUTs received, ${fmt(s.eventsPerPut, 1)} events per PUT; ${s.uploadedEvents} confirmed, ${s.failedAttempts} failed attempts, flush complete: ${s.complete}`,
      );
    }
    if (result.langfuse) {
      const l = result.langfuse;
      out.push(
        `- Langfuse (defaults: flushAt 15, flushInterval 1 s): ${l.events} events, ${l.requests} ingestion requests, ${fmt(l.eventsPerRequest, 1)} events (${fmt(l.itemsPerRequest, 1)} items) per request, ${fmt(l.seconds, 1)} s`,
      );
    }
  }
  if (result.memory) {
    const m = result.memory;
    out.push('');
    out.push(`## Memory with every sink down (${m.rate} calls/s for ${fmt(m.seconds, 0)} s, 3 real callbacks, default bounds)`);
    out.push('');
    out.push(
      `- ${m.calls} calls (${m.errors} errors, ${m.skipped} skipped at the in-flight cap); RSS ${fmt(m.rssMidMB, 0)} MB at half time, ${fmt(m.rssEndMB, 0)} MB at the end (peak ${fmt(m.rssPeakMB, 0)} MB): ${fmt(m.secondHalfGrowthMB, 1)} MB over the last ${m.secondHalfCalls} calls (${fmt(m.growthMBPer10kCalls, 2)} MB per 10k calls); events dropped and reported by then: ${m.droppedAtEnd}`,
    );
    out.push('');
    out.push('```');
    const step = Math.max(1, Math.ceil(m.samples.length / 16));
    out.push(
      table(
        ['t s', 'calls', 'RSS MB', 'heap MB', 'queued in manager', 'dropped'],
        m.samples
          .filter((_, i) => i % step === 0 || i === m.samples.length - 1)
          .map((s) => [fmt(s.atMs / 1000, 0), String(s.calls), fmt(s.rssMB, 0), fmt(s.heapUsedMB, 0), String(s.managerPending), String(s.dropped)]),
      ),
    );
    out.push('```');
  }
  const checks = checkTargets(result);
  if (checks.length > 0) {
    out.push('');
    out.push('## Targets');
    out.push('');
    out.push('```');
    out.push(
      table(
        ['target', 'measured', 'status'],
        checks.map((c) => [c.target, c.value, mark(c.met)]),
      ),
    );
    out.push('```');
  }
  return out.join('\n');
}
