// The registry: which callbacks a manager holds, how they are listed, and what is refused.
import { describe, expect, it } from 'vitest';
import {
  CallEventSchema,
  LlmCallbacksError,
  createCallbackManager,
  defineCallback,
  consoleCallback,
  durableCallback,
  jsonlCallback,
  withCallbackContext,
  type CallEvent,
  type Callback,
  type CallbackManagerOptions,
} from '../src/index.js';

let seq = 0;
function makeEvent(overrides: Partial<CallEvent> = {}): CallEvent {
  seq += 1;
  const event: CallEvent = {
    id: `evt-${seq}`,
    status: 'success',
    callType: 'chat.completions',
    model: 'gpt-test',
    provider: 'openai',
    stream: false,
    startTime: 1_700_000_000_000,
    endTime: 1_700_000_000_120,
    latencyMs: 120,
    request: { model: 'gpt-test', messages: [] },
    metadata: {},
    disabledCallbacks: [],
    ignoredDisables: [],
    ...overrides,
  };
  return CallEventSchema.parse(event);
}

const noop = (): void => {};

/** Runs `fn`, expecting an LlmCallbacksError; returns it for further checks. */
function catchError(fn: () => unknown): LlmCallbacksError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(LlmCallbacksError);
    return error as LlmCallbacksError;
  }
  throw new Error('expected an LlmCallbacksError, nothing was thrown');
}

describe('list()', () => {
  it('groups callbacks by the hooks they implement, in registration order', () => {
    const manager = createCallbackManager({
      callbacks: [
        { name: 'both-1', onSuccess: noop, onFailure: noop },
        { name: 'ok-1', onSuccess: noop },
        { name: 'fail-1', onFailure: noop },
        { name: 'both-2', onSuccess: noop, onFailure: noop },
        { name: 'ok-2', onSuccess: noop },
        { name: 'fail-2', onFailure: noop },
      ],
    });
    expect(manager.list()).toStrictEqual({
      success: ['ok-1', 'ok-2'],
      failure: ['fail-1', 'fail-2'],
      success_and_failure: ['both-1', 'both-2'],
    });
    // Exactly the three keys of LiteLLM's GET /callbacks/list, serialisable as-is.
    expect(Object.keys(manager.list()).sort()).toEqual(['failure', 'success', 'success_and_failure']);
    expect(JSON.parse(JSON.stringify(manager.list()))).toEqual(manager.list());
  });

  it('is empty for a manager without callbacks', () => {
    expect(createCallbackManager().list()).toStrictEqual({ success: [], failure: [], success_and_failure: [] });
  });

  it('keeps the names as registered (case preserved)', () => {
    const manager = createCallbackManager({ callbacks: [{ name: 'LangFuse', onSuccess: noop }] });
    expect(manager.list().success).toEqual(['LangFuse']);
  });

  it('returns a fresh object each time (callers cannot corrupt the registry)', () => {
    const manager = createCallbackManager({ callbacks: [{ name: 'a', onSuccess: noop }] });
    manager.list().success.push('b');
    expect(manager.list().success).toEqual(['a']);
  });

  it('callbacks() returns the registered objects in order', () => {
    const a: Callback = { name: 'a', onSuccess: noop };
    const b: Callback = { name: 'b', onFailure: noop };
    const manager = createCallbackManager({ callbacks: [a, b] });
    expect(manager.callbacks()).toEqual([a, b]);
    expect(manager.callbacks()[0]).toBe(a);
  });
});

describe('duplicate names', () => {
  it('rejects a duplicate name case-insensitively, naming both', () => {
    const error = catchError(() =>
      createCallbackManager({
        callbacks: [
          { name: 'Langfuse', onSuccess: noop },
          { name: 'LANGFUSE', onFailure: noop },
        ],
      }),
    );
    expect(error.code).toBe('DUPLICATE_CALLBACK');
    expect(error.message).toContain('"Langfuse"');
    expect(error.message).toContain('"LANGFUSE"');
    expect(error.message).toMatch(/case-insensitive/);
  });

  it('rejects a duplicate passed to register() and leaves the registry unchanged', () => {
    const manager = createCallbackManager({ callbacks: [{ name: 'audit', onSuccess: noop }] });
    const error = catchError(() => manager.register({ name: 'Audit', onSuccess: noop, onFailure: noop }));
    expect(error.code).toBe('DUPLICATE_CALLBACK');
    expect(manager.list()).toStrictEqual({ success: ['audit'], failure: [], success_and_failure: [] });
  });

  it('accepts names that differ only by more than case', () => {
    const manager = createCallbackManager({
      callbacks: [
        { name: 'a', onSuccess: noop },
        { name: 'a2', onSuccess: noop },
      ],
    });
    expect(manager.list().success).toEqual(['a', 'a2']);
  });
});

