// Delivery: routing by status and disables, isolation of bad callbacks, timeouts, flush/shutdown
// bounds, overflow, counters, and what is reported when nobody listens.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CallEventSchema,
  CallbackTimeoutError,
  createCallbackManager,
  type CallEvent,
  type Callback,
  type CallbackErrorInfo,
  type CallbackManager,
  type EventDroppedInfo,
  type InternalErrorInfo,
} from '../src/index.js';

let seq = 0;
function makeEvent(overrides: Partial<CallEvent> = {}): CallEvent {
  seq += 1;
  const failure = overrides.status === 'failure';
  const event: CallEvent = {
    id: `evt-${seq}`,
    status: 'success',
    callType: 'chat.completions',
    model: 'gpt-test',
    provider: 'openai',
    stream: false,
    startTime: 1_700_000_000_000,
    endTime: 1_700_000_000_250,
    latencyMs: 250,
    request: { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] },
    ...(failure
      ? { error: { name: 'APIError', message: 'rate limited', status: 429 } }
      : { response: { id: 'r' }, usage: { promptTokens: 3, completionTokens: 4, totalTokens: 7 } }),
    metadata: {},
    disabledCallbacks: [],
    ignoredDisables: [],
    ...overrides,
  };
  return CallEventSchema.parse(event);
}

const noop = (): void => {};
const never = (): Promise<void> => new Promise<void>(() => {});
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Recorder {
  calls: string[];
  cb: Callback;
}

/** A callback that records `hook:eventId` for every call. */
function recorder(name: string, hooks: Array<'onSuccess' | 'onFailure'> = ['onSuccess', 'onFailure']): Recorder {
  const calls: string[] = [];
  const cb: Record<string, unknown> = { name };
  for (const hook of hooks) cb[hook] = (event: CallEvent) => void calls.push(`${hook}:${event.id}`);
  return { calls, cb: cb as unknown as Callback };
}

