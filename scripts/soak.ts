// `pnpm soak [calls]`: the soak run at full size (default 100 000 calls), printed as the figures the
// root README reports. Not a CI test (CI runs 5 000 calls in packages/adapters/s3/test/soak.test.ts).
// Run with the source export condition, so workspace packages load from src/ without a build.
import { runSoak } from '../packages/testing/src/index.js';
import { s3Callback } from '../packages/adapters/s3/src/index.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const calls = Number(process.argv[2] ?? 100_000);
const report = await runSoak({
  calls,
  log: (line) => console.log(line),
  ...(process.env['SOAK_NO_FAULTS'] ? { faults: { seed: 1, methods: ['NONE'] } } : {}),
  requiredSink: (sink) =>
    s3Callback({
      ...sink,
      forcePathStyle: true,
      required: true,
      // Its flush waits for the bucket: allow it more than the chaotic callbacks' 10 x 200 ms.
      timeoutMs: 10_000,
      batchSize: 1_000,
      flushIntervalMs: 500,
      maxQueueSize: 20_000,
      retry: { maxAttempts: 30, baseDelayMs: 5, maxDelayMs: 100 },
      requestTimeoutMs: 10_000,
      shutdownTimeoutMs: 30_000,
    }),
});
const { stats, ...figures } = report;
console.log(JSON.stringify({ ...figures, totals: stats.totals, perCallback: stats.callbacks }, null, 2));
// Memory flat within the queue bounds: after warm-up the heap may grow by what the bounded queues
// and the run's own set of ids hold (a few tens of MB at 100 000 calls), not with the calls.
const heapGrowthMb = report.heapMb.peak - report.heapMb.warm;
console.log(`heap growth after warm-up: ${heapGrowthMb.toFixed(1)} MB (bound 64 MB)`);
const ok =
  heapGrowthMb <= 64 &&
  report.callerErrors === 0 &&
  report.unhandledRejections === 0 &&
  report.required.missing === 0 &&
  report.required.duplicates === 0 &&
  report.required.stored === calls &&
  report.maxPending <= report.pendingBound;
console.log(ok ? 'soak: PASS' : 'soak: FAIL');
process.exitCode = ok ? 0 : 1;