describe('invalid callbacks', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['no hook at all', { name: 'nohook' }, /neither onSuccess nor onFailure.*implement at least one/],
    ['a misspelt lock', { name: 'audit', onSuccess: noop, requred: true }, /Callback "audit": unknown field "requred"; did you mean "required"\?/],
    ['a misspelt hook', { name: 'audit', onSucess: noop, onFailure: noop }, /unknown field "onSucess"; did you mean "onSuccess"\?/],
    ['a lock with a letter too many', { name: 'audit', onSuccess: noop, requiredd: true }, /unknown field "requiredd"; did you mean "required"\?/],
    ['a stand-in for the lock', { name: 'audit', onSuccess: noop, isRequired: true }, /unknown field "isRequired"; did you mean "required"\?/],
    ['a stand-in for redaction', { name: 'audit', onSuccess: noop, redact: true }, /unknown field "redact"; did you mean "redactMessages"\?/],
    ['only flush/shutdown', { name: 'lifecycle-only', flush: noop, shutdown: noop }, /implement at least one hook/],
    ['an empty name', { name: '', onSuccess: noop }, /name "" is not valid: use 1-64 letters/],
    ['a name with a comma', { name: 'a,b', onSuccess: noop }, /"a,b" is not valid.*may not contain commas/],
    ['a name with spaces', { name: 'lang fuse', onSuccess: noop }, /is not valid: use/],
    ['a numeric name', { name: 42, onSuccess: noop }, /name 42 is not valid: use/],
    ['a missing name', { onSuccess: noop }, /name undefined is not valid: use/],
    ['a non-function onSuccess', { name: 'x', onSuccess: 'yes' }, /"x": onSuccess must be a function, got string/],
    ['a non-function onFailure', { name: 'x', onSuccess: noop, onFailure: true }, /onFailure must be a function, got boolean/],
    ['a non-function flush', { name: 'x', onSuccess: noop, flush: {} }, /flush must be a function, got object/],
    ['a non-function shutdown', { name: 'x', onSuccess: noop, shutdown: 1 }, /shutdown must be a function, got number/],
    ['a non-boolean required', { name: 'x', onSuccess: noop, required: 'true' }, /"x": required must be a boolean, got string/],
    ['a zero timeoutMs', { name: 'x', onSuccess: noop, timeoutMs: 0 }, /timeoutMs must be a positive number/],
    ['a string timeoutMs', { name: 'x', onSuccess: noop, timeoutMs: '50' }, /timeoutMs must be a positive number/],
    ['null', null, /must be an object like \{ name, onSuccess, onFailure \}, got null/],
    ['a function name only', 'langfuse', /must be an object like .* got string/],
  ];

  for (const [label, value, message] of bad) {
    it(`rejects ${label} with INVALID_CALLBACK and a message that says what to do`, () => {
      const viaManager = catchError(() => createCallbackManager({ callbacks: [value as Callback] }));
      expect(viaManager.code).toBe('INVALID_CALLBACK');
      expect(viaManager.message).toMatch(message);
      const viaDefine = catchError(() => defineCallback(value as Callback));
      expect(viaDefine.code).toBe('INVALID_CALLBACK');
      const viaRegister = catchError(() => createCallbackManager().register(value as Callback));
      expect(viaRegister.code).toBe('INVALID_CALLBACK');
    });
  }

  it('registers nothing when one callback of the list is invalid after a good one is already in', () => {
    const manager = createCallbackManager({ callbacks: [{ name: 'good', onSuccess: noop }] });
    catchError(() => manager.register({ name: 'bad' } as Callback));
    expect(manager.list().success).toEqual(['good']);
    expect(manager.callbacks()).toHaveLength(1);
  });

  it('defineCallback returns the very object it was given', () => {
    const cb = { name: 'mine', onSuccess: noop, required: true, timeoutMs: 5 };
    expect(defineCallback(cb)).toBe(cb);
  });
});

