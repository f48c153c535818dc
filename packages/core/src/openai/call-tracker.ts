// Follows one wrapped call from start to end and reports exactly one CallEvent for it.
//
// The caller keeps openai's own APIPromise and Stream objects; we only watch them:
// - failures: the promise's response promise rejects with the very error the caller gets;
// - plain responses: the transport hands openai a Response whose body is the bytes we read once from
//   the wire (no tee: Response.clone() cost more than the rest of the wrapper), so the caller may
//   still use `.asResponse()` and read the body themselves, and a call nobody awaits is reported
//   too; a client without a transport falls back to cloning the Response;
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
  /** openai's promise for this call, for the one case its own parse decides the outcome. */
  private apiPromise: PromiseLike<unknown> | undefined;
  /** Ends this call in the manager's callsInFlight count. */
  private readonly closeCall: () => void;
  /** Set when the transport gave us the plain response's bytes: no clone needed then. */
  private bodyRead = false;

  constructor(
    private readonly manager: CallbackManager,
    private readonly start: CallStart,
  ) {
    this.decision = manager.decide(start.disable, this.id);
    this.closeCall = manager.openCall();
    this.secretsVersion = start.transport?.version ?? 0;
    if (start.transport) {
      this.unwatch = start.transport.watch(this.id, (response, signal) => (this.stream ? this.watchRawBody(response, signal) : this.watchPlainBody(response)));
    }
  }

  get stream(): boolean {
    return this.start.request['stream'] === true;
  }

  /** Starts watching openai's APIPromise. Never changes what the caller sees. */
  watch(apiPromise: PromiseLike<unknown>): void {
    this.apiPromise = apiPromise;
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
    if (this.stream || this.done || this.bodyRead) return;
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
    // Aborted before (or while not) being read: no read will fail, so the abort itself ends the call.
    // Deferred a turn, so a read in progress reports the very error its caller gets instead.
    onAbort(target.controller?.signal, () => end('aborted'));
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
  private watchRawBody(response: Response, signal: AbortSignal | undefined): Response {
    if (!response.ok || !response.body || this.done) return response;
    const reader = response.body.getReader();
    const ended = (end: StreamEnd, error?: unknown): void => {
      if (this.iteratorCreated || this.done) return;
      this.endStream(end, undefined, undefined, error);
    };
    // Aborted while nobody reads the body: no read will ever fail, so the abort itself ends the call.
    onAbort(signal, () => ended('aborted'));
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
    return sameResponse(response, body);
  }

  /**
   * Reads a successful plain response's body once, as bytes, and gives openai (and through it the
   * caller) a Response whose body yields those same bytes, or the same error if reading failed.
   * The Response resolves as soon as the headers arrive, as before: openai's timeout and abort
   * still govern the body, and a body that fails still fails in the caller's parse, not as a retry.
   * A JSON body is parsed once for both: the event takes its copy before openai gets the value.
   */
  private watchPlainBody(response: Response): Response {
    if (!response.ok || !response.body || this.done) return response;
    this.bodyRead = true;
    const bytes = response.arrayBuffer();
    const media = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const isJSON = media.includes('application/json') || media.endsWith('+json');
    const parsed = bytes.then((buffer) => parseBody(buffer, isJSON));
    const reading = parsed.then(
      (body) => {
        // An empty JSON body: openai versions differ (6 throws in its parse, 7 answers undefined),
        // so the caller's own outcome decides, as openai's promise settles.
        if (body.empty && isJSON && this.apiPromise) {
          const settled = Promise.resolve(this.apiPromise).then(
            () => this.succeed(undefined),
            (error: unknown) => this.fail(error),
          );
          this.manager.track(settled);
          return;
        }
        if (body.error === undefined) this.finish('success', { response: body.value, json: body.json });
        else this.fail(body.error);
      },
      (error: unknown) => this.fail(error),
    );
    this.manager.track(reading);
    let state: 'waiting' | 'sent' | 'cancelled' = 'waiting';
    // highWaterMark 0: pulled only when someone reads, so a body answered through json() below is
    // never read into a stream that is then cancelled under it.
    const stream = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (state !== 'waiting') return;
          state = 'sent';
          let buffer: ArrayBuffer;
          try {
            buffer = await bytes;
          } catch (error) {
            controller.error(error);
            return;
          }
          if (buffer.byteLength > 0) controller.enqueue(new Uint8Array(buffer));
          controller.close();
        },
        cancel() {
          state = 'cancelled';
        },
      },
      { highWaterMark: 0 },
    );
    const copy = sameResponse(response, stream);
    if (isJSON) {
      // openai reads JSON with response.json(): answer it from the parse above (after the event
      // took its copy), and mark the body used, as reading it would.
      const json = async (): Promise<unknown> => {
        if (copy.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
        // Cloned (a tee took the stream) or being read raw: let fetch's own json() read its branch.
        if (stream.locked) return Response.prototype.json.call(copy);
        void stream.cancel().catch(() => undefined);
        await reading;
        const body = await parsed;
        if (body.error !== undefined) throw body.error;
        return body.empty ? JSON.parse('') : body.value;
      };
      Object.defineProperty(copy, 'json', { value: json, configurable: true, writable: true });
    }
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

  private finish(status: 'success' | 'failure', outcome: { response?: unknown; json?: string; error?: unknown; streamEnd?: StreamEnd; ttft?: number }): void {
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
      const response = outcome.response === undefined ? undefined : eventCopy(callType, outcome.response, outcome.json, scrubber);
      const usage = extractUsage(response);
      const error = outcome.error === undefined ? undefined : describeError(outcome.error);
      // Known secrets by value, then anything echoed under a credential's name (only in the error
      // message: request and response content is the user's and is never pattern-edited).
      // Every text field of the error, not only its message: a provider may put the offending
      // header or key in `param` or `code` too.
      if (error) {
        const fields = error as unknown as Record<string, unknown>;
        for (const key of Object.keys(fields)) {
          const value = fields[key];
          if (typeof value === 'string') fields[key] = scrubCredentialEchoes(scrubber.scrubString(value));
        }
      }
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
    } finally {
      this.closeCall();
    }
  }

  private internal(where: string, error: unknown): void {
    this.manager.reportInternalError(where, error, this.id);
  }
}

