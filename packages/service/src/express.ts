// Express (tested with Express 5): middleware that runs the rest of the request inside its callback scope, and the
// `/callbacks/list` route handler. Written against node:http's types only (an Express request is an
// IncomingMessage), so importing this package never loads Express.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { withCallbackContext, type CallbackScope } from '@llm-callbacks/core';
import { bindEmitterToCurrentScope, scopeForRequest, type CallbackContextOptions } from './incoming-scope.js';
import { answerCallbacksList, type CallbacksListOptions } from './callbacks-list.js';

/** Express's `next`, as far as these handlers use it. */
export type ExpressNext = (error?: unknown) => void;

/**
 * Express middleware: every wrapped LLM call made by the middleware and routes after it honours the
 * request's disable header. Register it before your routes: `app.use(expressCallbackContext())`.
 * Annotate the hook's parameter to get Express's request type: `metadata: (req: Request) => ...`.
 */
export function expressCallbackContext<Req extends IncomingMessage = IncomingMessage>(
  options: CallbackContextOptions<Req> = {},
): (req: Req, res: ServerResponse, next: ExpressNext) => void {
  return (req, res, next) => {
    let scope: CallbackScope;
    try {
      scope = scopeForRequest(req, req.headers, options);
    } catch (error) {
      next(error);
      return;
    }
    withCallbackContext(scope, () => {
      // Express's next() runs the following middleware synchronously, so they all start in the scope;
      // the bound emitters keep body readers that use 'data'/'end' listeners in it too.
      bindEmitterToCurrentScope(req);
      bindEmitterToCurrentScope(res);
      next();
    });
  };
}

/**
 * Express handler for `GET /callbacks/list` (LiteLLM's JSON). `authorize` is required to answer;
 * its errors go to `next(error)`: `app.get('/callbacks/list', expressCallbacksList({ manager, authorize }))`.
 */
export function expressCallbacksList<Req extends IncomingMessage = IncomingMessage>(
  options: CallbacksListOptions<Req>,
): (req: Req, res: ServerResponse, next: ExpressNext) => void {
  return (req, res, next) => {
    answerCallbacksList(req, options).then((answer) => {
      res.writeHead(answer.status, answer.headers);
      res.end(JSON.stringify(answer.body));
    }, next);
  };
}
