// Audit of disabling: per-callback `disabled` / `refused` / `confirmed` counters, totals, the
// per-call audit counters in stats(), and the dispatcher's own check that a locked callback is never
// skipped, even for an event built outside the wrapper.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import {
  CallEventSchema,
  createCallbackManager,
  defineCallback,
  wrapOpenAI,
  type CallEvent,
  type CallbackReporter,
  type DisableIgnoredInfo,
} from '../src/index.js';

const noop = (): void => {};

function event(overrides: Partial<CallEvent> = {}): CallEvent {
  return CallEventSchema.parse({
    id: `evt-${Math.random().toString(36).slice(2)}`,
    status: 'success',
    callType: 'chat.completions',
    model: 'gpt-test',
    provider: 'openai',
    stream: false,
    startTime: 1,
    endTime: 2,
    latencyMs: 1,
    request: { model: 'gpt-test' },
    metadata: {},
    disabledCallbacks: [],
    ignoredDisables: [],
    ...overrides,
  });
}

/** A client whose provider is an in-process fetch: fast, and no network. */
function client(manager: ReturnType<typeof createCallbackManager>) {
  const fetch = async (): Promise<Response> =>
    new Response(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [] }), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  return wrapOpenAI(new OpenAI({ apiKey: 'sk-audit-0123456789', baseURL: 'http://provider.invalid/v1', fetch, maxRetries: 0 }), manager);
}
const body = { model: 'm', messages: [{ role: 'user' as const, content: 'x' }] };

describe('stats(): audit counters', () => {
  it('counts disabled and refused per callback (once per call, whatever the number of sources), with totals', async () => {
    const manager = createCallbackManager({
      callbacks: [
        { name: 'open', onSuccess: noop },
        { name: 'audit', onSuccess: noop, required: true },
        { name: 'other', onSuccess: noop },
      ],
    });
    const refused: DisableIgnoredInfo[] = [];
    manager.on('disableRefused', (i) => refused.push(i));
    const c = client(manager);
    // audit asked for by option and header: one refusal for the call, two entries in the event.
    await c.chat.completions.create(body, { disableCallbacks: 'open,audit', headers: { 'x-litellm-disable-callbacks': 'AUDIT' } });
    await c.chat.completions.create(body, { disableCallbacks: 'open' });
    await c.chat.completions.create(body, { disableCallbacks: 'nobody' });
    await c.chat.completions.create(body);
    const report = await manager.flush();
    expect(refused).toHaveLength(1);
    expect(refused[0]?.ignored.map((i) => [i.name, i.source, i.reason])).toEqual([
      ['audit', 'option', 'required'],
      ['audit', 'header', 'required'],
    ]);
    expect(report.callbacks['open']).toMatchObject({ delivered: 2, disabled: 2, refused: 0 });
    expect(report.callbacks['audit']).toMatchObject({ delivered: 4, disabled: 0, refused: 1 });
    expect(report.callbacks['other']).toMatchObject({ delivered: 4, disabled: 0, refused: 0 });
    expect(report.totals).toMatchObject({ delivered: 10, disabled: 2, refused: 1 });
    expect(report.audit).toEqual({ disablingCalls: 2, refusedCalls: 1, ignoredCalls: 1, policyErrors: 0 });
  });

  it('a manager-wide lock counts a refusal for every callback a call tried to switch off', async () => {
    const manager = createCallbackManager({
      allowDynamicCallbackDisabling: false,
      callbacks: [
        { name: 'a', onSuccess: noop },
        { name: 'b', onSuccess: noop },
      ],
    });
    manager.on('disableRefused', noop);
    await client(manager).chat.completions.create(body, { disableCallbacks: ['a', 'B'] });
    const report = await manager.flush();
    expect(report.callbacks['a']).toMatchObject({ delivered: 1, disabled: 0, refused: 1 });
    expect(report.callbacks['b']).toMatchObject({ delivered: 1, disabled: 0, refused: 1 });
    expect(report.audit).toMatchObject({ disablingCalls: 0, refusedCalls: 1 });
  });

  it('a policy failure is counted as a policy error and disables nothing', async () => {
    const manager = createCallbackManager({ callbacks: [{ name: 'a', onSuccess: noop }] });
    manager.on('internalError', noop);
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('boom');
        },
      },
    );
    const decision = manager.decide({ option: 'a', headers: hostile }, 'call-1');
    expect(decision.disabled).toEqual([]);
    expect(manager.stats().audit.policyErrors).toBe(1);
  });

  it('bookkeeping that throws around the decision still fails closed: decide() never throws', () => {
    const manager = createCallbackManager({ callbacks: [{ name: 'a', onSuccess: noop }] });
    // A listener that throws is isolated; a broken emitter (monkey-patched emit) is the worst case.
    (manager as unknown as { emitSafe: () => void }).emitSafe = () => {
      throw new Error('emitter broken');
    };
    const decision = manager.decide({ option: 'a' }, 'call-2');
    expect(decision.disabled).toEqual([]);
    expect(decision.internalError?.message).toBe('emitter broken');
  });
});

describe('the dispatcher re-checks locks', () => {
  it('an event reported directly with a required callback in disabledCallbacks still reaches it (counted as refused)', async () => {
    const got: string[] = [];
    const manager = createCallbackManager({
      callbacks: [
        { name: 'req', onSuccess: (e) => void got.push(`req:${e.id}`), required: true },
        { name: 'free', onSuccess: (e) => void got.push(`free:${e.id}`) },
      ],
    });
    const e = event({ disabledCallbacks: ['REQ', 'free'] });
    manager.report(e);
    const report = await manager.flush();
    expect(got).toEqual([`req:${e.id}`]);
    expect(report.callbacks['req']).toMatchObject({ delivered: 1, disabled: 0, refused: 1 });
    expect(report.callbacks['free']).toMatchObject({ delivered: 0, disabled: 1, refused: 0 });
  });

  it('under a manager-wide lock, no event can skip any callback', async () => {
    const got: string[] = [];
    const manager = createCallbackManager({
      allowDynamicCallbackDisabling: false,
      callbacks: [{ name: 'a', onSuccess: (e) => void got.push(e.id) }],
    });
    manager.report(event({ id: 'locked-1', disabledCallbacks: ['a'] }));
    await manager.flush();
    expect(got).toEqual(['locked-1']);
  });
});

describe('CallbackReporter.delivered', () => {
  it('counts what the sink confirmed as `confirmed`, apart from hook completions', async () => {
    let reporter: CallbackReporter | undefined;
    const manager = createCallbackManager({
      callbacks: [defineCallback({ name: 'batcher', onSuccess: noop, onRegister: (r) => void (reporter = r) })],
    });
    manager.report(event());
    manager.report(event());
    await manager.flush();
    expect(manager.stats().callbacks['batcher']).toMatchObject({ delivered: 2, confirmed: 0 });
    reporter?.delivered?.(['x', 'y']);
    reporter?.delivered?.(['z']);
    expect(manager.stats().callbacks['batcher']).toMatchObject({ delivered: 2, confirmed: 3 });
    expect(manager.stats().totals.confirmed).toBe(3);
  });
});
