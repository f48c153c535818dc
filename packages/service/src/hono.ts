// Hono: middleware that runs the rest of the request inside its callback scope, and the
// `/callbacks/list` route handler. Written against structural types only (Hono's context carries a
// fetch Request), so importing this package never loads Hono.
import { withCallbackContext } from '@llm-callbacks/core';
import { scopeForRequest, type CallbackContextOptions } from './incoming-scope.js';
import { answerCallbacksList, type CallbacksListOptions } from './callbacks-list.js';

/** The part of a Hono context these handlers read. */
export interface HonoContextLike {
  readonly req: { readonly raw: Request };
}

/**
 * Hono middleware: every wrapped LLM call made by the middleware and handlers after it (after
 * awaits, in timers, while streaming) honours the request's disable header.
 * `app.use(honoCallbackContext({ metadata: (c) => ({ userId: c.req.header('x-user-id') }) }))`.
 * The hook gets Hono's context; annotate it (`(c: Context) => ...`) for Hono's full type.
 */
export function honoCallbackContext<C extends HonoContextLike = HonoContextLike>(
  options: CallbackContextOptions<C> = {},
): (c: C, next: () => Promise<void>) => Promise<void> {
  // Hono reads bodies through promises (c.req.json()), which keep the async context, so no emitter
  // binding is needed here; a throw from the metadata hook rejects, which Hono's onError handles.
  return async (c, next) => withCallbackContext(scopeForRequest(c, c.req.raw.headers, options), next);
}

/**
 * Hono handler for `GET /callbacks/list` (LiteLLM's JSON). `authorize` gets the context and is
 * required to answer; its errors go to Hono's onError: `app.get('/callbacks/list', honoCallbacksList({ manager, authorize }))`.
 */
export function honoCallbacksList<C extends HonoContextLike = HonoContextLike>(options: CallbacksListOptions<C>): (c: C) => Promise<Response> {
  return async (c) => {
    const answer = await answerCallbacksList(c, options);
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: answer.headers });
  };
}
