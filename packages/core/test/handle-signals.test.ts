// handleSignals: a child process is sent SIGTERM / SIGINT while an event is still queued. The event
// must be delivered before the process ends, and the process must still end the way the signal
// says (killed by it), within the bound even when a callback hangs.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createCallbackManager } from '../src/index.js';

const CHILD = fileURLToPath(new URL('./fixtures/signal-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Outcome {
  lines: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
}

function run(scenario: string, send?: NodeJS.Signals): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, scenario], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (send && out.includes('ready\n') && !child.killed) child.kill(send);
    });
    child.stderr.on('data', (chunk: Buffer) => void (err += chunk.toString()));
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not end: ${out} ${err}`));
    }, 15_000);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ lines: out.split('\n').filter(Boolean), code, signal, ms: Date.now() - started });
    });
  });
}

describe('handleSignals', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: the queued event is delivered, then the process ends by the signal`, async () => {
      const outcome = await run('signal', signal);
      expect(outcome.lines.sort()).toEqual(['batched evt-signal', 'delivered evt-signal', 'ready']);
      expect(outcome.signal).toBe(signal);
      expect(outcome.code).toBeNull();
    });
  }

  it('a hanging callback flush does not keep the process: it ends by the signal after the bound', async () => {
    const outcome = await run('hang', 'SIGTERM');
    expect(outcome.signal).toBe('SIGTERM');
    expect(outcome.lines).toContain('delivered evt-hang');
  });

  it('when the application listens to the signal too, it decides how to exit (we only flush)', async () => {
    const outcome = await run('own', 'SIGTERM');
    expect(outcome.lines.sort()).toEqual(['app-exit', 'batched evt-own', 'delivered evt-own', 'ready']);
    expect(outcome.code).toBe(7);
    expect(outcome.signal).toBeNull();
  });

  it("beforeExit: a batching callback's buffer is flushed when the loop empties, and the process exits normally", async () => {
    const outcome = await run('beforeExit');
    expect(outcome.lines.sort()).toEqual(['batched evt-beforeExit', 'delivered evt-beforeExit', 'ready']);
    expect(outcome.code).toBe(0);
  });

  it('shutdown() removes the handlers; a manager without the option installs none', async () => {
    const before = process.listenerCount('SIGTERM');
    const manager = createCallbackManager({ handleSignals: true });
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    expect(process.listenerCount('SIGINT')).toBeGreaterThan(0);
    await manager.shutdown();
    expect(process.listenerCount('SIGTERM')).toBe(before);
    createCallbackManager();
    expect(process.listenerCount('SIGTERM')).toBe(before);
    expect(() => createCallbackManager({ handleSignals: { timeoutMs: -1 } })).toThrow(/handleSignals.timeoutMs/);
    expect(() => createCallbackManager({ handleSignals: { signals: ['TERM' as NodeJS.Signals] } })).toThrow(/handleSignals.signals/);
  });
});
