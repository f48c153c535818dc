// Child process of outage-exit.test.ts: an S3 callback (default, unlimited retries) whose bucket is
// unreachable; the script reports one event, waits for a bounded manager.flush(), prints its report
// and then simply ends without shutdown(). The process must exit by itself.
import { createCallbackManager } from '@llm-callbacks/core';
import { s3Callback } from '@llm-callbacks/s3';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const s3 = s3Callback({
  bucket: 'unreachable',
  endpoint: process.env['S3_ENDPOINT'] ?? 'http://127.0.0.1:9',
  forcePathStyle: true,
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  requestTimeoutMs: 300,
  retry: { baseDelayMs: 50, maxDelayMs: 200 },
});
const manager = createCallbackManager({ callbacks: [s3] });
manager.on('callbackError', () => undefined);
manager.report({
  id: 'outage-1',
  status: 'success',
  callType: 'chat.completions',
  model: 'gpt-test',
  provider: 'openai',
  stream: false,
  startTime: Date.now(),
  endTime: Date.now(),
  latencyMs: 1,
  request: { model: 'gpt-test' },
  metadata: {},
  disabledCallbacks: [],
  ignoredDisables: [],
});
const report = await manager.flush({ timeoutMs: 500 });
console.log(`FLUSHED ${JSON.stringify({ complete: report.complete, pending: report.pending })}`);
