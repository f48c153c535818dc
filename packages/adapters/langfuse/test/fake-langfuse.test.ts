// The fake Langfuse server's own checks: it must reject what Langfuse rejects (or the adapter's
// tests would prove nothing), answer 207 per item, require Basic auth, and fail on request.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLangfuse, validateIngestionEvent, type FakeLangfuseServer } from '@llm-callbacks/testing';

const NOW = '2026-12-03T18:00:00.000Z';
const generation = (body: Record<string, unknown> = {}) => ({
  id: 'env-1',
  type: 'generation-create',
  timestamp: NOW,
  body: { id: 'gen-1', traceId: 't-1', ...body },
});

describe('ingestion schema', () => {
  it('accepts well-formed items of each kind', () => {
    expect(validateIngestionEvent({ id: 'e', type: 'trace-create', timestamp: NOW, body: { id: 't', name: 'n', tags: ['a'], userId: 'u' } })).toEqual([]);
    expect(
      validateIngestionEvent(generation({ usage: { input: 1, output: 2, total: 3, unit: 'TOKENS' }, usageDetails: { input: 1 }, level: 'ERROR' })),
    ).toEqual([]);
    expect(validateIngestionEvent({ id: 'e', type: 'span-create', timestamp: '2026-12-03T18:00:00+01:00', body: { id: 's' } })).toEqual([]);
    expect(validateIngestionEvent({ id: 'e', type: 'event-create', timestamp: NOW, body: { id: 'ev', environment: 'prod' } })).toEqual([]);
    expect(validateIngestionEvent({ id: 'e', type: 'generation-update', timestamp: NOW, body: { id: 'gen-1', endTime: NOW } })).toEqual([]);
    expect(validateIngestionEvent({ id: 'e', type: 'score-create', timestamp: NOW, body: { name: 'quality', value: 1, traceId: 't' } })).toEqual([]);
  });

  it.each([
    ['a non-object item', 'nope', /item: expected an object/],
    ['an unknown type', { id: 'e', type: 'trace-upsert', timestamp: NOW, body: {} }, /type: expected one of/],
    ['a missing envelope id', { type: 'trace-create', timestamp: NOW, body: {} }, /^id: expected an id/],
    ['an id with a carriage return', { id: 'a\rb', type: 'trace-create', timestamp: NOW, body: {} }, /carriage return/],
    ['a timestamp without offset', { id: 'e', type: 'trace-create', timestamp: '2026-12-03T18:00:00', body: {} }, /timestamp: expected an ISO 8601/],
    ['a missing body', { id: 'e', type: 'trace-create', timestamp: NOW }, /body: expected an object/],
    ['a generation without body.id', { ...generation(), body: { traceId: 't' } }, /body\.id: required/],
    ['a span without body.id', { id: 'e', type: 'span-create', timestamp: NOW, body: {} }, /body\.id: required/],
    ['tags that are not strings', { id: 'e', type: 'trace-create', timestamp: NOW, body: { tags: [1] } }, /body\.tags/],
    ['an unknown level', generation({ level: 'FATAL' }), /body\.level/],
    ['fractional token counts', generation({ usage: { input: 1.5 } }), /body\.usage\.input/],
    ['negative usage details', generation({ usageDetails: { input: -1 } }), /body\.usageDetails\.input/],
    [
      'a structured model parameter',
      generation({ modelParameters: { response_format: { type: 'json', nested: { a: 1 } } } }),
      /body\.modelParameters\.response_format/,
    ],
    ['a bad startTime', generation({ startTime: 'yesterday' }), /body\.startTime/],
    ['promptName without promptVersion', generation({ promptName: 'p' }), /promptName and promptVersion/],
    ['an environment starting with langfuse', generation({ environment: 'langfuse-x' }), /body\.environment/],
    ['a score without a name', { id: 'e', type: 'score-create', timestamp: NOW, body: { value: 1 } }, /body\.name: required/],
  ])('rejects %s', (_label, item, issue) => {
    const issues = validateIngestionEvent(item);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.join('\n')).toMatch(issue);
  });
});

describe('the fake server', () => {
  let server: FakeLangfuseServer;
  const post = (body: unknown, auth = `Basic ${Buffer.from('pk-lf-fake:sk-lf-fake').toString('base64')}`) =>
    fetch(`${server.url}/api/public/ingestion`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    server = await startFakeLangfuse();
  });
  afterAll(() => server.close());
  beforeEach(() => server.reset());

  it('answers 207 with a success or an error per item, and records only valid items', async () => {
    const valid = generation();
    const invalid = { ...generation(), id: 'env-2', body: { traceId: 't' } };
    const res = await post({ batch: [valid, invalid] });
    expect(res.status).toBe(207);
    const body = (await res.json()) as { successes: unknown[]; errors: Array<{ id: string; status: number; message: string }> };
    expect(body.successes).toEqual([{ id: 'env-1', status: 201 }]);
    expect(body.errors).toMatchObject([{ id: 'env-2', status: 400, message: 'Invalid request data' }]);
    expect(server.items).toHaveLength(1);
    expect(server.rejected).toHaveLength(1);
    expect(server.receivedEventIds()).toEqual(['gen-1']);
  });

  it('stores a re-sent envelope once, as Langfuse deduplicates by envelope id', async () => {
    await post({ batch: [generation()] });
    await post({ batch: [generation()] });
    expect(server.items).toHaveLength(1);
    expect(server.summary().duplicates).toBe(1);
  });

  it('requires Basic auth with the right keys, and a { batch } body', async () => {
    expect((await post({ batch: [] }, 'Basic ' + Buffer.from('pk-lf-fake:wrong').toString('base64'))).status).toBe(401);
    expect((await post({ items: [] })).status).toBe(400);
    expect(server.items).toEqual([]);
  });

  it('fails on request: 500, 207 with errors, for the next N requests', async () => {
    server.fail('status-500', 1);
    expect((await post({ batch: [generation()] })).status).toBe(500);
    server.fail('207-errors', 1);
    const res = await post({ batch: [generation()] });
    expect(((await res.json()) as { errors: unknown[] }).errors).toHaveLength(1);
    expect((await post({ batch: [generation()] })).status).toBe(207);
    expect(server.items).toHaveLength(1);
  });

  it('summarises what arrived for a demo', async () => {
    await post({
      batch: [
        { id: 'e0', type: 'trace-create', timestamp: NOW, body: { id: 't-1', name: 'chat', userId: 'u' } },
        generation({ model: 'gpt-4o-mini', usageDetails: { input: 3, output: 4 } }),
      ],
    });
    expect(server.summary()).toMatchObject({ accepted: 2, traces: 1, observations: 1, byType: { 'trace-create': 1, 'generation-create': 1 } });
    expect(server.describe()).toEqual(['trace t-1  "chat"  user=u  generation gpt-4o-mini tokens 3/4']);
  });
});
