// node:http: a wrapper that runs a `(req, res) => void` handler inside the request's callback scope,
// and the `/callbacks/list` handler.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { withCallbackContext, type CallbackScope } from '@llm-callbacks/core';
import { bindEmitterToCurrentScope, scopeForRequest, type CallbackContextOptions } from './incoming-scope.js';
import { answerCallbacksList, type CallbacksListOptions } from './callbacks-list.js';

/** A node:http request handler, as `http.createServer(handler)` takes it. */
export type NodeRequestHandler<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse> = (req: Req, res: Res) => unknown;

/**
 * Wraps a node:http handler so that every wrapped LLM call it makes (after awaits, in timers, in
 * streams, and in the request's own 'data'/'end' listeners) honours the request's disable header.
 *
 * ```ts
 * http.createServer(callbackContextHandler((req, res) => handle(req, res), { metadata: (req) => ({ userId: req.headers['x-user-id'] }) }));
 * ```
 */
export function callbackContextHandler<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse>(
  handler: NodeRequestHandler<Req, Res>,
  options: NodeCallbackContextOptions<Req> = {},
): (req: Req, res: Res) => unknown {
  return (req, res) => {
    let scope: CallbackScope;
    try {
      scope = scopeForRequest(req, req.headers, options);
    } catch (error) {
      // node:http has no error path of its own: a throw here would be an uncaught exception.
      (options.onError ?? defaultContextError)(error, req);
      respondError(res, 500, 'The request could not be prepared (the metadata hook failed).');
      return undefined;
    }
    return withCallbackContext(scope, () => {
      bindEmitterToCurrentScope(req);
      bindEmitterToCurrentScope(res);
      return handler(req, res);
    });
  };
}

/** Options of {@link callbackContextHandler}. */
export interface NodeCallbackContextOptions<Req extends IncomingMessage = IncomingMessage> extends CallbackContextOptions<Req> {
  /** Told when the metadata hook throws (the request is then answered 500, the handler not called). Default: `console.error`. */
  onError?(error: unknown, req: Req): void;
}

/** Options of the node:http `/callbacks/list` handler. */
export interface NodeCallbacksListOptions<Req extends IncomingMessage = IncomingMessage> extends CallbacksListOptions<Req> {
  /**
   * Told when `authorize` throws or rejects (the request is then answered 500 without the list).
   * Default: `console.error`.
   */
  onError?(error: unknown, req: Req): void;
}

/**
 * Answers `GET /callbacks/list` like LiteLLM proxy. Route to it yourself:
 * `if (req.url === '/callbacks/list') return listHandler(req, res);`. Other methods get 405.
 */
export function callbacksListHandler<Req extends IncomingMessage = IncomingMessage>(
  options: NodeCallbacksListOptions<Req>,
): (req: Req, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' });
      res.end(
        JSON.stringify({
          error: { message: `Method ${String(req.method)} not allowed on /callbacks/list; use GET.`, type: 'invalid_request_error', param: null, code: '405' },
        }),
      );
      return;
    }
    try {
      const answer = await answerCallbacksList(req, options);
      const text = JSON.stringify(answer.body);
      res.writeHead(answer.status, { ...answer.headers, 'content-length': String(Buffer.byteLength(text)) });
      res.end(req.method === 'HEAD' ? undefined : text);
    } catch (error) {
      (options.onError ?? defaultListError)(error, req);
      respondError(res, 500, 'The authorization check for /callbacks/list failed.');
    }
  };
}

function respondError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error: { message, type: 'internal_error', param: null, code: String(status) } }));
}

function defaultListError(error: unknown): void {
  console.error('[llm-callbacks] the authorize hook of /callbacks/list failed:', error);
}

function defaultContextError(error: unknown): void {
  console.error('[llm-callbacks] the metadata hook of callbackContextHandler failed:', error);
}
