// CallbackReporter: how a callback that delivers in the background (batching sinks) reports
// failures and give-ups found outside its hook calls, so they reach callbackError, eventDropped
// and stats() like any other problem.
import { describe, expect, it } from 'vitest';
import { createCallbackManager, defineCallback, type CallbackErrorInfo, type CallbackReporter, type EventDroppedInfo } from '../src/index.js';

describe('CallbackReporter', () => {
  it('is handed to onRegister once, and its reports become manager events and counts', () => {
    let reporter: CallbackReporter | undefined;
    let calls = 0;
    const manager = createCallbackManager({
      callbacks: [
        defineCallback({
          name: 'batcher',
          onSuccess: () => {},
          onRegister(r) {
            calls += 1;
            reporter = r;
          },
        }),
      ],
    });
    const errors: CallbackErrorInfo[] = [];
    const drops: EventDroppedInfo[] = [];
    manager.on('callbackError', (e) => errors.push(e));
    manager.on('eventDropped', (d) => drops.push(d));
    expect(calls).toBe(1);
    reporter?.error(new Error('upload failed: 503'), { eventIds: ['e1'] });
    reporter?.error('a string reason');
    reporter?.dropped(['e1', 'e2'], 'gave-up');
    expect(errors.map((e) => [e.callback, e.hook, e.eventId, e.error.message])).toEqual([
      ['batcher', 'delivery', 'e1', 'upload failed: 503'],
      ['batcher', 'delivery', undefined, expect.stringContaining('a string reason')],
    ]);
    expect(drops).toEqual([
      { callback: 'batcher', eventId: 'e1', reason: 'gave-up' },
      { callback: 'batcher', eventId: 'e2', reason: 'gave-up' },
    ]);
    expect(manager.stats().callbacks['batcher']?.dropped).toBe(2);
  });

  it('an onRegister that throws is reported, and the callback stays registered', () => {
    const manager = createCallbackManager();
    const errors: CallbackErrorInfo[] = [];
    manager.on('callbackError', (e) => errors.push(e));
    manager.register(
      defineCallback({
        name: 'fragile',
        onSuccess: () => {},
        onRegister() {
          throw new Error('cannot start');
        },
      }),
    );
    expect(errors.map((e) => [e.callback, e.hook, e.error.message])).toEqual([['fragile', 'onRegister', 'cannot start']]);
    expect(manager.list().success).toEqual(['fragile']);
  });

  it('rejects an onRegister that is not a function', () => {
    expect(() => defineCallback({ name: 'x', onSuccess: () => {}, onRegister: 5 as never })).toThrow(/onRegister must be a function/);
  });
});
