// The soak run in small (5 000 calls; `pnpm soak` runs 100 000): chaotic callbacks and a faulty S3
// behind the required S3 callback. Nothing reaches the caller, nothing is rejected unhandled, memory
// stays within the queue bounds, and every event is in the bucket exactly once.
import { expect, it } from 'vitest';
import './helpers.js'; // silences the AWS SDK's Node 20 notice
import { runSoak } from '@llm-callbacks/testing';
import { s3Callback } from '../src/index.js';

it('5 000 calls: 0 caller-visible errors, 0 unhandled rejections, bounded memory, every required event stored once', { timeout: 60_000 }, async () => {
  const report = await runSoak({
    calls: 5_000,
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
  expect(report.callerErrors).toBe(0);
  expect(report.unhandledRejections).toBe(0);
  expect(report.required).toEqual({ expected: 5_000, stored: 5_000, missing: 0, duplicates: 0 });
  expect(report.stats.callbacks['s3']).toMatchObject({ dropped: 0, confirmed: 5_000 });
  // The chaos really happened, and was reported, not hidden.
  expect(report.faults.requests).toBeGreaterThan(report.faults.forwarded);
  expect(report.stats.callbacks['thrower']?.failed).toBeGreaterThan(0);
  expect(report.stats.callbacks['hanger']?.timedOut).toBeGreaterThan(0);
  expect(report.stats.callbacks['s3']?.refused).toBe(1_000);
  expect(report.maxPending).toBeLessThanOrEqual(report.pendingBound);
  expect(report.heapMb.peak - report.heapMb.warm).toBeLessThan(150);
});
