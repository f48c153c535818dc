// Secret canaries through the S3 adapter: after calls carrying canary credentials everywhere (see
// @llm-callbacks/testing's makeCanaryCalls), no object in the bucket contains one.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCallbackManager } from '@llm-callbacks/core';
import { findCanaries, makeCanaryCalls, startFakeOpenAI, startS3Server, type FakeOpenAIServer, type S3Server } from '@llm-callbacks/testing';
import { s3Callback } from '../src/index.js';
import { readBucket } from './helpers.js';

let server: S3Server;
let provider: FakeOpenAIServer;
beforeAll(async () => {
  server = await startS3Server({ bucket: 'canary-bucket' });
  provider = await startFakeOpenAI();
});
afterAll(async () => {
  await provider.close();
  await server.close();
});

it('no canary reaches the bucket, and every call did', async () => {
  const manager = createCallbackManager({
    callbacks: [
      s3Callback({
        bucket: server.bucket,
        endpoint: server.endpoint,
        forcePathStyle: true,
        region: server.region,
        credentials: server.credentials,
        required: true,
      }),
    ],
  });
  const calls = await makeCanaryCalls(provider.url, manager);
  const report = await manager.shutdown();
  expect(report.callbacks['s3']?.confirmed).toBe(calls);
  const { objects, events } = await readBucket(server);
  expect(events).toHaveLength(calls);
  const stored = objects.map((o) => `${o.key}\n${o.body}`).join('\n');
  expect(stored).toContain('[REDACTED]');
  expect(findCanaries(stored)).toEqual([]);
});