describe('register / unregister', () => {
  it('register() adds at the end and is chainable', () => {
    const manager = createCallbackManager({ callbacks: [{ name: 'a', onSuccess: noop }] });
    expect(manager.register({ name: 'b', onSuccess: noop })).toBe(manager);
    manager.register({ name: 'c', onSuccess: noop, onFailure: noop });
    expect(manager.list()).toStrictEqual({ success: ['a', 'b'], failure: [], success_and_failure: ['c'] });
  });

  it('unregister() is case-insensitive and returns whether something was removed', () => {
    const manager = createCallbackManager({
      callbacks: [
        { name: 'Audit', onSuccess: noop },
        { name: 'other', onSuccess: noop },
      ],
    });
    expect(manager.unregister('AUDIT')).toBe(true);
    expect(manager.list().success).toEqual(['other']);
    expect(manager.unregister('audit')).toBe(false);
    expect(manager.unregister('never-registered')).toBe(false);
    // The name is free again.
    manager.register({ name: 'audit', onFailure: noop });
    expect(manager.list()).toStrictEqual({ success: ['other'], failure: ['audit'], success_and_failure: [] });
  });

  it('an unregistered callback can no longer be disabled by name (it is unknown)', () => {
    const manager = createCallbackManager({
      callbacks: [
        { name: 'a', onSuccess: noop },
        { name: 'b', onSuccess: noop },
      ],
    });
    manager.unregister('a');
    const decision = manager.decide({ option: 'a,b' }, 'call-1');
    expect(decision.disabled).toEqual(['b']);
    expect(decision.ignored).toEqual([{ name: 'a', source: 'option', reason: 'unknown-callback' }]);
  });

  it('an unregistered callback still receives the events already queued for it, and flush waits for them', async () => {
    const received: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const manager = createCallbackManager({
      concurrency: 1,
      callbacks: [
        {
          name: 'Slow',
          async onSuccess(event) {
            await gate;
            received.push(event.id);
          },
        },
      ],
    });
    const events = [makeEvent(), makeEvent(), makeEvent()];
    for (const e of events) manager.report(e);
    // Let the dispatcher hand the events to the queue (one is running, two are waiting).
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(manager.stats().pending).toBe(3);
    expect(manager.unregister('slow')).toBe(true);
    expect(manager.list().success).toEqual([]);
    // Retired work still counts as pending until delivered.
    expect(manager.stats().pending).toBe(3);
    release();
    const report = await manager.flush({ timeoutMs: 5_000 });
    expect(received).toEqual(events.map((e) => e.id));
    expect(report.complete).toBe(true);
    expect(report.pending).toBe(0);
    // Later events do not reach it.
    manager.report(makeEvent());
    await manager.flush();
    expect(received).toHaveLength(3);
  });

  it('an event reported before unregister() (not yet dispatched) still reaches that callback', async () => {
    const received: string[] = [];
    const manager = createCallbackManager({ callbacks: [{ name: 'a', onSuccess: (e) => void received.push(e.id) }] });
    const event = makeEvent();
    manager.report(event);
    manager.unregister('a');
    const report = await manager.flush({ timeoutMs: 5_000 });
    expect(received).toEqual([event.id]);
    expect(report.complete).toBe(true);
  });

  it('a callback registered after an event was reported does not receive it', async () => {
    const received: string[] = [];
    const manager = createCallbackManager();
    manager.report(makeEvent());
    manager.register({ name: 'late', onSuccess: (e) => void received.push(e.id) });
    await manager.flush();
    expect(received).toEqual([]);
    const next = makeEvent();
    manager.report(next);
    await manager.flush();
    expect(received).toEqual([next.id]);
  });
});

