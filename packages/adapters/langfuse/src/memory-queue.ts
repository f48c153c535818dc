// Keeps the langfuse client's event queue in memory without re-serialising it on every event.
//
// langfuse 3.x (Node) stores its queue in an in-memory "storage" and, on every enqueue, writes the
// whole queue to it as one JSON string that nothing in Node ever reads back (its cache object is
// the copy it uses). With a few dozen events waiting, that stringify was the largest cost of the
// adapter per call (profiled in the benchmark). For a client this adapter creates itself, writes
// go to the cache only. A client of another shape (another langfuse version) is left as it is.
import type { Langfuse } from 'langfuse';

interface PersistedClient {
  _storageCache?: Record<string, unknown>;
  _storage?: unknown;
  getPersistedProperty(key: string): unknown;
  setPersistedProperty(key: string, value: unknown): void;
}

/** Returns true when the client's queue writes now skip the serialisation. */
export function keepQueueInMemory(client: Langfuse): boolean {
  const c = client as unknown as PersistedClient;
  // Only where the client itself chose memory storage: in a browser its storage is persistent.
  if (typeof (globalThis as { window?: unknown }).window !== 'undefined') return false;
  if (typeof c.getPersistedProperty !== 'function' || typeof c.setPersistedProperty !== 'function' || !('_storage' in c)) return false;
  c.getPersistedProperty('__llm_callbacks_probe__'); // loads the cache object the client reads from
  const cache = c._storageCache;
  if (typeof cache !== 'object' || cache === null) return false;
  Object.defineProperty(c, 'setPersistedProperty', {
    configurable: true,
    writable: true,
    value(key: string, value: unknown): void {
      const current = c._storageCache ?? cache;
      if (value === null) delete current[key];
      else current[key] = value;
    },
  });
  return true;
}
