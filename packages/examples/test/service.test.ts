// The service example (`pnpm --filter @llm-callbacks/examples service`) in its self-test mode: an
// Express app whose clients' disable header reaches its openai calls, callbacks from a LiteLLM
// config file, and /callbacks/list behind an admin key. Its own checks must all pass.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('the service example', () => {
  it('runs its self-test: the header of each client request disables exactly what it names', { timeout: 120_000 }, async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('OPENAI_')));
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['--conditions=@llm-callbacks/source', '--import', 'tsx', 'src/service.ts'], {
        cwd: PACKAGE_DIR,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('exit', (exitCode) => resolve({ code: exitCode, output: text }));
    });
    expect(code, output.slice(-3000)).toBe(0);
    expect(output).toContain('self-test passed');
    expect(output).toMatch(/^team-b \(sensitive\)\s+audit\s+metrics$/m);
    expect(output).toMatch(/^team-c\s+METRICS,nosuch\s+audit$/m);
    const checks = output.split('\n').filter((line) => /\s(ok|FAILED?)$/.test(line));
    expect(checks.length).toBeGreaterThanOrEqual(7);
    expect(checks.every((line) => line.endsWith(' ok'))).toBe(true);
  });
});
