// With unlimited retries (the default) and S3 down, a script that stops waiting (a bounded
// manager.flush(), no shutdown) still exits by itself: the adapter holds the process for one retry
// cycle at most. Runs the script in its own process and times its exit.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'outage-exit-child.ts');

it('a process whose S3 is down exits soon after its bounded flush, without shutdown()', { timeout: 60_000 }, async () => {
  const started = Date.now();
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@llm-callbacks/source', CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('exit', (exitCode) => {
      clearTimeout(killer);
      resolve({ code: exitCode, output: text });
    });
  });
  const elapsed = Date.now() - started;
  expect(output).toContain('FLUSHED {"complete":false,"pending":0}');
  expect(code, output.slice(-2000)).toBe(0);
  // tsx start-up (a few seconds on a loaded 2-core machine) + 0.5 s flush + one cycle (0.5 s): far below the 45 s kill.
  expect(elapsed).toBeLessThan(20_000);
});