function listen(manager: CallbackManager) {
  const errors: CallbackErrorInfo[] = [];
  const dropped: EventDroppedInfo[] = [];
  const internal: InternalErrorInfo[] = [];
  manager.on('callbackError', (i) => errors.push(i));
  manager.on('eventDropped', (i) => dropped.push(i));
  manager.on('internalError', (i) => internal.push(i));
  return { errors, dropped, internal };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('routing', () => {
  it('sends success events to onSuccess and failures to onFailure, only to callbacks with that hook', async () => {
    const both = recorder('both');
    const okOnly = recorder('ok-only', ['onSuccess']);
    const failOnly = recorder('fail-only', ['onFailure']);
    const manager = createCallbackManager({ callbacks: [both.cb, okOnly.cb, failOnly.cb] });
    const s = makeEvent();
    const f = makeEvent({ status: 'failure' });
    manager.report(s);
    manager.report(f);
    const report = await manager.flush();
    expect(both.calls).toEqual([`onSuccess:${s.id}`, `onFailure:${f.id}`]);
    expect(okOnly.calls).toEqual([`onSuccess:${s.id}`]);
    expect(failOnly.calls).toEqual([`onFailure:${f.id}`]);
    expect(report.complete).toBe(true);
    expect(report.callbacks['both']).toMatchObject({ delivered: 2, pending: 0 });
    expect(report.callbacks['ok-only']).toMatchObject({ delivered: 1 });
    expect(report.callbacks['fail-only']).toMatchObject({ delivered: 1 });
  });

  it('passes the event object itself, and calls the hook with the callback as this', async () => {
    const seen: Array<[unknown, CallEvent]> = [];
    const cb = {
      name: 'self',
      onSuccess(this: unknown, event: CallEvent) {
        seen.push([this, event]);
      },
    };
    const manager = createCallbackManager({ callbacks: [cb] });
    const event = makeEvent();
    manager.report(event);
    await manager.flush();
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toBe(cb);
    expect(seen[0]![1]).toEqual(event);
  });

  it('skips callbacks listed in event.disabledCallbacks, compared case-insensitively, and counts them', async () => {
    const a = recorder('Langfuse');
    const b = recorder('datadog');
    const c = recorder('s3');
    const manager = createCallbackManager({ callbacks: [a.cb, b.cb, c.cb] });
    const e1 = makeEvent({ disabledCallbacks: ['LANGFUSE', 'DataDog'] });
    const e2 = makeEvent({ status: 'failure', disabledCallbacks: ['langfuse'] });
    manager.report(e1);
    manager.report(e2);
    const report = await manager.flush();
    expect(a.calls).toEqual([]);
    expect(b.calls).toEqual([`onFailure:${e2.id}`]);
    expect(c.calls).toEqual([`onSuccess:${e1.id}`, `onFailure:${e2.id}`]);
    expect(report.callbacks['Langfuse']).toMatchObject({ delivered: 0, disabled: 2 });
    expect(report.callbacks['datadog']).toMatchObject({ delivered: 1, disabled: 1 });
    expect(report.callbacks['s3']).toMatchObject({ delivered: 2, disabled: 0 });
  });

  it('report() returns before any hook runs', async () => {
    const calls: string[] = [];
    const manager = createCallbackManager({
      callbacks: [{ name: 'sync', onSuccess: (e) => void calls.push(e.id), onFailure: (e) => void calls.push(e.id) }],
    });
    const event = makeEvent();
    manager.report(event);
    manager.report(makeEvent({ status: 'failure' }));
    expect(calls).toEqual([]);
    await manager.flush();
    expect(calls).toHaveLength(2);
    expect(calls[0]).toBe(event.id);
  });

  it('report() does not throw even when a hook would throw synchronously', () => {
    const manager = createCallbackManager({
      callbacks: [
        {
          name: 'bad',
          onSuccess() {
            throw new Error('sync');
          },
        },
      ],
    });
    manager.on('callbackError', noop);
    expect(() => manager.report(makeEvent())).not.toThrow();
    return manager.flush();
  });

  it('a slow callback delays only itself: the others receive every event meanwhile', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fastSeen: string[] = [];
    let allFast!: () => void;
    const fastDone = new Promise<void>((resolve) => (allFast = resolve));
    const events = [makeEvent(), makeEvent({ status: 'failure' }), makeEvent()];
    const slowSeen: string[] = [];
    const manager = createCallbackManager({
      concurrency: 1,
      callbacks: [
        {
          name: 'slow',
          async onSuccess(e) {
            await gate;
            slowSeen.push(e.id);
          },
          async onFailure(e) {
            await gate;
            slowSeen.push(e.id);
          },
        },
        {
          name: 'fast',
          onSuccess: (e) => void (fastSeen.push(e.id) === events.length && allFast()),
          onFailure: (e) => void (fastSeen.push(e.id) === events.length && allFast()),
        },
      ],
    });
    for (const e of events) manager.report(e);
    await fastDone;
    expect(fastSeen).toEqual(events.map((e) => e.id));
    expect(slowSeen).toEqual([]);
    expect(manager.stats().callbacks['slow']?.pending).toBe(3);
    release();
    await manager.flush();
    expect(slowSeen).toEqual(events.map((e) => e.id));
  });

  it('runs up to `concurrency` hook calls of one callback at once, no more', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let running = 0;
    let peak = 0;
    const manager = createCallbackManager({
      concurrency: 3,
      callbacks: [
        {
          name: 'parallel',
          async onSuccess() {
            running += 1;
            peak = Math.max(peak, running);
            await gate;
            running -= 1;
          },
        },
      ],
    });
    for (let i = 0; i < 7; i += 1) manager.report(makeEvent());
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(running).toBe(3);
    expect(manager.stats().callbacks['parallel']?.pending).toBe(7);
    release();
    const report = await manager.flush();
    expect(peak).toBe(3);
    expect(report.callbacks['parallel']).toMatchObject({ delivered: 7, pending: 0 });
  });

  it('delivers events to one callback in order when concurrency is 1', async () => {
    const order: string[] = [];
    const manager = createCallbackManager({
      concurrency: 1,
      callbacks: [
        {
          name: 'serial',
          async onSuccess(e) {
            order.push(`start:${e.id}`);
            await sleep(5);
            order.push(`end:${e.id}`);
          },
        },
      ],
    });
    const events = [makeEvent(), makeEvent(), makeEvent()];
    for (const e of events) manager.report(e);
    await manager.flush();
    expect(order).toEqual(events.flatMap((e) => [`start:${e.id}`, `end:${e.id}`]));
  });
});

describe('synchronous hooks', () => {
  it('a long backlog of synchronous deliveries drains in order without deepening the stack, with no timer per event', async () => {
    let release: () => void = noop;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: string[] = [];
    const manager = createCallbackManager({
      concurrency: 1,
      maxQueueSize: 30_000,
      callbacks: [
        {
          name: 'mostly-sync',
          // The first event holds the queue (a promise); the backlog behind it is all synchronous.
          onSuccess(e) {
            seen.push(e.id);
            return seen.length === 1 ? gate : undefined;
          },
        },
      ],
    });
    const events = Array.from({ length: 25_000 }, () => makeEvent());
    for (const e of events) manager.report(e);
    await sleep(50);
    expect(seen).toHaveLength(1);
    const timers = vi.spyOn(globalThis, 'setTimeout');
    release();
    await manager.flush();
    const perEvent = timers.mock.calls.length;
    timers.mockRestore();
    expect(seen).toEqual(events.map((e) => e.id));
    expect(perEvent).toBeLessThan(10);
    const stats = manager.stats().callbacks['mostly-sync'];
    expect(stats?.delivered).toBe(25_000);
    expect(stats?.pending).toBe(0);
  });

  it('a synchronous throw is counted as a failure and reported like a rejection', async () => {
    const manager = createCallbackManager({
      callbacks: [
        {
          name: 'sync-thrower',
          onSuccess() {
            throw new Error('sync boom');
          },
        },
      ],
    });
    const { errors } = listen(manager);
    manager.report(makeEvent());
    await manager.flush();
    expect(errors.map((e) => e.error.message)).toEqual(['sync boom']);
    expect(manager.stats().callbacks['sync-thrower']?.failed).toBe(1);
  });
});

