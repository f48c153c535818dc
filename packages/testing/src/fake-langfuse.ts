// A fake Langfuse server (node:http only) for tests and the demo: `POST /api/public/ingestion` with
// Basic auth, answered like Langfuse answers it (207 `{ successes, errors }`, one entry per batch
// item, each item checked against the ingestion schema). It records every request and every item,
// merges what arrived into traces and observations, and can be told to fail: answer 500, hang, or
// answer 207 with an error for every item, for the next N requests or until told to recover; or
// answer slowly.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { validateIngestionEvent, validateIngestionRequest, type LangfuseIngestionEvent } from './langfuse-ingestion-schema.js';

export interface FakeLangfuseOptions {
  /** Defaults to 0 (any free port). */
  port?: number;
  /** Defaults to '127.0.0.1'. */
  host?: string;
  /** The key pair the server accepts (defaults 'pk-lf-fake' / 'sk-lf-fake'). */
  publicKey?: string;
  secretKey?: string;
}

/** How the server misbehaves: HTTP 500, never answering, or 207 with every item in `errors`. */
export type FakeLangfuseFailure = 'status-500' | 'hang' | '207-errors';

export interface RecordedLangfuseRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Parsed JSON body, or undefined. */
  body: unknown;
  receivedAt: number;
  /** The status answered (absent while hanging). */
  status?: number;
  /** Whether the Basic credentials matched. */
  authorized: boolean;
  /** The failure applied to this request, if any. */
  failure?: FakeLangfuseFailure;
}

export interface RejectedLangfuseItem {
  item: unknown;
  /** What was wrong, one line per problem, naming the field. */
  issues: string[];
}

/** A trace or observation as the server would store it: its create and update bodies merged in order. */
export type MergedLangfuseObject = Record<string, unknown> & { id: string };

export interface FakeLangfuseSummary {
  requests: number;
  failedRequests: number;
  accepted: number;
  rejected: number;
  duplicates: number;
  byType: Record<string, number>;
  traces: number;
  observations: number;
}

export interface FakeLangfuseServer {
  /** Base URL for the Langfuse client (`baseUrl`), e.g. 'http://127.0.0.1:PORT'. */
  readonly url: string;
  readonly port: number;
  readonly publicKey: string;
  readonly secretKey: string;
  /** `{ publicKey, secretKey, baseUrl }`, ready for `new Langfuse(...)` or `langfuseCallback(...)`. */
  readonly clientOptions: { publicKey: string; secretKey: string; baseUrl: string };
  /** The same as environment variables (LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY, LANGFUSE_BASEURL). */
  readonly env: Record<'LANGFUSE_PUBLIC_KEY' | 'LANGFUSE_SECRET_KEY' | 'LANGFUSE_BASEURL', string>;
  /** Every HTTP request, in arrival order. */
  readonly requests: RecordedLangfuseRequest[];
  /** Every accepted batch item, once per envelope id (a retried batch re-sends the same ids). */
  readonly items: LangfuseIngestionEvent[];
  /** Items that failed schema validation. */
  readonly rejected: RejectedLangfuseItem[];
  /**
   * The CallEvent ids that arrived: one entry per accepted generation (the llm-callbacks Langfuse
   * adapter uses the event id as the generation id), in arrival order, so a call logged twice
   * shows up twice.
   */
  receivedEventIds(): string[];
  /** Traces by id, create bodies merged in arrival order. */
  traces(): Map<string, MergedLangfuseObject>;
  /** Observations (generations, spans, events) by id, create and update bodies merged. */
  observations(): Map<string, MergedLangfuseObject & { type: string }>;
  /** Counts, for a demo's closing line. */
  summary(): FakeLangfuseSummary;
  /** One human-readable line per trace: name, user, model, usage, level. */
  describe(): string[];
  /** Misbehave for the next `count` ingestion requests (default: until `recover()`). */
  fail(failure: FakeLangfuseFailure, count?: number): void;
  /** Answer every ingestion request only after `ms` (a slow but working Langfuse); 0 to stop. */
  setLatency(ms: number): void;
  /** Answer normally again (hanging requests stay hung until the client gives up or close()). */
  recover(): void;
  /** Forget everything recorded and recover. */
  reset(): void;
  /** Stop listening and destroy open sockets (hanging requests included). */
  close(): Promise<void>;
}

