// The built-in callbacks: console lines and a JSONL file, driven through a real manager.
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CallEventSchema,
  LlmCallbacksError,
  consoleCallback,
  createCallbackManager,
  formatEventLine,
  jsonlCallback,
  type CallEvent,
  type CallbackErrorInfo,
  type JsonlCallbackOptions,
} from '../src/index.js';

let seq = 0;
function makeEvent(overrides: Partial<CallEvent> = {}): CallEvent {
  seq += 1;
  const event: CallEvent = {
    id: `evt-${seq}`,
    status: 'success',
    callType: 'chat.completions',
    model: 'gpt-4o-mini',
    provider: 'openai',
    stream: false,
    startTime: 1_700_000_000_000,
    endTime: 1_700_000_000_321,
    latencyMs: 321.4,
    request: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
    response: { id: 'chatcmpl-1', choices: [] },
    usage: { promptTokens: 12, completionTokens: 34, totalTokens: 46 },
    metadata: { team: 'search' },
    disabledCallbacks: [],
    ignoredDisables: [],
    ...overrides,
  };
  return CallEventSchema.parse(event);
}

function failureEvent(overrides: Partial<CallEvent> = {}): CallEvent {
  const { usage: _u, response: _r, ...base } = makeEvent({ status: 'failure', ...overrides });
  return CallEventSchema.parse({
    ...base,
    error: { name: 'RateLimitError', message: 'Rate limit reached', status: 429, code: 'rate_limit_exceeded' },
    ...overrides,
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('consoleCallback', () => {
  it('writes one readable line per event: status, call type, model, latency, tokens', async () => {
    const lines: string[] = [];
    const manager = createCallbackManager({ callbacks: [consoleCallback({ write: (l) => lines.push(l) })] });
    const ok = makeEvent();
    const fail = failureEvent({ callType: 'embeddings', model: 'text-embedding-3-small', latencyMs: 99.6 });
    manager.report(ok);
    manager.report(fail);
    await manager.flush();
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toMatch(/[\r\n]/);

    const [first, second] = lines as [string, string];
    expect(first).toMatch(/^\[llm\] ok\b/);
    expect(first).toContain('chat.completions');
    expect(first).toContain('gpt-4o-mini');
    expect(first).toContain('321ms');
    expect(first).toContain('tokens=12+34');
    expect(first).toContain(`id=${ok.id}`);
    expect(first).not.toContain('FAIL');

    expect(second).toMatch(/^\[llm\] FAIL\b/);
    expect(second).toContain('embeddings');
    expect(second).toContain('text-embedding-3-small');
    expect(second).toContain('100ms');
    expect(second).toContain('RateLimitError 429: Rate limit reached');
    expect(second).toContain(`id=${fail.id}`);
    expect(second).not.toContain('tokens=');
  });

  it('shows streaming facts and disabled callbacks', () => {
    const line = formatEventLine(makeEvent({ stream: true, streamEnd: 'stopped', timeToFirstTokenMs: 87.2, disabledCallbacks: ['langfuse', 's3'] }));
    expect(line).toContain('stream(stopped)');
    expect(line).toContain('ttft=87ms');
    expect(line).toContain('disabled=[langfuse,s3]');
    const completed = formatEventLine(makeEvent({ stream: true, streamEnd: 'completed' }));
    expect(completed).toContain(' stream ');
    expect(completed).not.toContain('stream(');
  });

  it('keeps an event on one line even when the error message or model has line breaks', () => {
    const line = formatEventLine(failureEvent({ model: 'm\nfake', error: { name: 'APIError', message: 'first line\nsecond line\r\nthird' } }));
    expect(line).not.toMatch(/[\r\n]/);
    expect(line).toContain('first line');
    expect(line).toContain('third');
  });

  it('defaults to console.log and the name "console"', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const cb = consoleCallback();
    expect(cb.name).toBe('console');
    const manager = createCallbackManager({ callbacks: [cb] });
    expect(manager.list().success_and_failure).toEqual(['console']);
    manager.report(makeEvent());
    await manager.flush();
    expect(log).toHaveBeenCalledTimes(1);
    expect(String(log.mock.calls[0]?.[0])).toMatch(/^\[llm\] ok /);
  });

  it('takes a custom name, so two can be registered', () => {
    const manager = createCallbackManager({ callbacks: [consoleCallback({ write: () => {} }), consoleCallback({ name: 'console2', write: () => {} })] });
    expect(manager.list().success_and_failure).toEqual(['console', 'console2']);
  });

  it('rejects a write option that is not a function', () => {
    for (const write of ['stdout', 1, {}]) {
      let error: unknown;
      try {
        consoleCallback({ write: write as unknown as (line: string) => void });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(LlmCallbacksError);
      expect((error as LlmCallbacksError).code).toBe('INVALID_OPTIONS');
      expect((error as LlmCallbacksError).message).toMatch(/write must be a function/);
    }
  });

  it('a throwing writer becomes a callbackError, not a crash', async () => {
    const manager = createCallbackManager({
      callbacks: [
        consoleCallback({
          write: () => {
            throw new Error('stdout closed');
          },
        }),
      ],
    });
    const errors: CallbackErrorInfo[] = [];
    manager.on('callbackError', (e) => errors.push(e));
    manager.report(makeEvent());
    await manager.flush();
    expect(errors).toMatchObject([{ callback: 'console', hook: 'onSuccess', timedOut: false }]);
  });
});

describe('jsonlCallback', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-callbacks-jsonl-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Open descriptors of this process that point at `path` (Linux only; undefined elsewhere). */
  function openDescriptors(path: string): number | undefined {
    if (!existsSync('/proc/self/fd')) return undefined;
    let count = 0;
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`) === path) count += 1;
      } catch {
        // closed while listing
      }
    }
    return count;
  }

  const readLines = (path: string): CallEvent[] => {
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    return text
      .slice(0, -1)
      .split('\n')
      .map((line) => JSON.parse(line) as CallEvent);
  };

  it('appends one JSON line per event; the file is complete after flush()', async () => {
    const path = join(dir, 'nested', 'deeper', 'events.jsonl');
    const manager = createCallbackManager({ callbacks: [jsonlCallback({ path })] });
    const events = Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? failureEvent() : makeEvent()));
    for (const e of events) manager.report(e);
    const report = await manager.flush();
    expect(report.complete).toBe(true);
    const lines = readLines(path);
    expect(lines.map((l) => l.id)).toEqual(events.map((e) => e.id));
    expect(lines[0]).toEqual(events[0]);
    for (const line of lines) expect(CallEventSchema.safeParse(line).success).toBe(true);
    await manager.shutdown();
  });

  it('a large burst is on disk after flush()', async () => {
    const path = join(dir, 'burst.jsonl');
    const big = 'x'.repeat(20_000);
    const manager = createCallbackManager({ callbacks: [jsonlCallback({ path })] });
    const events = Array.from({ length: 200 }, () => makeEvent({ metadata: { big } }));
    for (const e of events) manager.report(e);
    await manager.flush();
    expect(readLines(path).map((l) => l.id)).toEqual(events.map((e) => e.id));
    await manager.shutdown();
  });

  it('appends to an existing file', async () => {
    const path = join(dir, 'existing.jsonl');
    writeFileSync(path, '{"id":"old"}\n');
    const manager = createCallbackManager({ callbacks: [jsonlCallback({ path, name: 'file' })] });
    expect(manager.list().success_and_failure).toEqual(['file']);
    const event = makeEvent();
    manager.report(event);
    await manager.flush();
    expect(readLines(path).map((l) => l.id)).toEqual(['old', event.id]);
    await manager.shutdown();
  });

  it('shutdown() writes everything and closes the file', async () => {
    const path = join(dir, 'closed.jsonl');
    const manager = createCallbackManager({ callbacks: [jsonlCallback({ path })] });
    const events = [makeEvent(), failureEvent(), makeEvent()];
    for (const e of events) manager.report(e);
    await manager.flush();
    const openBefore = openDescriptors(path);
    if (openBefore !== undefined) expect(openBefore).toBe(1);
    const report = await manager.shutdown();
    expect(report.complete).toBe(true);
    expect(readLines(path).map((l) => l.id)).toEqual(events.map((e) => e.id));
    const openAfter = openDescriptors(path);
    if (openAfter !== undefined) expect(openAfter).toBe(0);
    // Events reported after shutdown are dropped, and the file is not reopened.
    manager.on('eventDropped', () => {});
    manager.report(makeEvent());
    await manager.flush();
    expect(readLines(path)).toHaveLength(3);
    if (openAfter !== undefined) expect(openDescriptors(path)).toBe(0);
  });

  it('shutdown() and flush() without any event create no file', async () => {
    const path = join(dir, 'never.jsonl');
    const manager = createCallbackManager({ callbacks: [jsonlCallback({ path })] });
    expect((await manager.flush()).complete).toBe(true);
    expect((await manager.shutdown()).complete).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it('a path that cannot be written is reported as a callbackError, not thrown at the caller', async () => {
    const manager = createCallbackManager({ callbacks: [jsonlCallback({ path: dir })] }); // a directory
    const errors: CallbackErrorInfo[] = [];
    manager.on('callbackError', (e) => errors.push(e));
    manager.report(makeEvent());
    const report = await manager.flush();
    manager.report(makeEvent());
    await manager.flush();
    expect(report.complete).toBe(false);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.every((e) => e.callback === 'jsonl')).toBe(true);
    expect(errors.some((e) => /EISDIR/.test(e.error.message))).toBe(true);
  });

  it('after a write failure the file is opened again: later events land, and the loss is reported once', async () => {
    const path = join(dir, 'comes-back.jsonl');
    mkdirSync(path); // unusable at first: a directory where the file should be
    const manager = createCallbackManager({ callbacks: [jsonlCallback({ path })] });
    const errors: CallbackErrorInfo[] = [];
    manager.on('callbackError', (e) => errors.push(e));
    manager.report(makeEvent()); // lost with the dead stream
    await manager.flush();
    rmSync(path, { recursive: true });
    const second = makeEvent(); // told about the loss, itself not written
    manager.report(second);
    await manager.flush();
    const later = [makeEvent(), makeEvent()];
    for (const e of later) manager.report(e);
    const report = await manager.flush();
    expect(report.complete).toBe(true);
    expect(readLines(path).map((l) => l.id)).toEqual(later.map((e) => e.id));
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.some((e) => /opened again/.test(e.error.message))).toBe(true);
    await manager.shutdown();
  });

  it('waits for the file when its buffer is full, so a slow disk is held by the bounded queue', async () => {
    const path = join(dir, 'pressure.jsonl');
    const callback = jsonlCallback({ path });
    const big = 'y'.repeat(70_000); // one line over the stream's 16 KiB buffer
    const results = [callback.onSuccess?.(makeEvent({ metadata: { big } })), callback.onSuccess?.(makeEvent({ metadata: { big } }))];
    expect(results.every((r) => r instanceof Promise)).toBe(true);
    await Promise.all(results);
    await callback.shutdown?.();
    expect(readLines(path)).toHaveLength(2);
  });

  it('rejects an invalid path option with LlmCallbacksError', () => {
    for (const options of [undefined, null, {}, { path: '' }, { path: 42 }, { path: ['a.jsonl'] }, { path: 'logs/\0events.jsonl' }]) {
      let error: unknown;
      try {
        jsonlCallback(options as unknown as JsonlCallbackOptions);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(LlmCallbacksError);
      expect((error as LlmCallbacksError).code).toBe('INVALID_OPTIONS');
      expect((error as LlmCallbacksError).message).toMatch(/path must be the file to append events to/);
    }
  });
});
