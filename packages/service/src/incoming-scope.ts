// What every middleware shares: the callback scope an incoming request's handler runs in (a snapshot
// of its headers and the service's metadata), and the binding that keeps a node:http request's own
// events ('data', 'end', ...) inside that scope.
import { AsyncResource } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { CallbackScope } from '@llm-callbacks/core';

/** Metadata added to the event of every LLM call made while handling one request. */
export type RequestMetadata = Readonly<Record<string, unknown>>;

/** Options every middleware takes. `Req` is the framework's request object (Hono: the context). */
export interface CallbackContextOptions<Req> {
  /**
   * Metadata for the events of every LLM call made while handling the request, e.g.
   * `(req) => ({ userId: req.headers['x-user-id'] })`. Called once per request, before the handler.
   * A throw fails the request through the framework's own error path.
   */
  metadata?(req: Req): RequestMetadata | undefined;
  /**
   * Carry only the headers this manager reads (its `disableHeaders`) into the scope. Default: every
   * header of the request is carried, and the manager of each wrapped client picks its own disable
   * header(s) from them, which also works when one process has several managers.
   */
  manager?: { readonly disableHeaders: readonly string[] };
}

/** Header shapes the frameworks hand over: node:http's record, or a fetch `Headers` (Hono). */
export type IncomingHeaders = IncomingHttpHeaders | Headers;

/**
 * Builds the scope for one request. The headers are copied, so a handler that later changes its
 * request's headers does not change what its LLM calls decide.
 */
export function scopeForRequest<Req>(req: Req, headers: IncomingHeaders, options: CallbackContextOptions<Req>): CallbackScope {
  const metadata = options.metadata?.(req);
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
    throw new TypeError(
      `llm-callbacks: the metadata(req) hook must return an object such as { userId: 'u-1' } or undefined, got ${metadata === null ? 'null' : Array.isArray(metadata) ? 'an array' : typeof metadata}.`,
    );
  }
  const scope: { headers: Record<string, string | readonly string[]>; metadata?: RequestMetadata } = {
    headers: snapshotHeaders(headers, options.manager?.disableHeaders),
  };
  if (metadata !== undefined) scope.metadata = metadata;
  return scope;
}

function snapshotHeaders(headers: IncomingHeaders, only: readonly string[] | undefined): Record<string, string | readonly string[]> {
  const copy: Record<string, string | readonly string[]> = {};
  const keep = only?.map((name) => name.toLowerCase());
  if (isFetchHeaders(headers)) {
    // Headers iterates lower-cased names, repeated values joined with ', ' (a comma list, as the policy reads it).
    headers.forEach((value, name) => {
      if (!keep || keep.includes(name)) copy[name] = value;
    });
    return copy;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (!keep || keep.includes(lower)) copy[lower] = value;
  }
  return copy;
}

function isFetchHeaders(headers: IncomingHeaders): headers is Headers {
  return typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function';
}

/** Emitters already bound; a WeakSet rather than a marker property, which would change the object's shape. */
const bound = new WeakSet<EventEmitter>();

/**
 * Makes every event the emitter emits from now on run in the current async context (the request's
 * scope). Needed because Node emits a request's 'end' (and often 'data') in the socket's context,
 * not the handler's: without this, `req.on('end', () => openai.chat.completions.create(...))`, the
 * common way to read a body in plain node:http, would run outside the scope and ignore the header.
 * Only this one object is changed (its own `emit`), and only once.
 */
export function bindEmitterToCurrentScope(emitter: EventEmitter): void {
  if (bound.has(emitter)) return;
  bound.add(emitter);
  const resource = new AsyncResource('llm-callbacks.request');
  const emit = emitter.emit;
  // An own property shadows the prototype's emit; stream internals call this.emit, so they see it too.
  emitter.emit = function boundEmit(this: EventEmitter, ...args: Parameters<EventEmitter['emit']>): boolean {
    return resource.runInAsyncScope(emit, this, ...args);
  } as EventEmitter['emit'];
}
