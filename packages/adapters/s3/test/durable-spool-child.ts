// Child process of durable-spool.test.ts: a service with a durable-spooled S3 callback.
//   MODE=spool:  makes CALLS calls through a wrapped openai client, prints `READY {stats}` once every
//                event's hook has been acknowledged (= on disk), then idles until it is killed.
//   MODE=replay: starts on the same spool directory, flushes (adopting and uploading what the killed
//                process left), prints `DONE {stats}`, shuts down and exits.
// Run with: node --import tsx --conditions=@llm-callbacks/source durable-spool-child.ts
import OpenAI from 'openai';
import { createCallbackManager, durableCallback, wrapOpenAI } from '@llm-callbacks/core';
import { s3Callback } from '@llm-callbacks/s3';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`durable-spool-child: ${name} is not set`);
  return value;
}

const mode = need('MODE');
const calls = Number(process.env['CALLS'] ?? '1000');

const s3 = s3Callback({
  bucket: need('BUCKET'),
  endpoint: need('S3_ENDPOINT'),
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  required: true,
  // Fail fast while S3 is unreachable: the spool, not the adapter, keeps the events.
  retry: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 100 },
  requestTimeoutMs: 3_000,
});
const durable = durableCallback(s3, {
  directory: need('SPOOL_DIR'),
  segmentMaxEvents: 64,
  // Long enough that the last, partly filled segment is still open (unsealed) when the kill comes.
  segmentMaxAgeMs: 120_000,
  retry: { baseDelayMs: 100, maxDelayMs: 500 },
});
const manager = createCallbackManager({ callbacks: [durable] });
const errors: string[] = [];
manager.on('callbackError', (info) => errors.push(`${info.hook}: ${info.error.message}`));

if (mode === 'spool') {
  const client = wrapOpenAI(new OpenAI({ apiKey: 'sk-child-0123456789', baseURL: need('OPENAI_URL'), maxRetries: 0 }), manager);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < calls) {
        const i = next++;
        await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `call ${i}` }] });
      }
    }),
  );
  while (durable.stats().spooled < calls) await new Promise((resolve) => setTimeout(resolve, 5));
  process.stdout.write(`READY ${JSON.stringify({ stats: durable.stats(), errors: errors.length })}\n`);
  // Idle (the spool keeps retrying in the background) until SIGKILL.
  setInterval(() => undefined, 1_000);
} else if (mode === 'replay') {
  const report = await manager.flush({ timeoutMs: 30_000 });
  const stats = durable.stats();
  const closed = await manager.shutdown({ timeoutMs: 5_000 });
  process.stdout.write(`DONE ${JSON.stringify({ complete: report.complete && closed.complete, stats, errors })}\n`);
} else {
  throw new Error(`durable-spool-child: unknown MODE ${mode}`);
}
