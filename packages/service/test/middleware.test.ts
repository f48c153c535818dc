// Each middleware in a real server on 127.0.0.1 with the real framework: the incoming disable header
// reaches both LLM calls of its request (one from a timer, one streamed), a concurrent request
// without it is logged normally, a locked manager ignores it, and the metadata hook's errors take
// the framework's error path.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { barrier, eventsOf, http, startFixture, type Fixture } from './helpers.js';
import { FRAMEWORKS, startService, type Service } from './servers.js';

const HEADER = 'x-litellm-disable-callbacks';

function chat(service: Service, requestId: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  return http(`${service.url}/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...headers },
    body: JSON.stringify({ question: `from ${requestId}` }),
  }).then((answer) => ({ status: answer.status, body: answer.status === 200 ? answer.json() : answer.text }));
}

describe.each(FRAMEWORKS)('%s middleware', (framework) => {
  let fixture: Fixture;
  let service: Service;
  let wait: () => Promise<void>;

  async function start(options: Parameters<typeof startFixture>[0] = {}): Promise<void> {
    fixture = await startFixture(options);
    service = await startService(framework, fixture, { wait: () => wait() });
  }

  beforeEach(() => {
    wait = () => Promise.resolve();
  });

  afterEach(async () => {
    await service?.close();
    await fixture?.close();
  });

  it('disables the named callback on both calls of the request with the header, and logs a concurrent request without it', async () => {
    await start();
    // Both requests are inside their handlers before either makes a call: their work interleaves.
    wait = barrier(2).arrive;
    const [withHeader, without] = await Promise.all([chat(service, 'req-off', { [HEADER]: 'AUDIT' }), chat(service, 'req-on')]);
    expect(withHeader.status).toBe(200);
    expect(without.status).toBe(200);
    expect(withHeader.body).toMatchObject({ body: { question: 'from req-off' }, text: expect.any(String), streamed: expect.any(String) });
    await fixture.manager.flush({ timeoutMs: 5_000 });

    expect(eventsOf(fixture.audit, 'req-off')).toEqual([]);
    const off = eventsOf(fixture.keep, 'req-off');
    expect(off.map((e) => e.stream).sort()).toEqual([false, true]);
    for (const event of off) expect(event.disabledCallbacks).toEqual(['audit']);

    expect(
      eventsOf(fixture.audit, 'req-on')
        .map((e) => e.stream)
        .sort(),
    ).toEqual([false, true]);
    for (const event of eventsOf(fixture.keep, 'req-on')) expect(event.disabledCallbacks).toEqual([]);
    expect(eventsOf(fixture.keep, 'req-on')).toHaveLength(2);
    // Nothing escaped the metadata: every event belongs to one of the two requests.
    expect(fixture.keep.events).toHaveLength(4);
  });

  it('keeps scopes apart on one keep-alive connection: a later request without the header is logged', async () => {
    await start();
    expect((await chat(service, 'first', { [HEADER]: 'audit' })).status).toBe(200);
    expect((await chat(service, 'second')).status).toBe(200);
    await fixture.manager.flush({ timeoutMs: 5_000 });
    expect(eventsOf(fixture.audit, 'first')).toEqual([]);
    expect(eventsOf(fixture.audit, 'second')).toHaveLength(2);
  });

  it('a locked manager ignores the header: every callback gets both calls, the refusal is recorded', async () => {
    await start({ allowDynamicCallbackDisabling: false });
    expect((await chat(service, 'locked', { [HEADER]: 'audit' })).status).toBe(200);
    await fixture.manager.flush({ timeoutMs: 5_000 });
    expect(eventsOf(fixture.audit, 'locked')).toHaveLength(2);
    for (const event of eventsOf(fixture.keep, 'locked')) {
      expect(event.disabledCallbacks).toEqual([]);
      expect(event.ignoredDisables).toEqual([{ name: 'audit', source: 'scope', reason: 'locked' }]);
    }
  });

  it('a metadata hook that throws fails that request through the error path, and the service keeps serving', async () => {
    await start();
    const failed = await chat(service, 'boom', { [HEADER]: 'audit' });
    expect(failed.status).toBe(500);
    expect(service.errors).toHaveLength(1);
    expect(String(service.errors[0])).toContain('metadata hook failed');
    expect((await chat(service, 'after')).status).toBe(200);
    await fixture.manager.flush({ timeoutMs: 5_000 });
    expect(eventsOf(fixture.audit, 'after')).toHaveLength(2);
    expect(fixture.keep.events.filter((e) => e.metadata?.['requestId'] === 'boom')).toEqual([]);
  });
});
