// Watches a langfuse client's uploads without changing what it sends: its `fetch` method (public,
// one per instance) is wrapped to read each ingestion request's items and each answer's
// `successes` / `errors`, and its 'flush' event says when the client is done with a batch (sent,
// or given up after its retries). Both feed the DeliveryTracker. Nothing here retries or
// re-sends: retrying stays the client's job, with the options it was given.
import type { Langfuse } from 'langfuse';
import type { DeliveryTracker, ItemRef } from './delivery-tracker.js';

type FetchOptions = Parameters<Langfuse['fetch']>[1];
type FetchResponse = Awaited<ReturnType<Langfuse['fetch']>>;
type QueueKey = Parameters<Langfuse['getPersistedProperty']>[0];
type Obj = Record<string, unknown>;

const INGESTION_PATH = '/api/public/ingestion';
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ClientMonitor {
  /** Has the client upload everything in its queue now, batch after batch. */
  kick(): void;
  /**
   * Stops watching. `abandon`: in-flight uploads are aborted and later ones are answered locally
   * with an empty 207, so the client's retry loop ends at once (only for a client we own).
   */
  close(mode: { abandon: boolean }): void;
}

export interface MonitorHooks {
  /** An upload attempt failed (the client may retry it). */
  attemptFailed(error: Error, eventIds: string[]): void;
}

function itemRef(value: unknown): ItemRef | undefined {
  if (!isObj(value) || typeof value['id'] !== 'string' || typeof value['type'] !== 'string') return undefined;
  const body = value['body'];
  const bodyId = isObj(body) && typeof body['id'] === 'string' ? body['id'] : undefined;
  return { envelopeId: value['id'], type: value['type'], bodyId };
}

