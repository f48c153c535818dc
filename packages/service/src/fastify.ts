// Fastify (tested with Fastify 5): a plugin that runs each request's hooks and route handler inside its callback
// scope, and the `/callbacks/list` route handler. Written against structural types only, so
// importing this package never loads Fastify.
//
// Why two hooks: Fastify hooks do not wrap the handler. The scope is entered in `onRequest` (whose
// `done()` continues into the next steps), but a request body is read from the socket's 'data'/'end'
// events, which run outside any scope, and the handler would be called from there. So the plugin
// keeps an AsyncResource created inside the scope and re-enters it to continue `preValidation` and
// `preHandler`: from there on, the handler and everything it starts (awaits, timers, streams) run in
// the scope. The request's own emitters are bound as well, for handlers that listen to `request.raw`.
import { AsyncResource } from 'node:async_hooks';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { withCallbackContext, type CallbackScope } from '@llm-callbacks/core';
import { bindEmitterToCurrentScope, scopeForRequest, type CallbackContextOptions } from './incoming-scope.js';
import { answerCallbacksList, type CallbacksListOptions } from './callbacks-list.js';

/** The parts of a Fastify request these handlers read. */
export interface FastifyRequestLike {
  readonly headers: IncomingHttpHeaders;
  readonly raw: IncomingMessage;
}

/** The parts of a Fastify reply these handlers use. */
export interface FastifyReplyLike {
  readonly raw: ServerResponse;
  code(statusCode: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

type HookDone = (error?: Error) => void;
type CallbackHook = (request: FastifyRequestLike, reply: FastifyReplyLike, done: HookDone) => void;

/** The part of a Fastify instance the plugin uses. */
export interface FastifyInstanceLike {
  addHook(name: 'onRequest' | 'preValidation' | 'preHandler', hook: CallbackHook): unknown;
}

/** Options of {@link fastifyCallbackContext}, given to `register`. */
export type FastifyCallbackContextOptions = CallbackContextOptions<FastifyRequestLike>;

const RESOURCE = Symbol('llm-callbacks.scope-resource');
type ScopedRequest = FastifyRequestLike & { [RESOURCE]?: AsyncResource };

/**
 * Fastify plugin: every wrapped LLM call made by hooks from `onRequest` on and by the route handler
 * honours the request's disable header. It applies to the whole instance (not only the plugin's
 * own encapsulation context): `await app.register(fastifyCallbackContext, { metadata })`.
 */
export const fastifyCallbackContext = Object.assign(
  function fastifyCallbackContext(instance: FastifyInstanceLike, options: FastifyCallbackContextOptions, done: (error?: Error) => void): void {
    instance.addHook('onRequest', (request, reply, next) => {
      let scope: CallbackScope;
      try {
        scope = scopeForRequest(request, request.headers, options ?? {});
      } catch (error) {
        next(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      withCallbackContext(scope, () => {
        (request as ScopedRequest)[RESOURCE] = new AsyncResource('llm-callbacks.fastify-request');
        bindEmitterToCurrentScope(request.raw);
        bindEmitterToCurrentScope(reply.raw);
        next();
      });
    });
    const reenter: CallbackHook = (request, _reply, next) => {
      const resource = (request as ScopedRequest)[RESOURCE];
      if (resource) resource.runInAsyncScope(next);
      else next();
    };
    instance.addHook('preValidation', reenter);
    instance.addHook('preHandler', reenter);
    done();
  },
  {
    // What the fastify-plugin helper sets: hooks apply to the whole instance, not a child context.
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: '@llm-callbacks/service',
    [Symbol.for('plugin-meta')]: { name: '@llm-callbacks/service', fastify: '>=4' },
  },
);

/**
 * Fastify route handler for `GET /callbacks/list` (LiteLLM's JSON). `authorize` is required to
 * answer; its errors go to Fastify's error handler:
 * `app.get('/callbacks/list', fastifyCallbacksList({ manager, authorize }))`.
 */
export function fastifyCallbacksList<Req extends FastifyRequestLike = FastifyRequestLike>(
  options: CallbacksListOptions<Req>,
): (request: Req, reply: FastifyReplyLike) => Promise<FastifyReplyLike> {
  return async (request, reply) => {
    const answer = await answerCallbacksList(request, options);
    reply.code(answer.status);
    for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
    return reply.send(JSON.stringify(answer.body));
  };
}
