// The delivery engine of the S3 callback: events are buffered per prefix, cut into batches (by
// size, bytes or age), and each batch is uploaded in the background as one object whose key is
// fixed when the batch is cut. A failed upload is retried with backoff under the same key, so a
// retry after a lost answer overwrites the object instead of duplicating its events, and the
// batch keeps its place in the key order. Nothing leaves the queue unreported: an event is either
// in the bucket, or reported as dropped ('overflow' when the bound is hit, 'gave-up' when its
// batch failed for good), with the reason sent to the reporter.
import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CallbackReporter, CallEvent, SpooledBatch } from '@llm-callbacks/core';
import { buildObjectKey, encodeDynamicPrefix, encodeKeySegment } from './object-key.js';
import { S3_DEFAULTS, type ResolvedS3Options } from './options.js';
import { backoffDelay, describeFailure, isTransient, S3DeliveryError } from './retry-policy.js';
import { serializeEvent } from './serialize-event.js';

/** Tries per spooled segment when retry.maxAttempts is unlimited (the spool retries after that). */
const SPOOLED_BATCH_ATTEMPTS = 3;

/** Counters of one S3 callback since it was created. */
export interface S3CallbackStats {
  /** Events taken into the queue. */
  accepted: number;
  /** Events confirmed in the bucket. */
  uploadedEvents: number;
  /** Objects written. */
  uploadedObjects: number;
  /** Upload attempts that failed (each was reported). */
  failedAttempts: number;
  /** Events given up after their batch failed for good (reported as dropped, 'gave-up'). */
  gaveUp: number;
  /** Events refused because the queue was full (reported as dropped, 'overflow'). */
  overflowed: number;
  /** Events buffered or in batches not yet uploaded. */
  pending: number;
  /** Objects being uploaded right now (or waiting to retry). */
  uploading: number;
}

interface Entry {
  readonly id: string;
  readonly text: string;
  readonly bytes: number;
}

interface Batch {
  readonly key: string;
  readonly ids: readonly string[];
  readonly body: Buffer;
  readonly md5: string;
  started: boolean;
  /** Part of a durable spool's segment: on give-up the events stay in the spool (not dropped). */
  readonly spooled: boolean;
  outcome?: 'uploaded' | 'gave-up';
  readonly settled: Promise<void>;
  resolve(): void;
}

/** How long shutdown() waits for aborted uploads to settle before giving their batches up anyway. */
const ABORT_GRACE_MS = 1_000;

interface Sleeper {
  timer: NodeJS.Timeout;
  resolve(): void;
}

export class UploadQueue {
  private reporter: CallbackReporter;
  private readonly buffers = new Map<string, { entries: Entry[]; bytes: number }>();
  private buffered = 0;
  /** Batches not settled yet, in the order they were cut (which is also their key order). */
  private readonly batches: Batch[] = [];
  private inBatches = 0;
  private uploading = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private aborted = false;
  private overflowing = false;
  private readonly controllers = new Set<AbortController>();
  private readonly sleepers = new Set<Sleeper>();
  /** flush()/shutdown() calls waiting: while any is, backoff timers keep the process alive. */
  private holders = 0;
  private sequence = 0;
  /** Makes keys unique across processes writing the same prefix in the same millisecond. */
  private readonly instance = randomBytes(6).toString('hex');
  private shutdownPromise: Promise<void> | undefined;
  private readonly counters = { accepted: 0, uploadedEvents: 0, uploadedObjects: 0, failedAttempts: 0, gaveUp: 0, overflowed: 0 };

  constructor(
    private readonly options: ResolvedS3Options,
    private readonly client: S3Client,
    private readonly ownsClient: boolean,
  ) {
    this.reporter = warningReporter(options.name);
  }

  setReporter(reporter: CallbackReporter): void {
    this.reporter = reporter;
  }

  get pending(): number {
    return this.buffered + this.inBatches;
  }

  stats(): S3CallbackStats {
    return { ...this.counters, pending: this.pending, uploading: this.uploading };
  }