const INGESTION_PATH = '/api/public/ingestion';
// Langfuse's ingestion route accepts bodies up to 4.5 MB.
const MAX_BODY_BYTES = 4.5 * 1024 * 1024;
const OBSERVATION_CREATE = new Set(['generation-create', 'span-create', 'event-create', 'observation-create']);
const OBSERVATION_UPDATE = new Set(['generation-update', 'span-update', 'observation-update']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function recordHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values !== undefined) out[name.toLowerCase()] = values.join(', ');
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, record: RecordedLangfuseRequest, status: number, payload: unknown): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(payload);
  record.status = status;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function merge(target: Map<string, MergedLangfuseObject>, key: string, body: Obj, extra: Obj = {}): void {
  const defined = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined && v !== null));
  target.set(key, { ...(target.get(key) ?? { id: key }), ...extra, ...defined, id: key });
}

export async function startFakeLangfuse(options: FakeLangfuseOptions = {}): Promise<FakeLangfuseServer> {
  const host = options.host ?? '127.0.0.1';
  const publicKey = options.publicKey ?? 'pk-lf-fake';
  const secretKey = options.secretKey ?? 'sk-lf-fake';
  const expectedAuth = `Basic ${Buffer.from(`${publicKey}:${secretKey}`).toString('base64')}`;
  const requests: RecordedLangfuseRequest[] = [];
  const items: LangfuseIngestionEvent[] = [];
  const rejected: RejectedLangfuseItem[] = [];
  const seenEnvelopes = new Set<string>();
  const sockets = new Set<Socket>();
  let duplicates = 0;
  let failure: { kind: FakeLangfuseFailure; remaining: number } | undefined;
  let latencyMs = 0;

  const takeFailure = (): FakeLangfuseFailure | undefined => {
    if (failure === undefined || failure.remaining <= 0) return undefined;
    failure.remaining -= 1;
    const kind = failure.kind;
    if (failure.remaining <= 0) failure = undefined;
    return kind;
  };

  const ingest = (res: ServerResponse, record: RecordedLangfuseRequest): void => {
    const problems = validateIngestionRequest(record.body);
    if (problems.length > 0) return sendJson(res, record, 400, { message: 'Invalid request data', errors: problems });
    const batch = (record.body as { batch: unknown[] }).batch;
    const applied = takeFailure();
    record.failure = applied;
    if (applied === 'hang') return; // the answer never comes; the client's timeout or close() ends it
    if (applied === 'status-500') return sendJson(res, record, 500, { message: 'Invalid request data', errors: ['simulated failure (fake Langfuse)'] });

    const successes: Array<{ id: string; status: number }> = [];
    const errors: Array<{ id: string; status: number; message?: string; error?: string }> = [];
    for (const item of batch) {
      const envelopeId = isObj(item) && typeof item['id'] === 'string' ? item['id'] : 'unknown';
      if (applied === '207-errors') {
        errors.push({ id: envelopeId, status: 500, error: 'Internal Server Error' });
        continue;
      }
      const issues = validateIngestionEvent(item);
      if (issues.length > 0) {
        rejected.push({ item, issues });
        errors.push({ id: envelopeId, status: 400, message: 'Invalid request data', error: issues.join('; ') });
        continue;
      }
      // Langfuse deduplicates by envelope id: a retried batch is accepted again but stored once.
      if (seenEnvelopes.has(envelopeId)) duplicates += 1;
      else {
        seenEnvelopes.add(envelopeId);
        items.push(item as LangfuseIngestionEvent);
      }
      successes.push({ id: envelopeId, status: 201 });
    }
    sendJson(res, record, 207, { successes, errors });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake-langfuse.local');
    const headers = recordHeaders(req);
    const record: RecordedLangfuseRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      headers,
      body: undefined,
      receivedAt: Date.now(),
      authorized: headers['authorization'] === expectedAuth,
    };
    requests.push(record);
    const raw = await readBody(req).catch(() => undefined);
    if (raw === undefined) return sendJson(res, record, 413, { message: 'Request body too large (limit 4.5 MB)' });
    if (url.pathname === '/api/public/health') return sendJson(res, record, 200, { status: 'OK', version: 'fake' });
    if (url.pathname !== INGESTION_PATH) return sendJson(res, record, 404, { message: `Not found: ${url.pathname}` });
    if (record.method !== 'POST') return sendJson(res, record, 405, { error: 'MethodNotAllowedError', message: 'Method not allowed' });
    if (!record.authorized) {
      return sendJson(res, record, 401, {
        error: 'UnauthorizedError',
        message: 'Invalid credentials. Confirm that you have configured the correct host and key pair (Basic auth: publicKey:secretKey).',
      });
    }
    try {
      record.body = raw.trim() === '' ? undefined : (JSON.parse(raw) as unknown);
    } catch {
      return sendJson(res, record, 400, { message: 'Invalid request data', errors: ['body is not valid JSON'] });
    }
    if (latencyMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, latencyMs));
      if (res.destroyed) return;
    }
    ingest(res, record);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;

  const traces = (): Map<string, MergedLangfuseObject> => {
    const out = new Map<string, MergedLangfuseObject>();
    for (const item of items) {
      if (item.type === 'trace-create' && typeof item.body['id'] === 'string') merge(out, item.body['id'], item.body);
    }
    return out;
  };
  const observations = (): Map<string, MergedLangfuseObject & { type: string }> => {
    const out = new Map<string, MergedLangfuseObject>();
    for (const item of items) {
      const bodyId = item.body['id'];
      if (typeof bodyId !== 'string') continue;
      if (OBSERVATION_CREATE.has(item.type)) merge(out, bodyId, item.body, { type: item.type.replace('-create', '').toUpperCase() });
      else if (OBSERVATION_UPDATE.has(item.type)) merge(out, bodyId, item.body);
    }
    return out as Map<string, MergedLangfuseObject & { type: string }>;
  };

  return {
    url,
    port,
    publicKey,
    secretKey,
    clientOptions: { publicKey, secretKey, baseUrl: url },
    env: { LANGFUSE_PUBLIC_KEY: publicKey, LANGFUSE_SECRET_KEY: secretKey, LANGFUSE_BASEURL: url },
    requests,
    items,
    rejected,
    receivedEventIds: () => items.filter((i) => i.type === 'generation-create' && typeof i.body['id'] === 'string').map((i) => i.body['id'] as string),
    traces,
    observations,
    summary: () => {
      const byType: Record<string, number> = {};
      for (const item of items) byType[item.type] = (byType[item.type] ?? 0) + 1;
      return {
        requests: requests.length,
        failedRequests: requests.filter((r) => r.status === undefined || r.status >= 400 || r.failure !== undefined).length,
        accepted: items.length,
        rejected: rejected.length,
        duplicates,
        byType,
        traces: traces().size,
        observations: observations().size,
      };
    },
    describe: () => {
      const byTrace = new Map<string, Array<MergedLangfuseObject & { type: string }>>();
      for (const o of observations().values()) {
        const key = typeof o['traceId'] === 'string' ? o['traceId'] : '';
        byTrace.set(key, [...(byTrace.get(key) ?? []), o]);
      }
      return [...traces().values()].map((t) => {
        const parts = [`trace ${t.id}`, `"${String(t['name'] ?? '')}"`];
        if (t['userId'] !== undefined) parts.push(`user=${String(t['userId'])}`);
        if (t['sessionId'] !== undefined) parts.push(`session=${String(t['sessionId'])}`);
        for (const o of byTrace.get(t.id) ?? []) {
          const u = isObj(o['usageDetails']) ? o['usageDetails'] : isObj(o['usage']) ? o['usage'] : undefined;
          const usage = u ? ` tokens ${String(u['input'] ?? '?')}/${String(u['output'] ?? '?')}` : '';
          parts.push(
            `${o.type.toLowerCase()} ${String(o['model'] ?? '')}${usage}${o['level'] === 'ERROR' ? ` ERROR ${String(o['statusMessage'] ?? '')}` : ''}`,
          );
        }
        return parts.join('  ');
      });
    },
    fail: (kind, count = Number.POSITIVE_INFINITY) => {
      failure = { kind, remaining: count };
    },
    setLatency: (ms) => {
      latencyMs = Math.max(0, ms);
    },
    recover: () => {
      failure = undefined;
    },
    reset: () => {
      latencyMs = 0;
      requests.length = 0;
      items.length = 0;
      rejected.length = 0;
      seenEnvelopes.clear();
      duplicates = 0;
      failure = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
