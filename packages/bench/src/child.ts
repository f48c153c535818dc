// Entry of every benchmark child process: `child.ts <role> <json args>`. Roles: the loopback
// provider (fake OpenAI), the three sinks (fake Langfuse, fake Datadog agent, s3rver behind its
// validating front), and a client running one variant. Each serves commands from the orchestrator.
import type { BatchArgs, ClientArgs, SteadyArgs } from './client.js';
import { serve } from './ipc.js';

// Servers and clients import what they need when they start: a client must not load the test
// servers (s3rver, ...), nor a server the client libraries.
const testing = (): Promise<typeof import('@llm-callbacks/testing')> => import('@llm-callbacks/testing');

const role = process.argv[2];
const args = JSON.parse(process.argv[3] ?? '{}') as Record<string, unknown>;

async function main(): Promise<void> {
  switch (role) {
    case 'provider': {
      const server = await (await testing()).startFakeOpenAI();
      // The fake records every request; forget them between batches so it does not grow.
      serve({ url: server.url }, { reset: () => server.reset() }, () => server.close());
      return;
    }
    case 'langfuse': {
      const server = await (await testing()).startFakeLangfuse();
      serve(
        { clientOptions: server.clientOptions },
        {
          summary: () => {
            const ingestion = server.requests.filter((r) => r.path === '/api/public/ingestion');
            const items = ingestion.reduce((n, r) => n + ((r.body as { batch?: unknown[] } | undefined)?.batch?.length ?? 0), 0);
            return { requests: ingestion.length, items, summary: server.summary() };
          },
          reset: () => server.reset(),
        },
        () => server.close(),
      );
      return;
    }
    case 'datadog': {
      const agent = await (await testing()).startFakeDatadogAgent();
      serve({ url: agent.url }, { summary: () => ({ ...agent.summary(), lines: undefined }), reset: () => agent.reset() }, () => agent.close());
      return;
    }
    case 's3': {
      const server = await (await testing()).startS3Server({ bucket: 'llm-callbacks-bench' });
      serve(
        { endpoint: server.endpoint, bucket: server.bucket, region: server.region, credentials: server.credentials },
        {
          puts: () => server.received.filter((r) => r.method === 'PUT' && r.key !== '').length,
          objects: async () => (await server.listObjects()).length,
          /** Events stored: NDJSON lines over every object (read back from s3rver). */
          events: async () => (await server.readObjects()).reduce((n, o) => n + o.body.split('\n').filter((l) => l.trim() !== '').length, 0),
          reset: () => server.reset(),
        },
        () => server.close(),
      );
      return;
    }
    case 'client': {
      const { runBatch, runSteady, setupClient } = await import('./client.js');
      const setup = await setupClient(args as unknown as ClientArgs);
      serve(
        { variant: (args as unknown as ClientArgs).variant },
        {
          batch: (a) => runBatch(setup, a as BatchArgs),
          steady: (a) => runSteady(setup, a as SteadyArgs),
          stats: () => setup.manager?.stats() ?? null,
        },
        () => setup.shutdown(),
      );
      return;
    }
    default:
      throw new Error(`unknown bench child role ${String(role)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