const DECODER = new TextDecoder();

/**
 * The response as the event keeps it: detached from the caller's object and scrubbed. A JSON body
 * with nothing to scrub is simply parsed again (native, and far cheaper than walking the object).
 */
function eventCopy(callType: CallType, response: unknown, json: string | undefined, scrubber: SecretScrubber): unknown {
  if (json !== undefined && !scrubber.mayAffect(json)) return summarizeResponse(callType, JSON.parse(json) as unknown);
  return scrubber.copy(summarizeResponse(callType, response));
}

interface ParsedBody {
  value?: unknown;
  /** The JSON text `value` was parsed from. */
  json?: string;
  /** What openai's own response.json() would throw at the caller (a SyntaxError). */
  error?: unknown;
  /** No bytes at all. */
  empty?: boolean;
}

/** A plain response body as openai reads it: JSON by content type, else the text. */
function parseBody(buffer: ArrayBuffer, isJSON: boolean): ParsedBody {
  const text = buffer.byteLength === 0 ? '' : DECODER.decode(buffer);
  // Empty: openai decides what that means (see watchPlainBody); fetch's json() would throw on it.
  if (text === '') return { value: undefined, empty: true };
  if (!isJSON) return { value: text };
  try {
    return { value: JSON.parse(text) as unknown, json: text };
  } catch (error) {
    return { error };
  }
}

/** `response` with another body: same status, headers, and what fetch sets that the constructor cannot. */
function sameResponse(response: Response, body: ReadableStream<Uint8Array>): Response {
  const copy = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  Object.defineProperty(copy, 'url', { value: response.url });
  Object.defineProperty(copy, 'redirected', { value: response.redirected });
  return copy;
}

/** Runs `then` a turn after `signal` aborts (at once-ish if it already has). */
function onAbort(signal: AbortSignal | undefined, then: () => void): void {
  if (!signal) return;
  const later = (): void => void setImmediate(then);
  if (signal.aborted) later();
  else signal.addEventListener('abort', later, { once: true });
}
