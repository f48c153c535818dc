// Follows one wrapped call from start to end and reports exactly one CallEvent for it.
//
// The caller keeps openai's own APIPromise and Stream objects; we only watch them:
// - failures: the promise's response promise rejects with the very error the caller gets;
// - plain responses: the Response is cloned the moment it arrives, before anyone reads it, so the
//   caller may still use `.asResponse()` and read the body themselves;
// - streams: the Stream's iterator is wrapped in place, so every way of reading it (for await,
//   `.tee()`, `.toReadableStream()`) passes chunks by us, and break / abort / error are seen;
// - a stream whose raw body the caller reads through `.asResponse()` never creates that iterator:
//   the transport lets us see its body end (or be cancelled), and the call is reported then.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { DisableDecision, DisableRequest } from '../disable-policy.js';
import type { CallEvent, CallType, StreamEnd } from '../event.js';
import type { CallbackManager } from '../manager.js';
import { scrubCredentialEchoes, type SecretScrubber } from '../secrets.js';
import type { Transport } from './transport.js';
import { createAssembler } from './stream-assembler.js';
import { describeError, extractUsage, isAbortError, responseModel, summarizeResponse } from './response-facts.js';

export interface CallStart {
  callType: CallType;
  provider: string;
  /** The request body as sent (already a detached, scrubbed copy). */
  request: Record<string, unknown>;
  metadata: Record<string, unknown>;
  scrubber: SecretScrubber;
  /** The scrubber to use when the event is built: it also knows credentials sent during the call. */
  finalScrubber: () => SecretScrubber;
  /** The client's transport, when it has one (for raw stream bodies and learned credentials). */
  transport: Transport | undefined;
  /** Every source of disable requests for this call; decided once, in the constructor. */
  disable: DisableRequest;
}

interface ResponseProps {
  response: Response;
}

