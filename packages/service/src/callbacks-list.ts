// GET /callbacks/list, framework-neutral: the same JSON as LiteLLM proxy's endpoint
// ({ success, failure, success_and_failure }), behind the service's own authorization check. Each
// framework file only turns the answer computed here into its response.
import type { CallbackList } from '@llm-callbacks/core';

/** Options of every `/callbacks/list` handler. `Req` is the framework's request object (Hono: the context). */
export interface CallbacksListOptions<Req> {
  /** The manager whose callbacks are listed. */
  manager: { list(): CallbackList };
  /**
   * The service's own check of who may see the list (LiteLLM requires a proxy key for it): resolve
   * true to answer, false to refuse with 403. Required: without it every request is refused, so the
   * list is never exposed by accident. For a public list, pass `() => true` deliberately.
   * A throw or rejection goes to the framework's error handling; the list is not sent.
   */
  authorize?(req: Req): boolean | Promise<boolean>;
}

/** An OpenAI/LiteLLM-style error body. */
export interface CallbacksListError {
  error: { message: string; type: 'auth_error'; param: null; code: '403' };
}

/** What a `/callbacks/list` handler answers. */
export interface CallbacksListResponse {
  status: 200 | 403;
  headers: Readonly<Record<string, string>>;
  body: CallbackList | CallbacksListError;
}

export const NOT_CONFIGURED_MESSAGE =
  'GET /callbacks/list is refused because no authorize hook is configured, so that the list of logging callbacks is never exposed by accident. ' +
  'Pass authorize: (req) => boolean | Promise<boolean> to the handler (for example, check your admin API key), or authorize: () => true to make the list public.';

export const NOT_AUTHORIZED_MESSAGE = 'Not authorized to list callbacks.';

/**
 * Decides the answer to one `GET /callbacks/list` request. Rejects only when `authorize` throws or
 * rejects (the list is not sent then).
 */
export async function answerCallbacksList<Req>(req: Req, options: CallbacksListOptions<Req>): Promise<CallbacksListResponse> {
  if (typeof options.authorize !== 'function') return refuse(NOT_CONFIGURED_MESSAGE);
  // Only a real `true` opens the list: a truthy string or object from a sloppy hook must not.
  const allowed = (await options.authorize(req)) === true;
  if (!allowed) return refuse(NOT_AUTHORIZED_MESSAGE);
  const list = options.manager.list();
  return {
    status: 200,
    headers: jsonHeaders(),
    body: { success: [...list.success], failure: [...list.failure], success_and_failure: [...list.success_and_failure] },
  };
}

function refuse(message: string): CallbacksListResponse {
  return { status: 403, headers: jsonHeaders(), body: { error: { message, type: 'auth_error', param: null, code: '403' } } };
}

/** A fresh object each time: some servers (Hono's node adapter) add headers to the one they are given. */
function jsonHeaders(): Record<string, string> {
  return { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
}
