// The shared adapter contract (packages/testing/src/adapter-contract.ts) run against the S3
// callback and s3rver: the promises every adapter keeps.
import { runAdapterContract, startS3Server, type ContractSink, type S3Server } from '@llm-callbacks/testing';
import { s3Callback } from '../src/index.js';
import { readBucket } from './helpers.js';

interface S3Sink extends ContractSink {
  server: S3Server;
  closed: boolean;
}

runAdapterContract({
  name: 's3',
  async startSink(): Promise<S3Sink> {
    const server = await startS3Server({ bucket: 'contract-bucket' });
    const sink: S3Sink = {
      server,
      closed: false,
      async receivedEventIds() {
        return (await readBucket(server)).events.map((e) => e.id);
      },
      async reset() {
        await server.reset();
      },
      async close() {
        if (sink.closed) return;
        sink.closed = true;
        await server.close();
      },
    };
    return sink;
  },
  createCallback(sink) {
    const { server } = sink as S3Sink;
    return s3Callback({
      bucket: server.bucket,
      endpoint: server.endpoint,
      forcePathStyle: true,
      region: server.region,
      credentials: server.credentials,
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
      requestTimeoutMs: 2_000,
      shutdownTimeoutMs: 3_000,
    });
  },
  downFlushBoundMs: 5_000,
});
