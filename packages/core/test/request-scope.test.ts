// The request scope: carried by AsyncLocalStorage across awaits, timers and generators, isolated
// between concurrent requests, accumulated when nested.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DISABLE_HEADER, createCallbackManager, withCallbackContext, type CallbackScope } from '../src/index.js';
import { currentScopes } from '../src/request-scope.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const names = (): string[] => currentScopes().map((s) => String(s.disableCallbacks));

describe('withCallbackContext', () => {
  it('outside any scope, currentScopes() is empty', () => {
    expect(currentScopes()).toEqual([]);
  });

  it('returns what fn returns (sync and async) and applies the scope inside', async () => {
    const scope: CallbackScope = { disableCallbacks: 'langfuse' };
    expect(withCallbackContext(scope, () => currentScopes())).toEqual([scope]);
    expect(withCallbackContext(scope, () => 42)).toBe(42);
    const result = await withCallbackContext(scope, async () => {
      await tick();
      return currentScopes()[0];
    });
    expect(result).toBe(scope);
    expect(currentScopes()).toEqual([]);
  });

  it('propagates a throw and leaves no scope behind', () => {
    expect(() =>
      withCallbackContext({ disableCallbacks: 'x' }, () => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(currentScopes()).toEqual([]);
  });

  it('is visible after awaits, in setTimeout, setImmediate, nextTick, microtasks and emitter listeners', async () => {
    const scope: CallbackScope = { disableCallbacks: 'a' };
    const seen: Record<string, readonly CallbackScope[]> = {};
    const emitter = new EventEmitter();
    await withCallbackContext(scope, async () => {
      await Promise.resolve();
      seen['await'] = currentScopes();
      await sleep(5);
      seen['after-sleep'] = currentScopes();
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          seen['setTimeout'] = currentScopes();
          resolve();
        }, 1),
      );
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          seen['setImmediate'] = currentScopes();
          resolve();
        }),
      );
      await new Promise<void>((resolve) =>
        process.nextTick(() => {
          seen['nextTick'] = currentScopes();
          resolve();
        }),
      );
      await new Promise<void>((resolve) =>
        queueMicrotask(() => {
          seen['queueMicrotask'] = currentScopes();
          resolve();
        }),
      );
      emitter.on('go', () => (seen['emitter'] = currentScopes()));
      setTimeout(() => emitter.emit('go'), 1);
      await sleep(10);
    });
    expect(Object.keys(seen).sort()).toEqual(['after-sleep', 'await', 'emitter', 'nextTick', 'queueMicrotask', 'setImmediate', 'setTimeout'].sort());
    for (const value of Object.values(seen)) expect(value).toEqual([scope]);
  });

  it('a timer scheduled inside a scope sees it even when it fires after fn returned', async () => {
    let seenLater: readonly CallbackScope[] | undefined;
    const fired = new Promise<void>((resolve) => {
      withCallbackContext({ disableCallbacks: 'later' }, () => {
        setTimeout(() => {
          seenLater = currentScopes();
          resolve();
        }, 20);
      });
    });
    expect(currentScopes()).toEqual([]);
    await fired;
    expect(seenLater).toEqual([{ disableCallbacks: 'later' }]);
  });

  it('is visible inside an async generator consumed later in the scope', async () => {
    const scope: CallbackScope = { disableCallbacks: 'gen' };
    async function* produce(): AsyncGenerator<readonly CallbackScope[]> {
      yield currentScopes();
      await sleep(5);
      yield currentScopes();
      await tick();
      yield currentScopes();
    }
    const collected = await withCallbackContext(scope, async () => {
      const gen = produce();
      await sleep(10); // consumed later, after the generator was created
      const out: Array<readonly CallbackScope[]> = [];
      for await (const item of gen) {
        out.push(item);
        await tick();
      }
      return out;
    });
    expect(collected).toEqual([[scope], [scope], [scope]]);
  });

  it('two concurrent scopes, interleaved with timers, never see each other', async () => {
    const log: string[] = [];
    const run = (name: string, delays: number[]) =>
      withCallbackContext({ disableCallbacks: name }, async () => {
        for (const ms of delays) {
          await sleep(ms);
          log.push(`${name}:${names().join('|')}`);
          await tick();
          log.push(`${name}:${names().join('|')}`);
          await new Promise<void>((resolve) => setTimeout(resolve, ms % 3));
          log.push(`${name}:${names().join('|')}`);
        }
      });
    await Promise.all([run('A', [5, 1, 7, 2, 4]), run('B', [1, 6, 2, 5, 3]), run('C', [3, 3, 3, 3, 3])]);
    expect(log).toHaveLength(45);
    for (const entry of log) {
      const [who, seen] = entry.split(':');
      expect(seen).toBe(who);
    }
    // The runs really were interleaved.
    expect(log.slice(0, 15).map((e) => e[0])).not.toEqual(Array(15).fill(log[0]![0]));
    expect(currentScopes()).toEqual([]);
  });

  it('nested scopes accumulate, innermost last, and unwind on exit', async () => {
    const outer: CallbackScope = { disableCallbacks: 'outer', metadata: { team: 'a' } };
    const inner: CallbackScope = { headers: { [DEFAULT_DISABLE_HEADER]: 'inner' }, metadata: { team: 'b' } };
    const innermost: CallbackScope = { disableCallbacks: ['deep'] };
    await withCallbackContext(outer, async () => {
      expect(currentScopes()).toEqual([outer]);
      await withCallbackContext(inner, async () => {
        await sleep(1);
        expect(currentScopes()).toEqual([outer, inner]);
        withCallbackContext(innermost, () => {
          expect(currentScopes()).toEqual([outer, inner, innermost]);
        });
        expect(currentScopes()).toEqual([outer, inner]);
      });
      await tick();
      expect(currentScopes()).toEqual([outer]);
    });
    expect(currentScopes()).toEqual([]);
  });

  it('sibling nested scopes do not leak into each other', async () => {
    const seen: string[][] = [];
    await withCallbackContext({ disableCallbacks: 'root' }, async () => {
      await Promise.all(
        ['x', 'y'].map((n) =>
          withCallbackContext({ disableCallbacks: n }, async () => {
            await sleep(n === 'x' ? 5 : 1);
            seen.push(names());
          }),
        ),
      );
    });
    expect(seen).toEqual([
      ['root', 'y'],
      ['root', 'x'],
    ]);
  });

  it('the scope chain feeds the manager decision (option, headers and nested scopes united)', () => {
    const manager = createCallbackManager({
      callbacks: ['langfuse', 'datadog', 's3', 'audit'].map((name) => ({ name, onSuccess: () => {} })),
    });
    const decision = withCallbackContext({ headers: { 'X-LiteLLM-Disable-Callbacks': 'Langfuse' } }, () =>
      withCallbackContext({ disableCallbacks: ['s3'] }, () => manager.decide({ option: 'audit', scopes: currentScopes() }, 'call-1')),
    );
    expect(decision.disabled).toEqual(['langfuse', 's3', 'audit']);
    expect(decision.sources).toEqual({ langfuse: ['scope'], s3: ['scope'], audit: ['option'] });
    // Outside the scope, the same call disables only what it asks for itself.
    expect(manager.decide({ option: 'audit', scopes: currentScopes() }, 'call-2').disabled).toEqual(['audit']);
  });
});
