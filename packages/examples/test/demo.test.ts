// `pnpm demo` as a new user runs it (no OPENAI_API_KEY, no LANGFUSE_* / DD_* / S3 settings): every
// row the demo promises is printed, each with the callbacks that really received that call's event,
// and the embedded Langfuse, Datadog and S3 receivers report what arrived.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The environment of a fresh machine: none of the variables that point the demo at real services. */
function freshEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(OPENAI_|LANGFUSE_|DD_|LLM_CALLBACKS_|AWS_)/.test(key)) continue;
    env[key] = value;
  }
  return {
    ...env,
    DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
    DD_REMOTE_CONFIGURATION_ENABLED: 'false',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

function runDemo(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=@llm-callbacks/source', '--import', 'tsx', 'src/demo.ts'], {
      cwd: PACKAGE_DIR,
      env: freshEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** The table line whose first column starts with `call`, split into its columns (two or more spaces apart). */
function row(output: string, call: string): string[] {
  const line = output.split('\n').find((l) => l.startsWith(call));
  if (!line) throw new Error(`no row for "${call}" in the demo output:\n${output}`);
  return line.split(/\s{2,}/);
}

describe('pnpm demo', () => {
  it('prints list(), every row with who received it, the locked manager, and what the embedded sinks got', { timeout: 120_000 }, async () => {
    const { code, output } = await runDemo();
    expect(code, output.slice(-4000)).toBe(0);
    expect(output).toContain('embedded OpenAI-compatible server at http://127.0.0.1:');

    // list(), as a table and as LiteLLM's JSON
    expect(row(output, 'success_and_failure')[1]).toBe('audit, jsonl, langfuse, datadog, s3');
    expect(row(output, 'success ')[1]).toBe('metrics');
    expect(row(output, 'failure ')[1]).toBe('alerts');
    expect(output).toContain('{"success":["metrics"],"failure":["alerts"],"success_and_failure":["audit","jsonl","langfuse","datadog","s3"]}');

    const all = 'audit, datadog, jsonl, langfuse, metrics, s3';
    expect(row(output, 'plain chat call').slice(1, 3)).toEqual(['success', all]);
    const header = row(output, 'header x-litellm-disable-callbacks');
    expect(header.slice(1, 4)).toEqual(['success', 'audit, datadog, jsonl, s3', 'metrics, langfuse']);
    const option = row(output, 'option disableCallbacks');
    expect(option.slice(1, 4)).toEqual(['success', 'langfuse, metrics, s3', 'audit, jsonl, datadog']);
    expect(row(output, 'responses.create in withCallbackContext').slice(1, 4)).toEqual(['success', 'datadog, jsonl, langfuse, metrics, s3', 'audit']);
    expect(row(output, 'streaming chat call').slice(1, 3)).toEqual(['success', all]);
    expect(row(output, 'embeddings call').slice(1, 3)).toEqual(['success', all]);
    // failure callbacks only: alerts, not the success-only metrics
    expect(row(output, 'failing call').slice(1, 3)).toEqual(['failure', 'alerts, audit, datadog, jsonl, langfuse, s3']);
    const unknown = row(output, "disableCallbacks: 'nosuch'");
    expect(unknown.slice(1, 5)).toEqual(['success', all, '-', 'nosuch: unknown-callback (option)']);
    const locked = row(output, 'header + option + scope');
    expect(locked.slice(1, 4)).toEqual(['success', 'audit, metrics', '-']);
    expect(locked[4]).toMatch(/^audit, metrics: locked \(/);

    // the embedded receivers report what actually arrived over the wire
    // (8 calls: langfuse, datadog and jsonl are each disabled on one, s3 on none)
    expect(output).toMatch(/jsonl: 7 events appended/);
    expect(output).toMatch(/Langfuse \(embedded ingestion receiver at http:\/\/127\.0\.0\.1:\d+\):\n {2}7 traces, 7 generations accepted, 0 rejected/);
    expect(output).toMatch(
      /Datadog \(embedded fake agent at http:\/\/127\.0\.0\.1:\d+\):\n {2}7 LLM Observability spans and 7 APM spans accepted, 0 payloads rejected/,
    );
    expect(output).toMatch(
      /S3 \(embedded s3rver at http:\/\/127\.0\.0\.1:\d+, bucket llm-logs\):\n {2}demo\/\d{4}-\d{2}-\d{2}\/\d{2}\/\S+\.ndjson {2}\(8 events, \d+ bytes\)/,
    );
    expect(row(output, 's3 ')).toEqual(['s3', '8', '0', '0', '0', '0', '0']);
  });
});