describe('manager options', () => {
  const invalid: Array<[string, unknown, RegExp]> = [
    [
      "allowDynamicCallbackDisabling: 'false' (a string)",
      { allowDynamicCallbackDisabling: 'false' },
      /allowDynamicCallbackDisabling must be true or false, got "false"/,
    ],
    ['allowDynamicCallbackDisabling: 0', { allowDynamicCallbackDisabling: 0 }, /allowDynamicCallbackDisabling must be true or false/],
    ['allowDynamicCallbackDisabling: null', { allowDynamicCallbackDisabling: null }, /allowDynamicCallbackDisabling must be true or false, got null/],
    ['a header name with a space', { disableHeaders: 'x disable' }, /disableHeaders: "x disable" is not a valid HTTP header name/],
    ['a header name with a colon', { disableHeaders: ['x-ok', 'x-bad:'] }, /"x-bad:" is not a valid HTTP header name/],
    ['an empty header name', { disableHeaders: '' }, /disableHeaders: "" is not a valid HTTP header name/],
    ['a non-string header name', { disableHeaders: [42] }, /disableHeaders: 42 is not a valid HTTP header name/],
    ['a non-iterable disableHeaders', { disableHeaders: 42 }, /disableHeaders/],
    ['an object disableHeaders', { disableHeaders: { name: 'x' } }, /disableHeaders/],
    ['timeoutMs: 0', { timeoutMs: 0 }, /timeoutMs must be a positive finite number, got 0/],
    ['timeoutMs: -5', { timeoutMs: -5 }, /timeoutMs must be a positive finite number, got -5/],
    ['timeoutMs: NaN', { timeoutMs: Number.NaN }, /timeoutMs must be a positive finite number/],
    ['timeoutMs: Infinity', { timeoutMs: Number.POSITIVE_INFINITY }, /timeoutMs must be a positive finite number/],
    ["timeoutMs: '100'", { timeoutMs: '100' }, /timeoutMs must be a positive finite number, got "100"/],
    ['maxQueueSize: 0', { maxQueueSize: 0 }, /maxQueueSize must be a positive/],
    ['concurrency: -1', { concurrency: -1 }, /concurrency must be a positive/],
    ['maxDisableValueLength: 0', { maxDisableValueLength: 0 }, /maxDisableValueLength must be a positive/],
    ["overflow: 'drop-all'", { overflow: 'drop-all' }, /overflow must be 'drop-oldest' or 'drop-newest', got "drop-all"/],
  ];

  for (const [label, options, message] of invalid) {
    it(`rejects ${label} with INVALID_OPTIONS`, () => {
      const error = catchError(() => createCallbackManager(options as CallbackManagerOptions));
      expect(error.code).toBe('INVALID_OPTIONS');
      expect(error.message).toMatch(message);
    });
  }

  it('accepts valid options and exposes the lower-cased header names', () => {
    const manager = createCallbackManager({
      allowDynamicCallbackDisabling: false,
      disableHeaders: ['X-No-Log', 'x-litellm-disable-callbacks'],
      timeoutMs: 1,
      maxQueueSize: 1,
      concurrency: 1,
      overflow: 'drop-newest',
      maxDisableValueLength: 10,
    });
    expect(manager.allowDynamicCallbackDisabling).toBe(false);
    expect(manager.disableHeaders).toEqual(['x-no-log', 'x-litellm-disable-callbacks']);
  });

  it('defaults: disabling allowed, the LiteLLM header', () => {
    const manager = createCallbackManager();
    expect(manager.allowDynamicCallbackDisabling).toBe(true);
    expect(manager.disableHeaders).toEqual(['x-litellm-disable-callbacks']);
  });

  it('a single header name may be given as a string', () => {
    expect(createCallbackManager({ disableHeaders: 'X-Skip' }).disableHeaders).toEqual(['x-skip']);
  });
});

describe('manager options are checked as a whole', () => {
  it('null, an array, a misspelt option and a lone callback are refused with a message saying what to do', () => {
    expect(() => createCallbackManager(null as never)).toThrow(/options must be an object/);
    expect(() => createCallbackManager([] as never)).toThrow(/options must be an object/);
    expect(() => createCallbackManager({ tymeoutMs: 5 } as never)).toThrow(
      /unknown option "tymeoutMs" \(did you mean "timeoutMs"\?\); the options are callbacks, /,
    );
    // Fields of its own that are not near a known name are fine on a callback object.
    for (const field of [
      'stats',
      'flushed',
      'names',
      'client',
      'rate',
      'node',
      'time',
      'timeouts',
      'timeoutId',
      'unregister',
      '_name',
      '_flush',
      'requiredBy',
    ]) {
      expect(() => defineCallback({ name: 'extra', onSuccess: noop, [field]: 1 } as never), field).not.toThrow();
    }
    // Every other options object of core refuses a misspelling too.
    expect(() => createCallbackManager({ handleSignals: { timeOutMs: 1 } } as never)).toThrow(
      /handleSignals: unknown option "timeOutMs" \(did you mean "timeoutMs"\?\)/,
    );
    expect(() => jsonlCallback({ path: '/tmp/x.jsonl', nmae: 'x' } as never)).toThrow(
      /jsonlCallback\(options\): unknown option "nmae" \(did you mean "name"\?\)/,
    );
    expect(() => consoleCallback({ writer: noop } as never)).toThrow(/consoleCallback\(options\): unknown option "writer" \(did you mean "write"\?\)/);
    expect(() => withCallbackContext({ disableCallback: 'a' } as never, noop)).toThrow(
      /unknown option "disableCallback" \(did you mean "disableCallbacks"\?\)/,
    );
    expect(() => durableCallback(defineCallback({ name: 'd', onSuccess: noop }), { directory: '/tmp/spool-x', retry: { baseDelay: 5 } } as never)).toThrow(
      /options\.retry: unknown option "baseDelay" \(did you mean "baseDelayMs"\?\)/,
    );
    expect(() => durableCallback(defineCallback({ name: 'd', onSuccess: noop }), { directory: '/tmp/spool-x', maxbytes: 5 } as never)).toThrow(
      /unknown option "maxbytes" \(did you mean "maxBytes"\?\)/,
    );
    const lone = defineCallback({ name: 'lone', onSuccess: () => {} });
    expect(() => createCallbackManager({ callbacks: lone as never })).toThrow(/wrap a single one as \[callback\]/);
  });
});