export class CallTracker {
  readonly id = randomUUID();
  private readonly startTime = Date.now();
  private readonly t0 = performance.now();
  private done = false;
  private providerRequestId: string | undefined;
  private readonly decision: DisableDecision;
  private readonly secretsVersion: number;
  /** Set once the Stream's iterator exists: from then on the iterator reports the call. */
  private iteratorCreated = false;
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly manager: CallbackManager,
    private readonly start: CallStart,
  ) {
    this.decision = manager.decide(start.disable, this.id);
    this.secretsVersion = start.transport?.version ?? 0;
    if (this.stream && start.transport) this.unwatch = start.transport.watch(this.id, (response) => this.watchRawBody(response));
  }

  get stream(): boolean {
    return this.start.request['stream'] === true;
  }

  /** Starts watching openai's APIPromise. Never changes what the caller sees. */
  watch(apiPromise: PromiseLike<unknown>): void {
    const responsePromise = (apiPromise as { responsePromise?: unknown }).responsePromise;
    const raw: Promise<ResponseProps> | undefined = responsePromise instanceof Promise ? (responsePromise as Promise<ResponseProps>) : undefined;
    if (raw) {
      raw.then(
        (props) => this.onResponse(props.response),
        (error: unknown) => this.fail(error),
      );
    }
    if (this.stream) {
      // Parsing a streamed response only creates the Stream object; it reads nothing yet.
      apiPromise.then(
        (stream) => this.watchStream(stream),
        (error: unknown) => this.fail(error),
      );
    } else if (!raw) {
      // An openai version without the response promise we rely on: the caller's own parse is the
      // only safe reader of the body, so observe the parsed value through the promise.
      apiPromise.then(
        (data) => this.succeed(data),
        (error: unknown) => this.fail(error),
      );
    }
  }

  /** The call threw before openai returned a promise. */
  failNow(error: unknown): void {
    this.fail(error);
  }

  private onResponse(response: Response | undefined): void {
    if (!response) return;
    this.providerRequestId = response.headers.get('x-request-id') ?? undefined;
    if (this.stream || this.done) return;
    let copy: Response;
    try {
      copy = response.clone();
    } catch (error) {
      this.internal('reading the response body', error);
      this.succeed(undefined);
      return;
    }
    const reading = copy
      .text()
      .then((text) => this.succeed(text ? JSON.parse(text) : undefined))
      .catch((error: unknown) => {
        this.internal('parsing the response body', error);
        this.succeed(undefined);
      });
    this.manager.track(reading);
  }

  private watchStream(stream: unknown): void {
    if (this.done || typeof stream !== 'object' || stream === null) return;
    const target = stream as { iterator?: unknown; controller?: AbortController; [Symbol.asyncIterator]?: unknown };
    const assembler = createAssembler(this.start.callType);
    let firstTokenAt: number | undefined;
    let firstChunkAt: number | undefined;
    // Arrow functions keep `this` (the tracker) inside the iterator object's methods.
    const end = (how: StreamEnd, error?: unknown): void => {
      // A stream that ended normally but carried the provider's error is the failure it reported.
      const inBand = how === 'completed' && error === undefined ? assembler.failure?.() : undefined;
      this.endStream(inBand ? 'errored' : how, assembler.result(), firstTokenAt ?? firstChunkAt, error ?? inBand);
    };
    const internal = (where: string, error: unknown): void => this.internal(where, error);
    const observe = (iterator: AsyncIterator<unknown>): AsyncIterator<unknown> => ({
      async next(...args: [] | [unknown]) {
        let result: IteratorResult<unknown>;
        try {
          result = await iterator.next(...args);
        } catch (error) {
          end(isAbortError(error) ? 'aborted' : 'errored', error);
          throw error;
        }
        if (result.done) {
          // openai ends an aborted stream quietly; the controller tells an abort from a real end.
          const aborted = target.controller?.signal.aborted === true;
          end(aborted ? 'aborted' : 'completed');
        } else {
          const now = performance.now();
          firstChunkAt ??= now;
          try {
            if (assembler.add(result.value)) firstTokenAt ??= now;
          } catch (error) {
            internal('assembling a stream chunk', error);
          }
        }
        return result;
      },
      async return(value?: unknown) {
        end('stopped');
        return iterator.return ? iterator.return(value) : { done: true, value };
      },
      async throw(error?: unknown) {
        end('errored', error);
        if (iterator.throw) return iterator.throw(error);
        throw error;
      },
    });
    if (typeof target.iterator === 'function') {
      // openai's Stream reads through this.iterator() everywhere (iteration, tee, toReadableStream).
      const original = target.iterator as () => AsyncIterator<unknown>;
      const created = (): void => {
        this.iteratorCreated = true;
      };
      target.iterator = function (this: unknown) {
        created();
        return observe(original.call(this));
      };
    } else if (typeof target[Symbol.asyncIterator] === 'function') {
      const original = target[Symbol.asyncIterator] as () => AsyncIterator<unknown>;
      const created = (): void => {
        this.iteratorCreated = true;
      };
      target[Symbol.asyncIterator] = function (this: unknown) {
        created();
        return observe(original.call(this));
      };
    } else {
      this.succeed(stream);
    }
  }

  /**
   * Passes a successful streamed response's body through unchanged, noting when it ends or is
   * cancelled. That only decides the event when no iterator was ever created: a caller that read
   * the raw body itself (`.asResponse()`), whose output we therefore do not assemble.
   */
  private watchRawBody(response: Response): Response {
    if (!response.ok || !response.body || this.done) return response;
    const reader = response.body.getReader();
    const ended = (end: StreamEnd, error?: unknown): void => {
      if (this.iteratorCreated || this.done) return;
      this.endStream(end, undefined, undefined, error);
    };
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            ended('completed');
          } else controller.enqueue(value);
        } catch (error) {
          controller.error(error);
          ended(isAbortError(error) ? 'aborted' : 'errored', error);
        }
      },
      cancel(reason) {
        ended('stopped');
        return reader.cancel(reason);
      },
    });
    const copy = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    // Keep what a caller may read off the Response object (fetch sets these, the constructor cannot).
    Object.defineProperty(copy, 'url', { value: response.url });
    Object.defineProperty(copy, 'redirected', { value: response.redirected });
    return copy;
  }

  private endStream(end: StreamEnd, partial: unknown, firstAt: number | undefined, error?: unknown): void {
    const ttft = firstAt === undefined ? undefined : Math.max(0, firstAt - this.t0);
    if (end === 'completed' || end === 'stopped') this.finish('success', { response: partial, streamEnd: end, ttft });
    else {
      const cause = error ?? Object.assign(new Error('The stream was aborted before it ended.'), { name: 'AbortError' });
      this.finish('failure', { response: partial, streamEnd: end, ttft, error: cause });
    }
  }

  private succeed(response: unknown): void {
    this.finish('success', { response });
  }

  private fail(error: unknown): void {
    this.finish('failure', { error });
  }

  private finish(status: 'success' | 'failure', outcome: { response?: unknown; error?: unknown; streamEnd?: StreamEnd; ttft?: number }): void {
    if (this.done) return;
    this.done = true;
    this.unwatch?.();
    try {
      const { callType } = this.start;
      const scrubber = this.start.finalScrubber();
      // Credentials first seen on the wire during this call (an apiKey function's token, say) may
      // be in the request copied at start: scrub it again only then.
      const request =
        (this.start.transport?.version ?? 0) !== this.secretsVersion ? (scrubber.copy(this.start.request) as Record<string, unknown>) : this.start.request;
      const response = outcome.response === undefined ? undefined : scrubber.copy(summarizeResponse(callType, outcome.response));
      const usage = extractUsage(response);
      const error = outcome.error === undefined ? undefined : describeError(outcome.error);
      // Known secrets by value, then anything echoed under a credential's name (only in the error
      // message: request and response content is the user's and is never pattern-edited).
      if (error) error.message = scrubCredentialEchoes(scrubber.scrubString(error.message));
      const event: CallEvent = {
        id: this.id,
        status,
        callType,
        model: responseModel(response) ?? (typeof this.start.request['model'] === 'string' ? this.start.request['model'] : 'unknown'),
        provider: this.start.provider,
        stream: this.stream,
        startTime: this.startTime,
        endTime: Date.now(),
        latencyMs: Math.max(0, performance.now() - this.t0),
        request,
        metadata: this.start.metadata,
        disabledCallbacks: [...this.decision.disabled],
        ignoredDisables: [...this.decision.ignored],
      };
      if (response !== undefined) event.response = response;
      if (usage) event.usage = usage;
      if (error) event.error = error;
      if (outcome.streamEnd) event.streamEnd = outcome.streamEnd;
      if (outcome.ttft !== undefined) event.timeToFirstTokenMs = outcome.ttft;
      if (this.providerRequestId) event.providerRequestId = this.providerRequestId;
      this.manager.report(event);
    } catch (error) {
      this.internal('building the event', error);
    }
  }

  private internal(where: string, error: unknown): void {
    this.manager.reportInternalError(where, error, this.id);
  }
}
