// Our own account of what Langfuse accepted. The langfuse client never says whether an event
// arrived (failures only reach its event emitter and console.error, then the events are dropped,
// and flushAsync() can resolve while uploads are still in flight), so every call's two items are
// followed here: handed to the client, seen in an upload, then accepted (listed in a 207 answer's
// `successes`) or given up. flush() waits on this, not on the client.

/** One batch item as it appears in an upload: its envelope id, its type and its body's id. */
export interface ItemRef {
  envelopeId: string;
  type: string;
  bodyId: string | undefined;
}

interface CallState {
  /** Items of this call not yet accepted or given up. */
  outstanding: number;
  failed: boolean;
}

interface Envelope {
  eventId: string;
  settled: boolean;
}

export interface TrackerHooks {
  /** Calls that will not (fully) reach Langfuse: reported once per call, with the reason. */
  gaveUp(eventIds: string[], reason: Error): void;
  /** A call whose every item Langfuse accepted. */
  delivered?(eventId: string): void;
}

/** The key matching an item we handed to the client with an item seen in an upload. */
export const itemKey = (type: string, bodyId: string | undefined): string => `${type}\u0000${bodyId ?? ''}`;

export class DeliveryTracker {
  private readonly calls = new Map<string, CallState>();
  /**
   * Items handed to the client and not yet seen in an upload, per item key, oldest first. A key is
   * shared only when calls share a trace (metadata.traceId); the client keeps them in order, so
   * the oldest waiting call owns the next item seen with that key.
   */
  private readonly unsent = new Map<string, string[]>();
  /** Envelope ids seen in uploads, until the client has finished with their batch. */
  private readonly envelopes = new Map<string, Envelope>();
  private waiters = new Set<() => void>();

  constructor(private readonly hooks: TrackerHooks) {}

  /** Calls waiting for confirmation. */
  get pendingCount(): number {
    return this.calls.size;
  }

  isPending(eventId: string): boolean {
    return this.calls.has(eventId);
  }

  pendingIds(): string[] {
    return [...this.calls.keys()];
  }

  /** A call's items were handed to the client. */
  track(eventId: string, keys: readonly string[]): void {
    this.calls.set(eventId, { outstanding: keys.length, failed: false });
    for (const key of keys) this.unsent.set(key, [...(this.unsent.get(key) ?? []), eventId]);
    this.notify();
  }

  /** The client will not send this call at all (it was sampled out, or enqueueing threw). */
  forget(eventId: string): void {
    if (!this.calls.delete(eventId)) return;
    for (const [key, ids] of this.unsent) {
      const rest = ids.filter((id) => id !== eventId);
      if (rest.length > 0) this.unsent.set(key, rest);
      else this.unsent.delete(key);
    }
    this.notify();
  }

  /** An upload is about to carry these items: binds each envelope to its call. Returns envelope -> call. */
  claim(items: readonly ItemRef[]): Map<string, string> {
    const owners = new Map<string, string>();
    for (const item of items) {
      const known = this.envelopes.get(item.envelopeId);
      if (known !== undefined) {
        owners.set(item.envelopeId, known.eventId);
        continue;
      }
      const key = itemKey(item.type, item.bodyId);
      const queue = this.unsent.get(key);
      const eventId = queue?.shift();
      if (queue !== undefined && queue.length === 0) this.unsent.delete(key);
      // Items that are not ours (a shared client's own traces) are left alone.
      if (eventId === undefined) continue;
      this.envelopes.set(item.envelopeId, { eventId, settled: false });
      owners.set(item.envelopeId, eventId);
    }
    return owners;
  }

  /** Langfuse listed this envelope in a 207 answer's successes (or answered 2xx for the whole batch). */
  accept(envelopeId: string): void {
    const envelope = this.envelopes.get(envelopeId);
    if (envelope === undefined || envelope.settled) return;
    envelope.settled = true;
    this.settle(envelope.eventId, false);
  }

  /**
   * The client is done with these items (its upload succeeded or it gave up after its retries).
   * Whatever was not accepted is given up; items the client dropped without sending are claimed
   * first. Returns the calls newly given up.
   */
  finish(items: readonly ItemRef[], reason: Error): string[] {
    this.claim(items);
    const failed: string[] = [];
    for (const item of items) {
      const envelope = this.envelopes.get(item.envelopeId);
      if (envelope === undefined) continue;
      this.envelopes.delete(item.envelopeId);
      if (envelope.settled) continue;
      envelope.settled = true;
      if (this.settle(envelope.eventId, true)) failed.push(envelope.eventId);
    }
    if (failed.length > 0) this.hooks.gaveUp(failed, reason);
    return failed;
  }

  /** Gives up on every call still waiting (shutdown). Returns them. */
  abandonAll(reason: Error): string[] {
    const failed = [...this.calls.entries()].filter(([, state]) => !state.failed).map(([id]) => id);
    this.calls.clear();
    this.unsent.clear();
    this.envelopes.clear();
    if (failed.length > 0) this.hooks.gaveUp(failed, reason);
    this.notify();
    return failed;
  }

  /** Resolves on the next change of state, or after `ms` (so a waiter re-checks even if it missed one). */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.waiters.add(done);
    });
  }

  /** Wakes waiters: something changed (an item was accepted, given up or reached the client's queue). */
  notify(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** One item of a call is settled; returns true when this made the call fail (first failure). */
  private settle(eventId: string, failed: boolean): boolean {
    const state = this.calls.get(eventId);
    if (state === undefined) return false;
    const newlyFailed = failed && !state.failed;
    if (failed) state.failed = true;
    state.outstanding -= 1;
    if (state.outstanding <= 0) {
      this.calls.delete(eventId);
      if (!state.failed) this.hooks.delivered?.(eventId);
    }
    this.notify();
    return newlyFailed;
  }
}
