// Memory while every sink is down: a client with the three real callbacks, all pointed at ports
// where nothing listens, keeps calling the (working) provider at a steady rate. Its queues fill up
// to their bounds and then drop (and report) events; RSS must level off there instead of growing
// with the number of calls.
import { createServer } from 'node:net';
import type { MemorySample, SinkAddresses } from './client.js';
import { spawnChild, type SpawnOptions } from './ipc.js';

export interface MemoryConfig {
  rate: number;
  durationMs: number;
  sampleEveryMs: number;
}

export interface MemoryResult {
  rate: number;
  seconds: number;
  calls: number;
  errors: number;
  skipped: number;
  samples: MemorySample[];
  /** RSS at the end of the first half, and the change over the second half (MB). */
  rssMidMB: number;
  rssEndMB: number;
  rssPeakMB: number;
  secondHalfGrowthMB: number;
  /** Calls made in the second half: growth per 10k calls there is what "flat" is judged on. */
  secondHalfCalls: number;
  growthMBPer10kCalls: number;
  droppedAtEnd: number;
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function runMemory(providerUrl: string, config: MemoryConfig, spawnOptions: SpawnOptions = {}): Promise<MemoryResult> {
  const [lf, dd, s3] = await Promise.all([deadPort(), deadPort(), deadPort()]);
  const addresses: SinkAddresses = {
    providerUrl,
    langfuse: { publicKey: 'pk-lf-fake', secretKey: 'sk-lf-fake', baseUrl: `http://127.0.0.1:${lf}` },
    datadogUrl: `http://127.0.0.1:${dd}`,
    s3: { endpoint: `http://127.0.0.1:${s3}`, bucket: 'down', region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
  };
  const child = await spawnChild('client', { ...spawnOptions, args: { ...addresses, variant: 'wrap-3-adapters' } });
  try {
    const r = await child.call<{ samples: MemorySample[]; calls: number; errors: number; skipped: number }>('steady', {
      rate: config.rate,
      durationMs: config.durationMs,
      sampleEveryMs: config.sampleEveryMs,
      maxInFlight: 256,
    });
    const samples = r.samples;
    const last = samples[samples.length - 1] as MemorySample;
    const mid = samples.reduce((best, s) => (Math.abs(s.atMs - last.atMs / 2) < Math.abs(best.atMs - last.atMs / 2) ? s : best), samples[0] as MemorySample);
    const secondHalfCalls = last.calls - mid.calls;
    const growth = last.rssMB - mid.rssMB;
    return {
      rate: config.rate,
      seconds: last.atMs / 1000,
      calls: r.calls,
      errors: r.errors,
      skipped: r.skipped,
      samples,
      rssMidMB: mid.rssMB,
      rssEndMB: last.rssMB,
      rssPeakMB: Math.max(...samples.map((s) => s.rssMB)),
      secondHalfGrowthMB: growth,
      secondHalfCalls,
      growthMBPer10kCalls: secondHalfCalls > 0 ? (growth / secondHalfCalls) * 10_000 : Number.NaN,
      droppedAtEnd: last.dropped,
    };
  } finally {
    // Shutting down against dead sinks takes the adapters' bounded shutdown time; do not wait on it.
    await child.stop();
  }
}