describe('isolation and errors', () => {
  it('a throwing, a rejecting and a hanging callback affect no other; each error is reported', async () => {
    const good = recorder('good');
    const throwing: Callback = {
      name: 'thrower',
      onSuccess() {
        throw new Error('sync failure');
      },
      onFailure() {
        throw 'a string';
      },
    };
    const rejecting: Callback = {
      name: 'rejecter',
      onSuccess: () => Promise.reject(new Error('async failure')),
    };
    const hanging: Callback = { name: 'hanger', onSuccess: never, onFailure: never };
    const after = recorder('after');
    const manager = createCallbackManager({ timeoutMs: 50, callbacks: [throwing, good.cb, rejecting, hanging, after.cb] });
    const { errors } = listen(manager);
    const events = [makeEvent(), makeEvent({ status: 'failure' }), makeEvent()];
    for (const e of events) manager.report(e);
    const report = await manager.flush({ timeoutMs: 5_000 });

    const expected = [`onSuccess:${events[0]!.id}`, `onFailure:${events[1]!.id}`, `onSuccess:${events[2]!.id}`];
    expect(good.calls).toEqual(expected);
    expect(after.calls).toEqual(expected);

    const byCallback = (name: string) => errors.filter((e) => e.callback === name);
    expect(byCallback('thrower').map((e) => [e.hook, e.eventId, e.timedOut, e.error.message])).toEqual([
      ['onSuccess', events[0]!.id, false, 'sync failure'],
      ['onFailure', events[1]!.id, false, 'non-Error value thrown: a string'],
      ['onSuccess', events[2]!.id, false, 'sync failure'],
    ]);
    expect(byCallback('rejecter').map((e) => [e.hook, e.eventId, e.timedOut, e.error.message])).toEqual([
      ['onSuccess', events[0]!.id, false, 'async failure'],
      ['onSuccess', events[2]!.id, false, 'async failure'],
    ]);
    const hung = byCallback('hanger');
    expect(hung.map((e) => [e.hook, e.eventId, e.timedOut])).toEqual([
      ['onSuccess', events[0]!.id, true],
      ['onFailure', events[1]!.id, true],
      ['onSuccess', events[2]!.id, true],
    ]);
    for (const e of hung) {
      expect(e.error).toBeInstanceOf(CallbackTimeoutError);
      expect(e.error.message).toMatch(/"hanger" on(Success|Failure) did not settle within 50 ms/);
    }
    expect(errors.filter((e) => !['thrower', 'rejecter', 'hanger'].includes(e.callback))).toEqual([]);

    expect(report.complete).toBe(true);
    expect(report.callbacks['thrower']).toMatchObject({ delivered: 0, failed: 3, timedOut: 0 });
    expect(report.callbacks['rejecter']).toMatchObject({ delivered: 0, failed: 2, timedOut: 0 });
    expect(report.callbacks['hanger']).toMatchObject({ delivered: 0, failed: 0, timedOut: 3, pending: 0 });
    expect(report.callbacks['good']).toMatchObject({ delivered: 3, failed: 0, timedOut: 0 });
  });

  it('a callback that mutates its event does not change what the other callbacks receive', async () => {
    const seen: unknown[] = [];
    const vandal = (e: CallEvent): void => {
      e.model = 'changed';
      e.metadata['injected'] = true;
      (e.request['messages'] as unknown[]).length = 0;
      e.disabledCallbacks.push('x');
    };
    const observer = (e: CallEvent): void => void seen.push(JSON.parse(JSON.stringify(e)));
    const manager = createCallbackManager({
      callbacks: [
        { name: 'vandal-1', onSuccess: vandal },
        { name: 'observer-1', onSuccess: observer },
        { name: 'vandal-2', onSuccess: vandal },
        { name: 'observer-2', onSuccess: observer },
        { name: 'vandal-3', onSuccess: vandal },
      ],
    });
    const event = makeEvent({ metadata: { team: 't' } });
    const pristine = JSON.parse(JSON.stringify(event)) as unknown;
    manager.report(event);
    await manager.flush();
    expect(seen).toEqual([pristine, pristine]);
  });

  it("a callback's own timeoutMs wins over the manager's", async () => {
    const manager = createCallbackManager({
      timeoutMs: 10_000,
      callbacks: [{ name: 'quick', timeoutMs: 30, onSuccess: never }],
    });
    const { errors } = listen(manager);
    manager.report(makeEvent());
    const started = Date.now();
    await manager.flush({ timeoutMs: 5_000 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(errors).toMatchObject([{ callback: 'quick', hook: 'onSuccess', timedOut: true }]);
  });

  it('a hook that settles after its timeout is counted once, as timed out', async () => {
    const manager = createCallbackManager({
      callbacks: [{ name: 'late', timeoutMs: 20, onSuccess: () => sleep(60), onFailure: () => sleep(60).then(() => Promise.reject(new Error('late'))) }],
    });
    const { errors } = listen(manager);
    manager.report(makeEvent());
    manager.report(makeEvent({ status: 'failure' }));
    await manager.flush();
    await sleep(100); // let both hooks settle after their timeouts
    expect(manager.stats().callbacks['late']).toMatchObject({ delivered: 0, failed: 0, timedOut: 2 });
    expect(errors.map((e) => e.timedOut)).toEqual([true, true]);
  });

  it('a hung hook does not block the next event of the same callback at concurrency 1', async () => {
    const calls: string[] = [];
    let first = true;
    const manager = createCallbackManager({
      concurrency: 1,
      timeoutMs: 30,
      callbacks: [
        {
          name: 'sometimes-hangs',
          onSuccess(e) {
            calls.push(e.id);
            if (first) {
              first = false;
              return never();
            }
            return undefined;
          },
        },
      ],
    });
    manager.on('callbackError', noop);
    const events = [makeEvent(), makeEvent()];
    for (const e of events) manager.report(e);
    const report = await manager.flush();
    expect(calls).toEqual(events.map((e) => e.id));
    expect(report.callbacks['sometimes-hangs']).toMatchObject({ delivered: 1, timedOut: 1 });
  });

  it('a callbackError listener that throws does not break delivery', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(noop);
    const good = recorder('good');
    const manager = createCallbackManager({
      callbacks: [{ name: 'bad', onSuccess: () => Promise.reject(new Error('x')) }, good.cb],
    });
    const heard: string[] = [];
    manager.on('callbackError', (info) => {
      heard.push(info.eventId ?? '');
      throw new Error('listener is broken');
    });
    const events = [makeEvent(), makeEvent(), makeEvent()];
    for (const e of events) manager.report(e);
    const report = await manager.flush({ timeoutMs: 5_000 });
    expect(report.complete).toBe(true);
    expect(heard).toEqual(events.map((e) => e.id));
    expect(good.calls).toEqual(events.map((e) => `onSuccess:${e.id}`));
    expect(report.callbacks['bad']).toMatchObject({ failed: 3, pending: 0 });
    // The broken listener itself is reported, once.
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/callbackError.*listener threw.*listener is broken/);
  });

  it('with no callbackError listener, warns once per callback and hook', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(noop);
    const manager = createCallbackManager({
      callbacks: [
        {
          name: 'noisy',
          onSuccess() {
            throw new Error('success broke');
          },
          onFailure() {
            throw new Error('failure broke');
          },
        },
      ],
    });
    for (let i = 0; i < 3; i += 1) manager.report(makeEvent());
    await manager.flush();
    expect(warn).toHaveBeenCalledTimes(1);
    const first = String(warn.mock.calls[0]?.[0]);
    expect(first).toContain('callback "noisy" onSuccess');
    expect(first).toContain('success broke');
    expect(first).toContain("manager.on('callbackError')");

    manager.report(makeEvent());
    manager.report(makeEvent({ status: 'failure' }));
    manager.report(makeEvent({ status: 'failure' }));
    await manager.flush();
    expect(warn).toHaveBeenCalledTimes(2);
    expect(String(warn.mock.calls[1]?.[0])).toContain('callback "noisy" onFailure');
    // The counters still see every failure.
    expect(manager.stats().callbacks['noisy']).toMatchObject({ failed: 6 });
  });

  it('does not warn when a listener handles callbackError', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(noop);
    const manager = createCallbackManager({ callbacks: [{ name: 'bad', onSuccess: () => Promise.reject(new Error('x')) }] });
    manager.on('callbackError', noop);
    manager.report(makeEvent());
    await manager.flush();
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('malformed events', () => {
  it('an event failing CallEventSchema is still delivered, and internalError is emitted', async () => {
    const good = recorder('good');
    const manager = createCallbackManager({ callbacks: [good.cb] });
    const { internal } = listen(manager);
    const bad = { ...makeEvent(), latencyMs: -1, callType: 'images' } as unknown as CallEvent;
    manager.report(bad);
    const report = await manager.flush();
    expect(good.calls).toEqual([`onSuccess:${bad.id}`]);
    expect(internal).toHaveLength(1);
    expect(internal[0]).toMatchObject({ where: 'event schema check', eventId: bad.id });
    expect(internal[0]?.error.message).toContain('does not match CallEventSchema');
    expect(report.complete).toBe(true);
  });

  it('an event without disabledCallbacks is still delivered', async () => {
    const good = recorder('good');
    const manager = createCallbackManager({ callbacks: [good.cb] });
    const { internal } = listen(manager);
    const { disabledCallbacks: _omit, ...rest } = makeEvent({ status: 'failure' });
    manager.report(rest as CallEvent);
    await manager.flush();
    expect(good.calls).toEqual([`onFailure:${rest.id}`]);
    expect(internal.map((i) => i.where)).toEqual(['event schema check']);
  });

  it('a non-object event is reported as an internal error, never a crash', async () => {
    const good = recorder('good');
    const manager = createCallbackManager({ callbacks: [good.cb] });
    const { internal } = listen(manager);
    manager.report(null as unknown as CallEvent);
    manager.report(undefined as unknown as CallEvent);
    const event = makeEvent();
    manager.report(event);
    await manager.flush();
    expect(internal.length).toBeGreaterThanOrEqual(2);
    expect(good.calls).toEqual([`onSuccess:${event.id}`]);
  });
});

describe('flush()', () => {
  it('waits for slow async hooks, then for each callback flush()', async () => {
    const log: string[] = [];
    const manager = createCallbackManager({
      callbacks: [
        {
          name: 'slow',
          async onSuccess(e) {
            await sleep(100);
            log.push(`delivered:${e.id}`);
          },
          async flush() {
            await sleep(20);
            log.push('slow.flush');
          },
        },
        {
          name: 'fast',
          onSuccess: (e) => void log.push(`fast:${e.id}`),
          flush: () => void log.push('fast.flush'),
        },
      ],
    });
    const event = makeEvent();
    manager.report(event);
    const report = await manager.flush();
    expect(log).toContain(`delivered:${event.id}`);
    expect(log).toContain('slow.flush');
    expect(log).toContain('fast.flush');
    // Callback flushes run only after every queue drained.
    expect(log.indexOf('fast.flush')).toBeGreaterThan(log.indexOf(`delivered:${event.id}`));
    expect(log.indexOf('slow.flush')).toBeGreaterThan(log.indexOf(`delivered:${event.id}`));
    expect(report).toMatchObject({ complete: true, pending: 0 });
    expect(report.callbacks['slow']).toMatchObject({ delivered: 1, pending: 0 });
  });

  it('under steady load, flush waits for what was queued before it, not for events reported later', async () => {
    const delivered: string[] = [];
    let keepGoing = true;
    const manager = createCallbackManager({
      concurrency: 1,
      callbacks: [
        {
          name: 'busy',
          async onSuccess(e) {
            await sleep(2);
            delivered.push(e.id);
            // Every delivery causes another call: the queue is never empty while this runs.
            if (keepGoing) manager.report(makeEvent());
          },
        },
      ],
    });
    const first = [makeEvent(), makeEvent(), makeEvent()];
    for (const e of first) manager.report(e);
    const started = Date.now();
    const report = await manager.flush({ timeoutMs: 3_000 });
    const elapsed = Date.now() - started;
    keepGoing = false;
    expect(delivered.slice(0, 3)).toEqual(first.map((e) => e.id));
    expect(elapsed).toBeLessThan(1_500);
    // Later events were still coming, so the report says delivery is not complete.
    expect(report.complete).toBe(false);
    expect(report.pending).toBeGreaterThan(0);
    const final = await manager.flush({ timeoutMs: 3_000 });
    expect(final).toMatchObject({ complete: true, pending: 0 });
  });

  it('counts pending events before flush, and none after', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const manager = createCallbackManager({ concurrency: 1, callbacks: [{ name: 'gated', onSuccess: () => gate }] });
    manager.report(makeEvent());
    manager.report(makeEvent());
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(manager.stats()).toMatchObject({ pending: 2, complete: false });
    expect(manager.stats().callbacks['gated']).toMatchObject({ pending: 2 });
    const flushed = manager.flush();
    release();
    expect(await flushed).toMatchObject({ pending: 0, complete: true });
  });

  it('flush({ timeoutMs }) returns within the bound with complete: false when a callback flush hangs', async () => {
    const manager = createCallbackManager({ callbacks: [{ name: 'stuck', onSuccess: noop, flush: never }] });
    manager.on('callbackError', noop);
    manager.report(makeEvent());
    const started = Date.now();
    const report = await manager.flush({ timeoutMs: 100 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(1_000);
    expect(report.complete).toBe(false);
    expect(report.callbacks['stuck']).toMatchObject({ delivered: 1, pending: 0 });
  });

  it("a callback flush that outlives its callback's bound is reported as a timed-out flush", async () => {
    const manager = createCallbackManager({ callbacks: [{ name: 'stuck', timeoutMs: 5, onSuccess: noop, flush: never }] });
    const { errors } = listen(manager);
    const report = await manager.flush({ timeoutMs: 5_000 });
    expect(report.complete).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ callback: 'stuck', hook: 'flush', timedOut: true });
    expect(errors[0]?.eventId).toBeUndefined();
  });

  it('a callback flush that throws makes the report incomplete and is reported', async () => {
    const manager = createCallbackManager({
      callbacks: [
        {
          name: 'broken-flush',
          onSuccess: noop,
          flush() {
            throw new Error('disk full');
          },
        },
      ],
    });
    const { errors } = listen(manager);
    const report = await manager.flush();
    expect(report.complete).toBe(false);
    expect(errors).toMatchObject([{ callback: 'broken-flush', hook: 'flush', timedOut: false }]);
    expect(errors[0]?.error.message).toBe('disk full');
  });

  it('a flush with a generous timeoutMs (even Infinity) still waits for delivery', async () => {
    const done: string[] = [];
    const manager = createCallbackManager({
      callbacks: [
        {
          name: 'slowish',
          async onSuccess(e) {
            await sleep(30);
            done.push(e.id);
          },
        },
      ],
    });
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(noop);
    const event = makeEvent();
    manager.report(event);
    const report = await manager.flush({ timeoutMs: Number.POSITIVE_INFINITY });
    expect(done).toEqual([event.id]);
    expect(report.complete).toBe(true);
    manager.report(makeEvent());
    expect((await manager.flush({ timeoutMs: 2 ** 40 })).complete).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('shutdown()', () => {
  it('flushes, calls each shutdown hook, and drops (and reports) events reported afterwards', async () => {
    const log: string[] = [];
    const manager = createCallbackManager({
      callbacks: [
        {
          name: 'a',
          onSuccess: (e) => void log.push(`a:${e.id}`),
          onFailure: (e) => void log.push(`a:${e.id}`),
          shutdown: () => void log.push('a.shutdown'),
        },
        { name: 'b', onFailure: (e) => void log.push(`b:${e.id}`) },
      ],
    });
    const { dropped } = listen(manager);
    const before = makeEvent();
    manager.report(before);
    const report = await manager.shutdown();
    expect(report.complete).toBe(true);
    expect(log).toEqual([`a:${before.id}`, 'a.shutdown']);

    const late = makeEvent({ status: 'failure' });
    const lateSuccess = makeEvent();
    manager.report(late);
    manager.report(lateSuccess);
    await manager.flush();
    expect(log).toEqual([`a:${before.id}`, 'a.shutdown']);
    expect(dropped).toEqual([
      { callback: 'a', eventId: late.id, reason: 'shutdown' },
      { callback: 'b', eventId: late.id, reason: 'shutdown' },
      { callback: 'a', eventId: lateSuccess.id, reason: 'shutdown' },
    ]);
    const stats = manager.stats();
    expect(stats.callbacks['a']).toMatchObject({ delivered: 1, dropped: 2, pending: 0 });
    expect(stats.callbacks['b']).toMatchObject({ delivered: 0, dropped: 1, pending: 0 });
  });

  it('an event reported while shutdown is in progress is dropped, not handed to a closing callback', async () => {
    const log: string[] = [];
    let finishShutdown!: () => void;
    const manager = createCallbackManager({
      callbacks: [
        {
          name: 'a',
          onSuccess: (e) => void log.push(e.id),
          shutdown: () => new Promise<void>((resolve) => (finishShutdown = resolve)),
        },
      ],
    });
    const { dropped } = listen(manager);
    const before = makeEvent();
    manager.report(before);
    const closing = manager.shutdown({ timeoutMs: 5_000 });
    const during = makeEvent();
    manager.report(during);
    await vi.waitFor(() => expect(finishShutdown).toBeTypeOf('function'));
    const alsoDuring = makeEvent();
    manager.report(alsoDuring);
    await new Promise<void>((resolve) => setImmediate(resolve));
    finishShutdown();
    await closing;
    expect(log).toEqual([before.id]);
    expect(dropped.map((d) => [d.eventId, d.reason])).toEqual([
      [during.id, 'shutdown'],
      [alsoDuring.id, 'shutdown'],
    ]);
  });

  it('an event of a call still in flight (tracked) when shutdown starts is delivered, not dropped', async () => {
    const log: string[] = [];
    const manager = createCallbackManager({
      callbacks: [{ name: 'a', onSuccess: (e) => void log.push(e.id), shutdown: () => void log.push('a.shutdown') }],
    });
    const { dropped } = listen(manager);
    const event = makeEvent();
    manager.track(sleep(30).then(() => manager.report(event)));
    const report = await manager.shutdown({ timeoutMs: 5_000 });
    expect(log).toEqual([event.id, 'a.shutdown']);
    expect(dropped).toEqual([]);
    expect(report.complete).toBe(true);
  });

  it('flush() also waits for tracked work and delivers what it reports', async () => {
    const log: string[] = [];
    const manager = createCallbackManager({ callbacks: [{ name: 'a', onSuccess: (e) => void log.push(e.id) }] });
    const event = makeEvent();
    manager.track(sleep(20).then(() => manager.report(event)));
    expect(manager.stats().pending).toBe(1);
    expect((await manager.flush()).complete).toBe(true);
    expect(log).toEqual([event.id]);
  });

  it('with no eventDropped listener, a drop after shutdown is warned about once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(noop);
    const manager = createCallbackManager({ callbacks: [{ name: 'a', onSuccess: noop }] });
    await manager.shutdown();
    manager.report(makeEvent());
    manager.report(makeEvent());
    await manager.flush();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/eventDropped.*"a"/);
    expect(manager.stats().callbacks['a']?.dropped).toBe(2);
  });

  it('shutdown({ timeoutMs }) is bounded when a shutdown hook hangs', async () => {
    const manager = createCallbackManager({
      callbacks: [
        { name: 'hangs', onSuccess: noop, shutdown: never },
        { name: 'fine', onSuccess: noop, shutdown: noop },
      ],
    });
    manager.on('callbackError', noop);
    manager.report(makeEvent());
    const started = Date.now();
    const report = await manager.shutdown({ timeoutMs: 100 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(report.complete).toBe(false);
    expect(report.callbacks['hangs']).toMatchObject({ delivered: 1 });
    expect(report.callbacks['fine']).toMatchObject({ delivered: 1 });
  });

  it('shutdown() is bounded when a delivery hangs longer than the shutdown allows', async () => {
    const manager = createCallbackManager({ callbacks: [{ name: 'hangs', onSuccess: never }] });
    manager.on('callbackError', noop);
    manager.report(makeEvent());
    const started = Date.now();
    const report = await manager.shutdown({ timeoutMs: 80 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(report).toMatchObject({ complete: false, pending: 1 });
  });
});

describe('queue overflow', () => {
  async function overflow(policy: 'drop-oldest' | 'drop-newest') {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const delivered: string[] = [];
    const manager = createCallbackManager({
      maxQueueSize: 2,
      concurrency: 1,
      overflow: policy,
      callbacks: [
        {
          name: 'slow',
          async onSuccess(e) {
            await gate;
            delivered.push(e.id);
          },
        },
        { name: 'fast', onSuccess: (e) => void delivered.push(`fast:${e.id}`) },
      ],
    });
    const { dropped } = listen(manager);
    const events = [makeEvent(), makeEvent(), makeEvent(), makeEvent(), makeEvent()];
    for (const e of events) manager.report(e);
    await new Promise<void>((resolve) => setImmediate(resolve));
    // One running, two waiting: the other two were dropped already.
    expect(manager.stats().callbacks['slow']).toMatchObject({ pending: 3, dropped: 2 });
    release();
    const report = await manager.flush();
    return { events, dropped, delivered, report };
  }

  it('drop-oldest drops the oldest waiting event, counts and reports it', async () => {
    const { events, dropped, delivered, report } = await overflow('drop-oldest');
    const ids = events.map((e) => e.id);
    // events[0] was already running; events[1] then events[2] were the oldest waiting.
    expect(dropped).toEqual([
      { callback: 'slow', eventId: ids[1], reason: 'queue-full' },
      { callback: 'slow', eventId: ids[2], reason: 'queue-full' },
    ]);
    expect(delivered.filter((d) => !d.startsWith('fast:'))).toEqual([ids[0], ids[3], ids[4]]);
    expect(delivered.filter((d) => d.startsWith('fast:'))).toHaveLength(5);
    expect(report.callbacks['slow']).toMatchObject({ delivered: 3, dropped: 2, pending: 0 });
    expect(report.callbacks['fast']).toMatchObject({ delivered: 5, dropped: 0 });
    expect(report.complete).toBe(true);
  });

  it('drop-newest drops the arriving event, counts and reports it', async () => {
    const { events, dropped, delivered, report } = await overflow('drop-newest');
    const ids = events.map((e) => e.id);
    expect(dropped).toEqual([
      { callback: 'slow', eventId: ids[3], reason: 'queue-full' },
      { callback: 'slow', eventId: ids[4], reason: 'queue-full' },
    ]);
    expect(delivered.filter((d) => !d.startsWith('fast:'))).toEqual([ids[0], ids[1], ids[2]]);
    expect(report.callbacks['slow']).toMatchObject({ delivered: 3, dropped: 2, pending: 0 });
  });

  it("a callback's own maxQueueSize and overflow win over the manager's", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const hold = async (): Promise<void> => gate;
    const manager = createCallbackManager({
      maxQueueSize: 2,
      concurrency: 1,
      overflow: 'drop-oldest',
      callbacks: [
        { name: 'deep', maxQueueSize: 10, onSuccess: hold },
        { name: 'newest', maxQueueSize: 1, overflow: 'drop-newest', onSuccess: hold },
        { name: 'default', onSuccess: hold },
      ],
    });
    const { dropped } = listen(manager);
    const events = Array.from({ length: 6 }, () => makeEvent());
    for (const e of events) manager.report(e);
    await new Promise<void>((resolve) => setImmediate(resolve));
    const ids = events.map((e) => e.id);
    // 1 running + its queue: deep keeps 5 waiting, newest 1 (the next to arrive), default 2 (the latest).
    expect(dropped.filter((d) => d.callback === 'deep')).toEqual([]);
    expect(dropped.filter((d) => d.callback === 'newest').map((d) => d.eventId)).toEqual(ids.slice(2));
    expect(dropped.filter((d) => d.callback === 'default').map((d) => d.eventId)).toEqual(ids.slice(1, 4));
    release();
    const report = await manager.flush();
    expect(report.callbacks['deep']).toMatchObject({ delivered: 6, dropped: 0 });
    expect(report.callbacks['newest']).toMatchObject({ delivered: 2, dropped: 4 });
    expect(report.callbacks['default']).toMatchObject({ delivered: 3, dropped: 3 });
    expect(() => createCallbackManager({ callbacks: [{ name: 'bad', maxQueueSize: 0, onSuccess: hold }] })).toThrow(/maxQueueSize must be a whole number/);
    expect(() => createCallbackManager({ callbacks: [{ name: 'bad', overflow: 'drop-all' as never, onSuccess: hold }] })).toThrow(
      /overflow must be 'drop-oldest' or 'drop-newest'/,
    );
  });
});

describe('stats()', () => {
  it('counts delivered, failed, timedOut, dropped, disabled and pending exactly', async () => {
    const manager = createCallbackManager({
      timeoutMs: 30,
      callbacks: [
        { name: 'ok', onSuccess: noop, onFailure: noop },
        {
          name: 'flaky',
          onSuccess: noop,
          onFailure() {
            throw new Error('no');
          },
        },
        { name: 'hang', onSuccess: never },
        { name: 'failures-only', onFailure: noop },
      ],
    });
    manager.on('callbackError', noop);
    manager.on('eventDropped', noop);
    expect(manager.stats()).toEqual({
      complete: true,
      pending: 0,
      callsInFlight: 0,
      callbacks: {
        ok: { delivered: 0, failed: 0, timedOut: 0, dropped: 0, pending: 0, disabled: 0, refused: 0, confirmed: 0 },
        flaky: { delivered: 0, failed: 0, timedOut: 0, dropped: 0, pending: 0, disabled: 0, refused: 0, confirmed: 0 },
        hang: { delivered: 0, failed: 0, timedOut: 0, dropped: 0, pending: 0, disabled: 0, refused: 0, confirmed: 0 },
        'failures-only': { delivered: 0, failed: 0, timedOut: 0, dropped: 0, pending: 0, disabled: 0, refused: 0, confirmed: 0 },
      },
      totals: { delivered: 0, failed: 0, timedOut: 0, dropped: 0, pending: 0, disabled: 0, refused: 0, confirmed: 0 },
      audit: { disablingCalls: 0, refusedCalls: 0, ignoredCalls: 0, policyErrors: 0 },
    });
    manager.report(makeEvent()); // ok, flaky, hang
    manager.report(makeEvent({ disabledCallbacks: ['OK', 'hang'] })); // flaky only
    manager.report(makeEvent({ status: 'failure' })); // ok, flaky (fails), failures-only
    manager.report(makeEvent({ status: 'failure', disabledCallbacks: ['flaky', 'failures-only'] })); // ok
    await manager.flush();
    await manager.shutdown();
    manager.report(makeEvent()); // dropped for ok, flaky, hang
    await manager.flush();
    expect(manager.stats()).toEqual({
      complete: true,
      pending: 0,
      callsInFlight: 0,
      callbacks: {
        ok: { delivered: 3, failed: 0, timedOut: 0, dropped: 1, pending: 0, disabled: 1, refused: 0, confirmed: 0 },
        flaky: { delivered: 2, failed: 1, timedOut: 0, dropped: 1, pending: 0, disabled: 1, refused: 0, confirmed: 0 },
        hang: { delivered: 0, failed: 0, timedOut: 1, dropped: 1, pending: 0, disabled: 1, refused: 0, confirmed: 0 },
        'failures-only': { delivered: 1, failed: 0, timedOut: 0, dropped: 0, pending: 0, disabled: 1, refused: 0, confirmed: 0 },
      },
      totals: { delivered: 6, failed: 1, timedOut: 1, dropped: 3, pending: 0, disabled: 4, refused: 0, confirmed: 0 },
      audit: { disablingCalls: 0, refusedCalls: 0, ignoredCalls: 0, policyErrors: 0 },
    });
  });

  it('returns copies: mutating a report does not change the counters', async () => {
    const manager = createCallbackManager({ callbacks: [{ name: 'a', onSuccess: noop }] });
    manager.report(makeEvent());
    const report = await manager.flush();
    report.callbacks['a']!.delivered = 99;
    expect(manager.stats().callbacks['a']?.delivered).toBe(1);
  });
});

describe('no handles left behind', () => {
  const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const immediates = () => process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length;
  /** The test runner keeps a short-lived timer around each test's start: wait it out for a clean baseline. */
  async function quietBaseline(): Promise<number> {
    for (let i = 0; i < 100 && timeouts() > 0; i += 1) await sleep(10);
    return timeouts();
  }

  it('after flush and shutdown with a hung hook that timed out, no timer remains', async () => {
    const baseTimeouts = await quietBaseline();
    const baseImmediates = immediates();
    const manager = createCallbackManager({
      timeoutMs: 40,
      callbacks: [
        { name: 'hung', onSuccess: never, onFailure: never },
        { name: 'fine', onSuccess: noop, onFailure: noop },
      ],
    });
    manager.on('callbackError', noop);
    for (let i = 0; i < 5; i += 1) manager.report(makeEvent({ status: i % 2 ? 'failure' : 'success' }));
    const flushed = await manager.flush({ timeoutMs: 5_000 });
    expect(flushed.complete).toBe(true);
    expect(flushed.callbacks['hung']?.timedOut).toBe(5);
    expect(timeouts()).toBe(baseTimeouts);
    const shut = await manager.shutdown({ timeoutMs: 5_000 });
    expect(shut.complete).toBe(true);
    expect(timeouts()).toBe(baseTimeouts);
    expect(immediates()).toBe(baseImmediates);
  });

  it('after a flush and a shutdown that hit their deadline, no timer remains', async () => {
    const baseTimeouts = await quietBaseline();
    const manager = createCallbackManager({
      callbacks: [{ name: 'stuck', onSuccess: noop, flush: never, shutdown: never }],
    });
    manager.on('callbackError', noop);
    manager.report(makeEvent());
    expect((await manager.flush({ timeoutMs: 60 })).complete).toBe(false);
    expect(timeouts()).toBe(baseTimeouts);
    expect((await manager.shutdown({ timeoutMs: 60 })).complete).toBe(false);
    expect(timeouts()).toBe(baseTimeouts);
  });
});
