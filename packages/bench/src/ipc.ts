// Child processes for the benchmark: each server (provider, sinks) and each client variant runs in
// its own Node process, driven from the orchestrator over Node's IPC channel with small
// request/answer messages. Children load the packages' built dist/ (what users run; `pnpm bench`
// builds first), or their TypeScript sources with BENCH_SOURCE=1 (the `@llm-callbacks/source`
// condition: no build needed, but tsx's keepNames adds a call per closure created, so core's own
// cost reads higher than in the build). The bench's own files always run through tsx.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const CHILD_ENTRY = join(HERE, 'child.ts');

/** Environment every child gets: no dd-trace telemetry or remote config, no AWS SDK Node 20 warning. */
export const CHILD_ENV: Record<string, string> = {
  DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
  DD_REMOTE_CONFIGURATION_ENABLED: 'false',
  DD_TRACE_STARTUP_LOGS: 'false',
  DD_TRACE_TELEMETRY_ENABLED: 'false',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** BENCH_SOURCE=1: children load the packages from src/ instead of dist/. */
export const useSource = (): boolean => process.env['BENCH_SOURCE'] === '1';

interface Request {
  id: number;
  cmd: string;
  args?: unknown;
}
interface Answer {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface Child {
  readonly role: string;
  readonly pid: number;
  /** What the child announced when it was ready (URLs, ports, ...). */
  readonly info: Record<string, unknown>;
  call<T = unknown>(cmd: string, args?: unknown): Promise<T>;
  /** Asks the child to exit and waits for it (kills it after 5 s). */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Extra arguments after the role. */
  args?: unknown;
  env?: Record<string, string>;
  /** Directory for `--cpu-prof` output of this child (BENCH_CPU_PROF). */
  cpuProfDir?: string;
  /** Longest wait for the child to be ready. */
  readyTimeoutMs?: number;
}

/** Starts `child.ts <role>` and resolves once it reported ready. */
export function spawnChild(role: string, options: SpawnOptions = {}): Promise<Child> {
  const nodeArgs = [...(useSource() ? ['--conditions=@llm-callbacks/source'] : []), '--import', 'tsx'];
  // No --cpu-prof-name: with tsx's loader there are two threads, and one fixed name made the loader
  // thread's profile overwrite the main thread's. Node's default name carries the pid and thread id.
  if (options.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
  const proc: ChildProcess = spawn(process.execPath, [...nodeArgs, CHILD_ENTRY, role, JSON.stringify(options.args ?? {})], {
    cwd: join(HERE, '..'),
    env: { ...process.env, ...CHILD_ENV, ...options.env },
    // stderr is kept (its tail explains a failure); a sink that is down makes some clients log a lot.
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderrTail = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    proc.on('exit', (code, signal) => {
      exited = true;
      for (const w of waiting.values()) w.reject(new Error(`bench child "${role}" exited (code ${code}, signal ${signal}) while busy. stderr: ${stderrTail}`));
      waiting.clear();
      resolve();
    });
  });
  return new Promise<Child>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`bench child "${role}" was not ready within ${options.readyTimeoutMs ?? 30_000} ms. stderr: ${stderrTail}`));
    }, options.readyTimeoutMs ?? 30_000);
    proc.on('message', (message: unknown) => {
      const m = message as Answer & { type?: string; info?: Record<string, unknown> };
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve({
          role,
          pid: proc.pid ?? -1,
          info: m.info ?? {},
          call<T>(cmd: string, args?: unknown): Promise<T> {
            if (exited) return Promise.reject(new Error(`bench child "${role}" has exited. stderr: ${stderrTail}`));
            const id = nextId++;
            return new Promise<T>((res, rej) => {
              waiting.set(id, { resolve: res as (v: unknown) => void, reject: rej });
              proc.send({ id, cmd, args } satisfies Request);
            });
          },
          async stop(): Promise<void> {
            if (exited) return;
            proc.send({ id: 0, cmd: 'exit' } satisfies Request);
            const killer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
            await exit;
            clearTimeout(killer);
          },
        });
        return;
      }
      const w = waiting.get(m.id);
      if (!w) return;
      waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(`bench child "${role}" failed "${m.id}": ${m.error}`));
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench child "${role}" exited with code ${code} before it was ready. stderr: ${stderrTail}`));
    });
  });
}

type Handler = (args: unknown) => unknown;

/** The child side: announces `info`, then answers commands with `handlers` until told to exit. */
export function serve(info: Record<string, unknown>, handlers: Record<string, Handler>, onExit: () => Promise<void>): void {
  const send = (m: unknown): void => {
    if (process.connected) process.send?.(m);
  };
  process.on('message', (message: unknown) => {
    const { id, cmd, args } = message as Request;
    if (cmd === 'exit') {
      void onExit()
        .catch(() => undefined)
        .finally(() => process.exit(0));
      return;
    }
    const handler = handlers[cmd];
    if (!handler) {
      send({ id, ok: false, error: `unknown command ${cmd}` } satisfies Answer);
      return;
    }
    Promise.resolve()
      .then(() => handler(args))
      .then(
        (result) => send({ id, ok: true, result } satisfies Answer),
        (error: unknown) => send({ id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies Answer),
      );
  });
  // The orchestrator went away: do not linger.
  process.on('disconnect', () => {
    void onExit()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  });
  send({ type: 'ready', info });
}