  /** Takes one event; returns at once and never throws (the upload happens in the background). */
  accept(event: CallEvent): void {
    const id = typeof event?.id === 'string' ? event.id : 'unknown';
    try {
      if (this.closed) {
        this.counters.gaveUp += 1;
        this.reporter.error(new Error(`${this.options.name}: event ${id} arrived after shutdown() and was not uploaded.`), { eventIds: [id] });
        this.reporter.dropped([id], 'gave-up');
        return;
      }
      if (this.pending >= this.options.maxQueueSize) {
        this.counters.overflowed += 1;
        if (!this.overflowing) {
          // One error per episode (the queue was full until uploads caught up); every event is still
          // reported on its own through dropped().
          this.overflowing = true;
          this.reporter.error(
            new Error(
              `${this.options.name}: the queue is full (${this.options.maxQueueSize} events waiting for s3://${this.options.bucket}); new events are dropped until uploads catch up. Raise maxQueueSize, or look at the upload errors reported before this one.`,
            ),
            { eventIds: [id] },
          );
        }
        this.reporter.dropped([id], 'overflow');
        return;
      }
      const text = serializeEvent(event, this.options.redactMessages);
      const prefix = this.prefixFor(event, id);
      let buffer = this.buffers.get(prefix);
      if (!buffer) {
        buffer = { entries: [], bytes: 0 };
        this.buffers.set(prefix, buffer);
      }
      const bytes = Buffer.byteLength(text) + 1;
      buffer.entries.push({ id, text, bytes });
      buffer.bytes += bytes;
      this.buffered += 1;
      this.counters.accepted += 1;
      if (buffer.entries.length >= this.options.batchSize || buffer.bytes >= this.options.maxBatchBytes) this.cut(prefix);
      else this.arm();
    } catch (error) {
      this.counters.gaveUp += 1;
      this.reporter.error(error, { eventIds: [id] });
      this.reporter.dropped([id], 'gave-up');
    }
  }

  /**
   * Uploads one spooled segment (see core's durableCallback) under keys derived only from the
   * segment: `{prefix}/{day}/{hour}/{segment time}-{segment id}-{part}.ndjson` (or the event id for
   * `json`). A later process replaying the same segment therefore writes the same keys with the same
   * bodies, and an upload repeated after a crash overwrites instead of duplicating. Resolves when
   * every object is in the bucket; rejects when one was given up (the spool keeps the segment and
   * tries again; nothing is reported as dropped).
   */
  async deliverBatch(segment: SpooledBatch): Promise<void> {
    if (this.closed) throw new Error(`${this.options.name}: shut down; spooled segment ${segment.id} stays in the spool.`);
    const at = new Date(segment.createdAt);
    const base = encodeKeySegment(segment.id);
    // Group by prefix in order of first appearance, then cut by batchSize / maxBatchBytes: the same
    // events in the same order always give the same parts.
    const groups = new Map<string, Entry[]>();
    for (const event of segment.events) {
      const id = typeof event?.id === 'string' ? event.id : 'unknown';
      const text = serializeEvent(event, this.options.redactMessages);
      const prefix = this.prefixFor(event, id);
      let group = groups.get(prefix);
      if (!group) groups.set(prefix, (group = []));
      group.push({ id, text, bytes: Buffer.byteLength(text) + 1 });
    }
    const batches: Batch[] = [];
    let part = 0;
    for (const [prefix, entries] of groups) {
      if (this.options.format === 'json') {
        for (const entry of entries) batches.push(this.addBatch(buildObjectKey(prefix, at, encodeKeySegment(entry.id), 'json'), [entry], entry.text, true));
        continue;
      }
      let chunk: Entry[] = [];
      let bytes = 0;
      const emit = (): void => {
        if (chunk.length === 0) return;
        const unique = `${base}-${String(part++).padStart(3, '0')}`;
        batches.push(this.addBatch(buildObjectKey(prefix, at, unique, 'ndjson'), chunk, chunk.map((e) => `${e.text}\n`).join(''), true));
        chunk = [];
        bytes = 0;
      };
      for (const entry of entries) {
        if (chunk.length >= this.options.batchSize || (chunk.length > 0 && bytes + entry.bytes > this.options.maxBatchBytes)) emit();
        chunk.push(entry);
        bytes += entry.bytes;
      }
      emit();
    }
    this.counters.accepted += segment.events.length;
    this.pump();
    await Promise.all(batches.map((b) => b.settled));
    const lost = batches.filter((b) => b.outcome !== 'uploaded');
    if (lost.length > 0) {
      throw new Error(
        `${this.options.name}: ${lost.length} of the ${batches.length} object(s) of spooled segment ${segment.id} could not be written to s3://${this.options.bucket} (each attempt was reported).`,
      );
    }
  }

