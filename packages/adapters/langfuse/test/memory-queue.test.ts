// keepQueueInMemory: the langfuse client's queue writes stop serialising the whole queue, and the
// client still sends every event it queued (the real client against the fake ingestion endpoint).
import { Langfuse } from 'langfuse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLangfuse, type FakeLangfuseServer } from '@llm-callbacks/testing';
import { keepQueueInMemory } from '../src/memory-queue.js';

let server: FakeLangfuseServer;
beforeAll(async () => {
  server = await startFakeLangfuse();
});
afterAll(async () => {
  await server.close();
});

interface Storage {
  setItem(key: string, value: string): void;
}

describe('keepQueueInMemory', () => {
  it('queues without writing the serialised queue to storage, and the client still delivers everything', async () => {
    const client = new Langfuse({ ...server.clientOptions, flushAt: 1000, flushInterval: 60_000 });
    const storage = (client as unknown as { _storage: Storage })._storage;
    let writes = 0;
    const setItem = storage.setItem.bind(storage);
    storage.setItem = (key, value) => {
      writes += 1;
      setItem(key, value);
    };
    // Without it, every queued event rewrites the stored queue (what this avoids).
    client.trace({ id: 'before', name: 'before' });
    await new Promise((r) => setTimeout(r, 10));
    expect(writes).toBeGreaterThan(0);

    expect(keepQueueInMemory(client)).toBe(true);
    writes = 0;
    for (let i = 0; i < 20; i++) client.trace({ id: `trace-${i}`, name: 'memory' });
    await new Promise((r) => setTimeout(r, 10));
    expect(writes).toBe(0);

    await client.shutdownAsync();
    const ids = server.items
      .filter((item) => item.type === 'trace-create')
      .map((item) => (item.body as { id?: string }).id)
      .sort();
    expect(ids).toEqual(['before', ...Array.from({ length: 20 }, (_, i) => `trace-${i}`)].sort());
  });

  it('leaves a client of another shape alone', () => {
    const stranger = { getPersistedProperty: () => undefined } as unknown as Langfuse;
    expect(keepQueueInMemory(stranger)).toBe(false);
  });
});
