// The same small service on each framework, on 127.0.0.1 port 0: POST /chat reads its body the
// framework's usual way and makes two wrapped LLM calls; GET /callbacks/list (authorized by the
// x-admin-key header), /open/callbacks/list (no authorize hook) and /broken/callbacks/list (a hook
// that throws).
import { AsyncResource } from 'node:async_hooks';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request } from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { Hono, type Context } from 'hono';
import { serve } from '@hono/node-server';
import {
  callbackContextHandler,
  callbacksListHandler,
  expressCallbackContext,
  expressCallbacksList,
  fastifyCallbackContext,
  fastifyCallbacksList,
  honoCallbackContext,
  honoCallbacksList,
} from '../src/index.js';
import { twoCalls, type Fixture } from './helpers.js';

export const FRAMEWORKS = ['node:http', 'express', 'fastify', 'hono'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

export interface Service {
  readonly url: string;
  /** Errors the service's own error reporting saw (authorize / metadata hooks that threw). */
  readonly errors: unknown[];
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Awaited by each /chat handler before its LLM calls (a barrier for concurrency tests). */
  wait: () => Promise<void>;
}

const ADMIN_KEY = 'admin-secret';
/** Created at module load, outside every request's scope. */
const OUTSIDE_ANY_REQUEST = new AsyncResource('test.outside-any-request');
const THROWING_AUTHORIZE = (): boolean => {
  throw new Error('auth backend down');
};

function requestIdOf(value: string | string[] | undefined | null): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The metadata hook used by every framework; `boom` makes it throw. */
function metadataFor(requestId: string | undefined): { requestId: string | undefined } {
  if (requestId === 'boom') throw new Error('metadata hook failed');
  return { requestId };
}

export async function startService(framework: Framework, fixture: Fixture, options: ServiceOptions): Promise<Service> {
  switch (framework) {
    case 'node:http':
      return startNode(fixture, options);
    case 'express':
      return startExpress(fixture, options);
    case 'fastify':
      return startFastify(fixture, options);
    case 'hono':
      return startHono(fixture, options);
  }
}

async function startNode(fixture: Fixture, options: ServiceOptions): Promise<Service> {
  const errors: unknown[] = [];
  const onError = (error: unknown): void => {
    errors.push(error);
  };
  const list = callbacksListHandler({ manager: fixture.manager, authorize: (req) => req.headers['x-admin-key'] === ADMIN_KEY });
  const open = callbacksListHandler({ manager: fixture.manager });
  const broken = callbacksListHandler({ manager: fixture.manager, authorize: THROWING_AUTHORIZE, onError });
  const server = createServer(
    callbackContextHandler(
      (req, res) => {
        if (req.url === '/callbacks/list') return list(req, res);
        if (req.url === '/open/callbacks/list') return open(req, res);
        if (req.url === '/broken/callbacks/list') return broken(req, res);
        // The classic node:http body reader: the LLM calls start in the 'end' listener, which Node
        // runs in the socket's async context unless the middleware bound the request's events.
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (body += chunk));
        req.on('end', () => {
          twoCalls(fixture.openai, options.wait).then(
            (result) => {
              res.writeHead(200, { 'content-type': 'application/json' });
              res.end(JSON.stringify({ ...result, body: JSON.parse(body) as unknown }));
            },
            (error: unknown) => {
              res.writeHead(500);
              res.end(String(error));
            },
          );
        });
        return undefined;
      },
      { metadata: (req: IncomingMessage) => metadataFor(requestIdOf(req.headers['x-request-id'])), onError },
    ),
  );
  return listen(server, errors);
}

async function startExpress(fixture: Fixture, options: ServiceOptions): Promise<Service> {
  const errors: unknown[] = [];
  const app = express();
  app.use(expressCallbackContext({ metadata: (req: Request) => metadataFor(req.get('x-request-id')) }));
  // After the middleware on purpose: Express's body parser reads the body from stream events.
  app.use(express.json());
  app.get('/callbacks/list', expressCallbacksList({ manager: fixture.manager, authorize: (req: Request) => req.get('x-admin-key') === ADMIN_KEY }));
  app.get('/open/callbacks/list', expressCallbacksList({ manager: fixture.manager }));
  app.get('/broken/callbacks/list', expressCallbacksList({ manager: fixture.manager, authorize: THROWING_AUTHORIZE }));
  app.post('/chat', async (req, res) => {
    const result = await twoCalls(fixture.openai, options.wait);
    res.json({ ...result, body: req.body as unknown });
  });
  app.use((error: unknown, _req: Request, res: express.Response, _next: express.NextFunction) => {
    errors.push(error);
    res.status(500).json({ error: 'internal' });
  });
  return listen(createServer(app), errors);
}

async function startFastify(fixture: Fixture, options: ServiceOptions): Promise<Service> {
  const errors: unknown[] = [];
  const app = Fastify();
  await app.register(fastifyCallbackContext, {
    metadata: (request: FastifyRequest) => metadataFor(requestIdOf(request.headers['x-request-id'])),
  });
  // A hook that continues from a context of its own, as a callback from a connection pool does: the
  // plugin's preHandler re-entry must bring the handler back into the request's scope.
  app.addHook('preValidation', (_request, _reply, done) => {
    OUTSIDE_ANY_REQUEST.runInAsyncScope(done);
  });
  app.setErrorHandler((error, _request, reply) => {
    errors.push(error);
    void reply.code(500).send({ error: 'internal' });
  });
  app.get('/callbacks/list', fastifyCallbacksList({ manager: fixture.manager, authorize: (request) => request.headers['x-admin-key'] === ADMIN_KEY }));
  app.get('/open/callbacks/list', fastifyCallbacksList({ manager: fixture.manager }));
  app.get('/broken/callbacks/list', fastifyCallbacksList({ manager: fixture.manager, authorize: THROWING_AUTHORIZE }));
  app.post('/chat', async (request) => {
    const result = await twoCalls(fixture.openai, options.wait);
    return { ...result, body: request.body };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, errors, close: () => app.close() };
}

async function startHono(fixture: Fixture, options: ServiceOptions): Promise<Service> {
  const errors: unknown[] = [];
  const app = new Hono();
  app.use(honoCallbackContext({ metadata: (c: Context) => metadataFor(c.req.header('x-request-id')) }));
  app.onError((error, c) => {
    errors.push(error);
    return c.json({ error: 'internal' }, 500);
  });
  app.get('/callbacks/list', honoCallbacksList({ manager: fixture.manager, authorize: (c: Context) => c.req.header('x-admin-key') === ADMIN_KEY }));
  app.get('/open/callbacks/list', honoCallbacksList({ manager: fixture.manager }));
  app.get('/broken/callbacks/list', honoCallbacksList({ manager: fixture.manager, authorize: THROWING_AUTHORIZE }));
  app.post('/chat', async (c) => {
    const body: unknown = await c.req.json();
    const result = await twoCalls(fixture.openai, options.wait);
    return c.json({ ...result, body });
  });
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started as Server));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, errors, close: () => closeServer(server) };
}

async function listen(server: Server, errors: unknown[]): Promise<Service> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, errors, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export { ADMIN_KEY };
