// "Don't log" flags of other tools are not a disable route: LiteLLM's `no-log` in the body, a
// `disable_callbacks` list in metadata. The call is logged by every callback, the flag is reported
// on the event and through disableIgnored, and the body reaches the provider unchanged (it is the
// caller's request, not ours), while our own options never do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withCallbackContext, type DisableIgnoredInfo } from '../src/index.js';
import { only, startFixture, type Fixture } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await startFixture();
});
afterAll(async () => {
  await f.server.close();
});

describe('"don\'t log" flags', () => {
  it('never disable, are reported, and the body goes out unchanged', async () => {
    f.a.events.length = 0;
    f.b.events.length = 0;
    f.server.reset();
    const ignored: DisableIgnoredInfo[] = [];
    f.manager.on('disableIgnored', (i) => ignored.push(i));
    await withCallbackContext({ metadata: { disabled_callbacks: 'alpha' } }, () =>
      f.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], 'no-log': true } as never, {
        metadata: { disable_callbacks: ['alpha', 'beta'] },
      }),
    );
    await f.manager.flush();
    const event = only(f.a);
    expect(only(f.b).id).toBe(event.id);
    expect(event.disabledCallbacks).toEqual([]);
    expect(event.ignoredDisables).toEqual([
      { name: 'disabled_callbacks="alpha"', source: 'metadata', reason: 'not-a-disable-source' },
      { name: 'disable_callbacks=(array)', source: 'metadata', reason: 'not-a-disable-source' },
      { name: 'no-log=true', source: 'body', reason: 'not-a-disable-source' },
    ]);
    expect(ignored.map((i) => i.callId)).toEqual([event.id]);
    const sent = f.server.requests[0]?.body as Record<string, unknown>;
    expect(sent['no-log']).toBe(true);
    expect(sent).not.toHaveProperty('disable_callbacks');
    expect(JSON.stringify(f.server.requests[0]?.headers)).not.toContain('disable_callbacks');
  });
});