  /** Resolves when every event accepted before the call is in the bucket; rejects when some were given up (already reported). */
  async flush(): Promise<void> {
    this.cutAll();
    const target = [...this.batches];
    if (target.length === 0) return;
    // The backoff timers hold the process open while a flush is awaited, but for one retry cycle
    // at most: with unlimited retries an outage would otherwise keep a process alive for good
    // after its caller stopped waiting (the manager's flush has a deadline of its own).
    const release = this.hold();
    const letGo = setTimeout(release, this.options.requestTimeoutMs + this.options.retry.maxDelayMs);
    letGo.unref();
    try {
      await Promise.all(target.map((b) => b.settled));
    } finally {
      clearTimeout(letGo);
      release();
    }
    this.throwIfLost(target, 'flush()');
  }

  /** Delivers what is queued within shutdownTimeoutMs, gives up (and reports) the rest, and releases the client. */
  shutdown(): Promise<void> {
    return (this.shutdownPromise ??= this.close());
  }

  private async close(): Promise<void> {
    this.closed = true;
    this.cutAll();
    this.disarm();
    const target = [...this.batches];
    const release = this.hold();
    let deadline: NodeJS.Timeout | undefined;
    try {
      const inTime = await Promise.race([
        Promise.all(target.map((b) => b.settled)).then(() => true),
        new Promise<boolean>((resolve) => {
          deadline = setTimeout(() => resolve(false), this.options.shutdownTimeoutMs);
        }),
      ]);
      if (!inTime) {
        // Out of time: stop retrying, abort what is in flight, give up what never started.
        this.aborted = true;
        for (const controller of this.controllers) controller.abort();
        for (const sleeper of this.sleepers) {
          clearTimeout(sleeper.timer);
          sleeper.resolve();
        }
        this.sleepers.clear();
        const unstarted = this.batches.filter((b) => !b.started);
        if (unstarted.length > 0) {
          const ids = unstarted.flatMap((b) => b.ids);
          const kept = unstarted.filter((b) => b.spooled).length;
          this.reporter.error(
            new Error(
              `${this.options.name}: shutdown() ran out of time (${this.options.shutdownTimeoutMs} ms) before ${unstarted.length} object(s) could be uploaded; their ${ids.length} events are given up${kept > 0 ? ` (those of ${kept} spooled object(s) stay in the durable spool)` : ''}.`,
            ),
            { eventIds: ids },
          );
          for (const batch of unstarted) {
            batch.started = true;
            this.settle(batch, false);
          }
        }
        // An aborted request settles at once with the SDK's handler; a custom client that ignores
        // the abort signal gets a short grace, then its batches are given up all the same.
        let grace: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all(target.map((b) => b.settled)),
          new Promise<void>((resolve) => {
            grace = setTimeout(resolve, ABORT_GRACE_MS);
          }),
        ]);
        clearTimeout(grace);
        for (const batch of target) if (batch.outcome === undefined) this.settle(batch, false);
      }
    } finally {
      clearTimeout(deadline);
      release();
      if (this.ownsClient) this.client.destroy();
    }
    this.throwIfLost(target, 'shutdown()');
  }

  private throwIfLost(batches: readonly Batch[], what: string): void {
    const lost = batches.filter((b) => b.outcome === 'gave-up' && !b.spooled);
    if (lost.length === 0) return;
    const events = lost.reduce((n, b) => n + b.ids.length, 0);
    throw new Error(
      `${this.options.name}: ${what} finished, but ${events} event(s) in ${lost.length} object(s) could not be written to s3://${this.options.bucket} and were given up (each failure was reported; the events were reported as dropped, 'gave-up').`,
    );
  }

  private prefixFor(event: CallEvent, id: string): string {
    const prefix = this.options.prefix;
    if (typeof prefix === 'string') return prefix;
    try {
      const value = prefix(event);
      if (value === undefined || value === '') return S3_DEFAULTS.prefix;
      if (typeof value !== 'string') throw new TypeError(`the prefix function returned ${typeof value}, not a string`);
      return encodeDynamicPrefix(value) || S3_DEFAULTS.prefix;
    } catch (error) {
      this.reporter.error(
        new Error(
          `${this.options.name}: prefix(event) failed for event ${id} (${error instanceof Error ? error.message : String(error)}); the event goes under "${S3_DEFAULTS.prefix}".`,
          { cause: error },
        ),
        { eventIds: [id] },
      );
      return S3_DEFAULTS.prefix;
    }
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.cutAll();
    }, this.options.flushIntervalMs);
    // A batch waiting for its interval must not keep the host process alive; shutdown() delivers it.
    this.timer.unref();
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private cutAll(): void {
    for (const prefix of [...this.buffers.keys()]) this.cut(prefix);
  }

  /** Turns one prefix's buffer into batches with their final keys, and starts uploading. */
  private cut(prefix: string): void {
    const buffer = this.buffers.get(prefix);
    this.buffers.delete(prefix);
    if (this.buffers.size === 0) this.disarm();
    if (!buffer || buffer.entries.length === 0) return;
    this.buffered -= buffer.entries.length;
    const now = new Date();
    if (this.options.format === 'json') {
      for (const entry of buffer.entries) this.addBatch(buildObjectKey(prefix, now, encodeKeySegment(entry.id), 'json'), [entry], entry.text);
    } else {
      let chunk: Entry[] = [];
      let bytes = 0;
      const emit = (): void => {
        if (chunk.length === 0) return;
        const unique = `${this.instance}-${String(this.sequence++).padStart(6, '0')}`;
        this.addBatch(buildObjectKey(prefix, now, unique, 'ndjson'), chunk, chunk.map((e) => `${e.text}\n`).join(''));
        chunk = [];
        bytes = 0;
      };
      for (const entry of buffer.entries) {
        if (chunk.length >= this.options.batchSize || (chunk.length > 0 && bytes + entry.bytes > this.options.maxBatchBytes)) emit();
        chunk.push(entry);
        bytes += entry.bytes;
      }
      emit();
    }
    this.pump();
  }

  private addBatch(key: string, entries: readonly Entry[], text: string, spooled = false): Batch {
    const body = Buffer.from(text, 'utf8');
    let resolve!: () => void;
    const settled = new Promise<void>((r) => {
      resolve = r;
    });
    const batch: Batch = {
      key,
      ids: entries.map((e) => e.id),
      body,
      // Content-MD5 lets S3 refuse a body damaged on the way (BadDigest), whatever the checksum settings.
      md5: createHash('md5').update(body).digest('base64'),
      started: false,
      spooled,
      settled,
      resolve,
    };
    this.batches.push(batch);
    this.inBatches += entries.length;
    return batch;
  }

  private pump(): void {
    if (this.aborted) return;
    for (const batch of this.batches) {
      if (this.uploading >= this.options.concurrency) return;
      if (batch.started) continue;
      batch.started = true;
      this.uploading += 1;
      void this.deliver(batch);
    }
  }

  private async deliver(batch: Batch): Promise<void> {
    // A spooled segment's events are safe on disk and the spool retries them itself: without a
    // limit of our own, its deliverBatch() would never answer while S3 is down.
    const maxAttempts = batch.spooled && !Number.isFinite(this.options.retry.maxAttempts) ? SPOOLED_BATCH_ATTEMPTS : this.options.retry.maxAttempts;
    let uploaded = false;
    try {
      for (let attempt = 1; attempt <= maxAttempts && !this.aborted; attempt += 1) {
        try {
          await this.put(batch);
          uploaded = true;
          return;
        } catch (error) {
          this.counters.failedAttempts += 1;
          const transient = !this.aborted && isTransient(error);
          const willRetry = transient && attempt < maxAttempts;
          const delay = willRetry ? backoffDelay(attempt, this.options.retry) : 0;
          const outcome = this.aborted
            ? 'shutdown() ran out of time; giving up'
            : willRetry
              ? `retrying in ${delay} ms`
              : transient
                ? 'no attempts left; giving up'
                : 'not a transient failure; giving up';
          this.reporter.error(
            new S3DeliveryError(
              `${this.options.name}: upload of s3://${this.options.bucket}/${batch.key} (${plural(batch.ids.length, 'event')}) failed on attempt ${attempt}${Number.isFinite(maxAttempts) ? ` of ${maxAttempts}` : ''}: ${describeFailure(error)}; ${outcome}.`,
              batch.key,
              batch.ids,
              attempt,
              willRetry,
              { cause: error },
            ),
            { eventIds: batch.ids },
          );
          if (!willRetry) return;
          await this.sleep(delay);
        }
      }
      // Left the loop without an answer: shutdown() stopped the retries while this batch waited.
      this.reporter.error(
        new S3DeliveryError(
          `${this.options.name}: upload of s3://${this.options.bucket}/${batch.key} (${plural(batch.ids.length, 'event')}) was waiting to retry when shutdown() ran out of time; giving up.`,
          batch.key,
          batch.ids,
          0,
          false,
        ),
        { eventIds: batch.ids },
      );
    } finally {
      this.uploading -= 1;
      this.settle(batch, uploaded);
      this.pump();
    }
  }

  private settle(batch: Batch, uploaded: boolean): void {
    if (batch.outcome !== undefined) return; // already given up by shutdown()
    batch.outcome = uploaded ? 'uploaded' : 'gave-up';
    const index = this.batches.indexOf(batch);
    if (index !== -1) this.batches.splice(index, 1);
    this.inBatches -= batch.ids.length;
    if (uploaded) {
      this.counters.uploadedEvents += batch.ids.length;
      this.counters.uploadedObjects += 1;
      this.reporter.delivered?.(batch.ids);
    } else if (!batch.spooled) {
      this.counters.gaveUp += batch.ids.length;
      this.reporter.dropped(batch.ids, 'gave-up');
    }
    if (this.overflowing && this.pending < this.options.maxQueueSize) this.overflowing = false;
    batch.resolve();
  }

  /** One PUT, aborted after requestTimeoutMs (or by shutdown). */
  private async put(batch: Batch): Promise<void> {
    const controller = new AbortController();
    this.controllers.add(controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.requestTimeoutMs);
    timer.unref();
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: batch.key,
          Body: batch.body,
          ContentLength: batch.body.length,
          ContentMD5: batch.md5,
          ContentType: this.options.format === 'json' ? 'application/json; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
          ServerSideEncryption: this.options.serverSideEncryption,
          SSEKMSKeyId: this.options.sseKmsKeyId,
          BucketKeyEnabled: this.options.bucketKeyEnabled,
          StorageClass: this.options.storageClass,
        }),
        { abortSignal: controller.signal },
      );
    } catch (error) {
      if (timedOut) {
        const timeout = new Error(`the attempt took longer than requestTimeoutMs (${this.options.requestTimeoutMs} ms) and was aborted`, { cause: error });
        timeout.name = 'TimeoutError';
        throw timeout;
      }
      throw error;
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        resolve,
      };
      if (this.holders === 0) sleeper.timer.unref();
      this.sleepers.add(sleeper);
    });
  }

  /** While someone awaits flush()/shutdown(), backoff timers hold the process open; otherwise they do not. */
  private hold(): () => void {
    if (this.holders++ === 0) for (const s of this.sleepers) s.timer.ref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holders === 0) for (const s of this.sleepers) s.timer.unref();
    };
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Until a manager registers the callback, problems are written to the console (once per kind). */
function warningReporter(name: string): CallbackReporter {
  const seen = new Set<string>();
  const once = (kind: string, text: string): void => {
    if (seen.has(kind)) return;
    seen.add(kind);
    console.warn(`[llm-callbacks] ${name}: ${text} (shown once; register the callback with a manager to receive every report)`);
  };
  return {
    error: (error) => once('error', error instanceof Error ? error.message : String(error)),
    dropped: (ids, reason) => once(`dropped:${reason}`, `${ids.length} event(s) dropped (${reason})`),
  };
}