function batchOf(body: unknown): ItemRef[] {
  if (typeof body !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(body);
    if (!isObj(parsed) || !Array.isArray(parsed['batch'])) return [];
    return parsed['batch'].map(itemRef).filter((r): r is ItemRef => r !== undefined);
  } catch {
    return [];
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  const detail = cause instanceof Error ? ` (${cause.message})` : '';
  return error.name === 'TimeoutError' || error.name === 'AbortError' ? `no answer in time (${error.name})` : `${error.message}${detail}`;
}

/** A response the client can read exactly as it would have read the original (status and body). */
function replay(status: number, text: string): FetchResponse {
  return {
    status,
    text: () => Promise.resolve(text),
    json: () => Promise.resolve().then(() => JSON.parse(text) as unknown),
    arrayBuffer: () => Promise.resolve(new TextEncoder().encode(text).buffer as ArrayBuffer),
  } as FetchResponse;
}

export function monitorClient(client: Langfuse, tracker: DeliveryTracker, hooks: MonitorHooks): ClientMonitor {
  const originalFetch = client.fetch;
  const controller = new AbortController();
  let abandoned = false;
  /** Batches uploaded and not yet finished by the client (by first envelope id): their envelope ids. */
  const inFlight = new Map<string, Set<string>>();

  // Reads the answer to one upload attempt: accepts what Langfuse confirmed, reports what it did not.
  const account = (status: number, text: string, items: ItemRef[], owners: Map<string, string>): void => {
    const ours = (ids: Iterable<string>): string[] => [...new Set([...ids].map((id) => owners.get(id)).filter((id): id is string => id !== undefined))];
    if (status === 207) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const successes = isObj(body) && Array.isArray(body['successes']) ? body['successes'] : [];
      const errors = isObj(body) && Array.isArray(body['errors']) ? body['errors'] : [];
      for (const s of successes) {
        if (isObj(s) && typeof s['id'] === 'string' && (typeof s['status'] !== 'number' || s['status'] < 300)) tracker.accept(s['id']);
      }
      const rejected = errors.filter(isObj);
      if (rejected.length > 0) {
        const first = rejected[0] as Obj;
        const detail = [first['status'], first['message'], first['error']]
          .filter((v) => v !== undefined && v !== null)
          .map(String)
          .join(' ');
        hooks.attemptFailed(
          new Error(`Langfuse rejected ${rejected.length} of ${items.length} items (HTTP 207), first: ${detail}`),
          ours(rejected.map((e) => String(e['id']))),
        );
      }
      return;
    }
    if (status >= 200 && status < 300) {
      for (const item of items) tracker.accept(item.envelopeId);
      return;
    }
    hooks.attemptFailed(new Error(`Langfuse answered HTTP ${status} to an upload of ${items.length} items: ${text.slice(0, 300)}`), ours(owners.keys()));
  };

  const fetch = async (url: string, options: FetchOptions): Promise<FetchResponse> => {
    if (!url.endsWith(INGESTION_PATH) || options.method !== 'POST') return originalFetch.call(client, url, options);
    const items = batchOf(options.body);
    const owners = tracker.claim(items);
    // Retries re-send the same body: a batch is known by its first envelope id.
    const first = items[0]?.envelopeId;
    if (first !== undefined && !inFlight.has(first)) inFlight.set(first, new Set(items.map((i) => i.envelopeId)));
    if (abandoned) return replay(207, '{"successes":[],"errors":[]}');
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    try {
      const res = await originalFetch.call(client, url, { ...options, signal });
      const text = await res.text();
      account(res.status, text, items, owners);
      return replay(res.status, text);
    } catch (error) {
      if (abandoned) return replay(207, '{"successes":[],"errors":[]}');
      hooks.attemptFailed(new Error(`Langfuse upload of ${items.length} items failed: ${describeError(error)}`, { cause: error }), [
        ...new Set(owners.values()),
      ]);
      throw error;
    }
  };
  client.fetch = fetch;

  const queued = (): unknown[] => {
    const queue = client.getPersistedProperty<unknown[]>('queue' as QueueKey);
    return Array.isArray(queue) ? queue : [];
  };

  // 'flush' fires when the client is done with a batch, accepted or not, listing every item it took
  // from its queue for that batch: the ones it sent, the ones it put back because the batch was
  // full (now in its queue, or already in a later upload), and any it dropped unsent (over 1 MB).
  const offFlush = client.on('flush', (taken: unknown) => {
    if (!Array.isArray(taken)) return;
    const refs = taken.map(itemRef).filter((r): r is ItemRef => r !== undefined);
    const ids = new Set(refs.map((r) => r.envelopeId));
    let sent: Set<string> | undefined;
    for (const [first, batch] of inFlight) {
      if ([...batch].every((id) => ids.has(id))) {
        sent = batch;
        inFlight.delete(first);
        break;
      }
    }
    const waiting = new Set(queued().map((item) => itemRef(item)?.envelopeId));
    const elsewhere = (id: string): boolean => waiting.has(id) || [...inFlight.values()].some((batch) => batch.has(id));
    const done = refs.filter((r) => sent?.has(r.envelopeId) === true || !elsewhere(r.envelopeId));
    tracker.finish(
      done,
      new Error('Langfuse did not accept these calls: the client finished their upload, after its retries, without them among the successes; they are dropped'),
    );
  });
  // Items reach the client's queue a little after trace()/generation() return; wake flush() then.
  const offQueued = ['trace-create', 'generation-create'].map((type) => client.on(type, () => tracker.notify()));

  return {
    kick() {
      // Each client.flush() takes at most flushAt items from the queue, so call it until it is empty.
      for (let i = 0; i < 10_000 && queued().length > 0; i += 1) client.flush();
    },
    close({ abandon }) {
      offFlush();
      for (const off of offQueued) off();
      inFlight.clear();
      if (abandon) {
        abandoned = true;
        controller.abort(new Error('langfuse callback shut down'));
      } else if (client.fetch === fetch) {
        client.fetch = originalFetch;
      }
    },
  };
}
