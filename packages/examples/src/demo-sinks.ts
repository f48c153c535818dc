// The demo's three real sinks: Langfuse, Datadog and S3. Each uses the real service when its
// environment is configured, and otherwise an embedded server on 127.0.0.1 that speaks the real
// protocol, so the demo can show what actually arrived.
import type { Callback } from '@llm-callbacks/core';
import { langfuseCallback } from '@llm-callbacks/langfuse';
import { datadogCallback } from '@llm-callbacks/datadog';
import { s3Callback } from '@llm-callbacks/s3';
import { startFakeDatadogAgent, startFakeLangfuse, startS3Server } from '@llm-callbacks/testing';

export interface DemoSink {
  /** e.g. 'Langfuse (embedded ingestion receiver at http://127.0.0.1:PORT)'. */
  label: string;
  callback: Callback;
  /** Lines describing what the sink received (embedded sinks), or where to look (real ones). */
  report(): Promise<string[]>;
  close(): Promise<void>;
}

const env = process.env;

export async function langfuseSink(): Promise<DemoSink> {
  if (env['LANGFUSE_PUBLIC_KEY'] && env['LANGFUSE_SECRET_KEY']) {
    const host = env['LANGFUSE_BASEURL'] ?? env['LANGFUSE_HOST'] ?? 'https://cloud.langfuse.com';
    return {
      label: `Langfuse (${host})`,
      callback: langfuseCallback(),
      report: async () => [`traces sent to ${host}; open the project to see them`],
      close: async () => {},
    };
  }
  const server = await startFakeLangfuse();
  return {
    label: `Langfuse (embedded ingestion receiver at ${server.url})`,
    callback: langfuseCallback({ ...server.clientOptions, flushAt: 1 }),
    report: async () => {
      const s = server.summary();
      return [`${s.traces} traces, ${s.observations} generations accepted, ${s.rejected} rejected`, ...server.describe()];
    },
    close: () => server.close(),
  };
}

export async function datadogSink(): Promise<DemoSink> {
  const mlApp = env['DD_LLMOBS_ML_APP'] ?? 'llm-callbacks-demo';
  if (env['DD_AGENT_HOST'] || env['DD_TRACE_AGENT_URL']) {
    return {
      label: `Datadog (agent at ${env['DD_TRACE_AGENT_URL'] ?? env['DD_AGENT_HOST']})`,
      callback: datadogCallback({ init: {}, mlApp }),
      report: async () => [`LLM Observability spans sent for ml_app ${mlApp}; see LLM Observability in Datadog`],
      close: async () => {},
    };
  }
  const agent = await startFakeDatadogAgent();
  return {
    label: `Datadog (embedded fake agent at ${agent.url})`,
    callback: datadogCallback({ init: { url: agent.url }, mlApp, service: 'llm-callbacks-demo', env: 'demo' }),
    report: async () => {
      const s = agent.summary();
      return [`${s.llmObsSpans} LLM Observability spans and ${s.apmSpans} APM spans accepted, ${s.rejectedPayloads} payloads rejected`, ...s.lines];
    },
    close: () => agent.close(),
  };
}

export async function s3Sink(): Promise<DemoSink> {
  const bucket = env['LLM_CALLBACKS_S3_BUCKET'];
  if (bucket) {
    return {
      label: `S3 (bucket ${bucket})`,
      callback: s3Callback({ bucket, prefix: 'llm-callbacks-demo' }),
      report: async () => [`objects written under s3://${bucket}/llm-callbacks-demo/`],
      close: async () => {},
    };
  }
  const server = await startS3Server({ bucket: 'llm-logs' });
  return {
    label: `S3 (embedded s3rver at ${server.endpoint}, bucket ${server.bucket})`,
    callback: s3Callback({
      bucket: server.bucket,
      prefix: 'demo',
      endpoint: server.endpoint,
      region: server.region,
      credentials: server.credentials,
      forcePathStyle: true,
    }),
    report: async () => {
      const objects = await server.readObjects();
      return objects.map((o) => `${o.key}  (${o.body.trim().split('\n').length} events, ${o.size} bytes)`);
    },
    close: () => server.close(),
  };
}
