// A fake Datadog agent (node:http only, plus @msgpack/msgpack to read traces) for tests and the demo.
// It answers what dd-trace 5.x asks a local agent for: `GET /info` (listing `/evp_proxy/v2/`, so
// dd-trace keeps LLM Observability in agent mode and never goes agentless), APM traces as msgpack
// (`PUT /v0.4/traces`, `/v0.5/traces`), LLM Observability spans through the EVP proxy
// (`POST /evp_proxy/v2/api/v2/llmobs`, JSON, `X-Datadog-EVP-Subdomain: llmobs-intake`), and anything
// else dd-trace may call (telemetry, remote config, stats) harmlessly. It records everything, and it
// checks every LLM Observability span against Datadog's documented span schema, answering 400 for a
// payload the real intake would refuse, so an adapter that sends malformed spans fails its tests.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { decode } from '@msgpack/msgpack';

/** Every request the agent received, in arrival order. */
export interface AgentRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Size of the body in bytes. */
  bytes: number;
  status: number;
  receivedAt: number;
}

/** One LLM Observability span event, as dd-trace sends it (see `validateLlmObsSpan` for the rules). */
export type LlmObsSpan = Record<string, unknown> & {
  span_id: string;
  trace_id: string;
  parent_id: string;
  name: string;
  start_ns: number;
  duration: number;
  status?: 'ok' | 'error';
  meta: Record<string, unknown>;
  metrics?: Record<string, number>;
  tags?: string[];
  session_id?: string;
};

export interface ReceivedLlmObsSpan {
  span: LlmObsSpan;
  receivedAt: number;
  /** Tags as a map (`key:value` split on the first colon; a repeated key keeps the last value). */
  tags: Record<string, string>;
  /** `meta.metadata.event_id`, which the llm-callbacks adapter sets to the CallEvent's id. */
  eventId?: string;
}

/** A payload the agent answered with 400, and why. */
export interface RejectedPayload {
  path: string;
  problems: string[];
  body: unknown;
  receivedAt: number;
}

/** An APM span decoded from `/v0.4/traces` or `/v0.5/traces`. Ids are decimal strings (64-bit). */
export interface ApmSpan {
  trace_id: string;
  span_id: string;
  parent_id: string;
  name: string;
  resource: string;
  service: string;
  type?: string;
  error: number;
  start: bigint;
  duration: bigint;
  meta: Record<string, string>;
  metrics: Record<string, number>;
}

export interface FakeDatadogAgentSummary {
  requests: number;
  llmObsSpans: number;
  apmSpans: number;
  rejectedPayloads: number;
  /** Each accepted LLM Observability span in one line: name, status, model, tokens, event id. */
  lines: string[];
}

export interface FakeDatadogAgent {
  /** Base URL for dd-trace's `url` option, e.g. 'http://127.0.0.1:PORT'. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly requests: AgentRequest[];
  /** Accepted LLM Observability spans. */
  readonly llmObsSpans: ReceivedLlmObsSpan[];
  readonly apmSpans: ApmSpan[];
  readonly rejected: RejectedPayload[];
  /** Ids of the CallEvents whose LLM Observability span was accepted. */
  eventIds(): string[];
  /** Resolves when `predicate` holds (checked on every arrival), or rejects after `timeoutMs`. */
  waitFor(predicate: (agent: FakeDatadogAgent) => boolean, timeoutMs?: number): Promise<void>;
  summary(): FakeDatadogAgentSummary;
  /** Forget what was received. */
  reset(): void;
  /** Stop listening and destroy open sockets (dd-trace keeps connections alive). Idempotent. */
  close(): Promise<void>;
}

export interface FakeDatadogAgentOptions {
  /** Defaults to 0 (a free port). */
  port?: number;
  /** Defaults to '127.0.0.1'. */
  host?: string;
  /** Answer every LLM Observability payload with this status instead of checking it (e.g. 500, 503). */
  llmObsStatus?: number;
}

const EVP_SUBDOMAIN_HEADER = 'x-datadog-evp-subdomain';
const LLMOBS_PATH = '/evp_proxy/v2/api/v2/llmobs';
const SPAN_KINDS = new Set(['agent', 'workflow', 'llm', 'tool', 'task', 'embedding', 'retrieval']);
// A root span (parent_id "undefined") must be one of these kinds; the intake refused LiteLLM's root
// spans of other kinds (BerriAI/litellm#18394, fixed by #18418: "Non llm/workflow/agent kinds
// cannot be root spans").
const ROOT_KINDS = new Set(['llm', 'workflow', 'agent']);
const DAY_NS = 24 * 60 * 60 * 1e9;
// Datadog's application naming guidelines for ml_app: lowercase; alphanumerics, '_', '-', ':', '.',
// '/'; at most 193 characters; no contiguous or trailing underscores.
const ML_APP_PATTERN = /^[\p{Ll}\p{Lo}\p{N}_\-:./]{1,193}$/u;

const INFO = {
  version: '7.99.0-fake',
  endpoints: [
    '/v0.3/traces',
    '/v0.4/traces',
    '/v0.5/traces',
    '/v0.6/stats',
    '/telemetry/proxy/',
    '/evp_proxy/v2/',
    '/evp_proxy/v2',
    '/evp_proxy/v3/',
    '/evp_proxy/v4/',
  ],
  client_drop_p0s: false,
  span_meta_structs: true,
  feature_flags: [],
  config: { default_env: 'none', statsd_port: 8125, receiver_port: 8126 },
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const nonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** Problems with an ml_app name, per Datadog's application naming guidelines (empty when valid). */
export function mlAppProblems(name: string): string[] {
  const problems: string[] = [];
  if (!ML_APP_PATTERN.test(name)) problems.push(`ml_app ${JSON.stringify(name)} must be 1-193 lowercase characters: letters, digits, '_', '-', ':', '.', '/'`);
  if (name.includes('__') || name.endsWith('_')) problems.push(`ml_app ${JSON.stringify(name)} may not contain contiguous or trailing underscores`);
  return problems;
}

function checkMessages(where: string, messages: unknown, problems: string[]): void {
  if (!Array.isArray(messages)) {
    problems.push(`${where}.messages must be an array of { content, role }`);
    return;
  }
  messages.forEach((message, i) => {
    if (!isRecord(message)) return void problems.push(`${where}.messages[${i}] must be an object`);
    if (typeof message['content'] !== 'string') problems.push(`${where}.messages[${i}].content is required and must be a string`);
    if (message['role'] !== undefined && typeof message['role'] !== 'string') problems.push(`${where}.messages[${i}].role must be a string`);
  });
}

function checkIo(where: string, io: unknown, problems: string[]): void {
  if (io === undefined) return;
  if (!isRecord(io)) return void problems.push(`${where} must be an object`);
  if (io['value'] !== undefined && typeof io['value'] !== 'string') problems.push(`${where}.value must be a string`);
  if (io['messages'] !== undefined) checkMessages(where, io['messages'], problems);
  if (io['documents'] !== undefined && !Array.isArray(io['documents'])) problems.push(`${where}.documents must be an array`);
}

/**
 * Checks one LLM Observability span against Datadog's documented span schema
 * (docs.datadoghq.com/llm_observability/instrumentation/api: Span, Meta, IO, Message, Error, Metrics,
 * Tag) in the form the SDKs send it through the agent (`meta["span.kind"]`, flat `meta["error.*"]`;
 * the documented `meta.kind` and `meta.error` object are accepted too). Returns the problems, empty
 * when the intake would accept the span.
 */
export function validateLlmObsSpan(span: unknown, now: number = Date.now()): string[] {
  const problems: string[] = [];
  if (!isRecord(span)) return ['a span must be an object'];
  for (const field of ['span_id', 'trace_id', 'name'] as const) {
    if (!nonEmptyString(span[field])) problems.push(`${field} is required and must be a non-empty string`);
  }
  if (!nonEmptyString(span['parent_id'])) problems.push('parent_id is required and must be a string ("undefined" for a root span)');

  const start = span['start_ns'];
  if (typeof start !== 'number' || !Number.isInteger(start) || start < 0) {
    problems.push('start_ns is required and must be a non-negative integer (nanoseconds since the epoch)');
  } else if (start < now * 1e6 - DAY_NS) {
    problems.push(`start_ns ${start} is more than 24 hours old (or not in nanoseconds): the intake accepts no older spans`);
  }
  const duration = span['duration'];
  if (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0)
    problems.push('duration is required and must be a non-negative number of nanoseconds');

  const status = span['status'];
  if (status !== undefined && status !== 'ok' && status !== 'error') problems.push(`status must be "ok" or "error", got ${JSON.stringify(status)}`);

  const meta = span['meta'];
  if (!isRecord(meta)) {
    problems.push('meta is required and must be an object');
  } else {
    const kind = meta['span.kind'] ?? meta['kind'];
    if (typeof kind !== 'string' || !SPAN_KINDS.has(kind)) {
      problems.push(`meta.kind must be one of ${[...SPAN_KINDS].join(', ')}, got ${JSON.stringify(kind)}`);
    } else if (span['parent_id'] === 'undefined' && !ROOT_KINDS.has(kind)) {
      problems.push(`a root span (parent_id "undefined") must be of kind llm, workflow or agent, got ${kind}`);
    }
    if (kind === 'llm' || kind === 'embedding') {
      if (!nonEmptyString(meta['model_name'])) problems.push('meta.model_name must be a non-empty string on llm spans');
      if (!nonEmptyString(meta['model_provider'])) problems.push('meta.model_provider must be a non-empty string on llm spans');
    }
    checkIo('meta.input', meta['input'], problems);
    checkIo('meta.output', meta['output'], problems);
    if (meta['metadata'] !== undefined && !isRecord(meta['metadata'])) problems.push('meta.metadata must be an object');

    // Error fields: strings, never null (LiteLLM's failure spans carried null error fields and
    // were refused). A span with status "error" must say what the error was.
    const nested = isRecord(meta['error']) ? meta['error'] : undefined;
    if (meta['error'] !== undefined && nested === undefined) problems.push('meta.error must be an object { message, stack, type }');
    const errorField = (name: 'message' | 'type' | 'stack') => (`error.${name}` in meta ? meta[`error.${name}`] : nested?.[name]);
    for (const name of ['message', 'type', 'stack'] as const) {
      const present = `error.${name}` in meta || (nested !== undefined && name in nested);
      const value = errorField(name);
      if (present && typeof value !== 'string') problems.push(`meta["error.${name}"] must be a string, got ${value === null ? 'null' : typeof value}`);
    }
    if (status === 'error') {
      if (!nonEmptyString(errorField('message'))) problems.push('a span with status "error" needs meta["error.message"]');
      if (!nonEmptyString(errorField('type'))) problems.push('a span with status "error" needs meta["error.type"]');
    }
  }

  const metrics = span['metrics'];
  if (metrics !== undefined) {
    if (!isRecord(metrics)) problems.push('metrics must be an object of numbers');
    else
      for (const [key, value] of Object.entries(metrics)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) problems.push(`metrics.${key} must be a finite number, got ${JSON.stringify(value)}`);
        else if (/_tokens$/.test(key) && value < 0) problems.push(`metrics.${key} must not be negative`);
      }
  }

  const tags = span['tags'];
  if (tags !== undefined) {
    if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string')) problems.push('tags must be an array of "key:value" strings');
  }
  const mlApp = tagMap(Array.isArray(tags) ? tags : [])['ml_app'];
  if (mlApp !== undefined) problems.push(...mlAppProblems(mlApp));
  else if (span['ml_app'] === undefined) problems.push('ml_app is required (as the "ml_app:<name>" tag)');

  if (span['session_id'] !== undefined && typeof span['session_id'] !== 'string') problems.push('session_id must be a string');
  return problems;
}

/** Checks a whole EVP payload: an event `{ "_dd.stage", event_type: "span", spans }` or a list of them. */
export function validateLlmObsPayload(body: unknown, now: number = Date.now()): { spans: LlmObsSpan[]; problems: string[] } {
  const events = Array.isArray(body) ? body : [body];
  const spans: LlmObsSpan[] = [];
  const problems: string[] = [];
  if (events.length === 0) problems.push('the payload holds no events');
  events.forEach((event, i) => {
    if (!isRecord(event)) return void problems.push(`event ${i}: must be an object`);
    if (event['event_type'] !== 'span') problems.push(`event ${i}: event_type must be "span"`);
    if (!Array.isArray(event['spans']) || event['spans'].length === 0) return void problems.push(`event ${i}: spans must be a non-empty array`);
    event['spans'].forEach((span: unknown, j: number) => {
      const found = validateLlmObsSpan(span, now);
      if (found.length > 0) problems.push(...found.map((p) => `event ${i} span ${j}: ${p}`));
      else spans.push(span as LlmObsSpan);
    });
  });
  return { spans, problems };
}

function tagMap(tags: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of tags) {
    if (typeof tag !== 'string') continue;
    const at = tag.indexOf(':');
    if (at > 0) out[tag.slice(0, at)] = tag.slice(at + 1);
  }
  return out;
}

const idString = (value: unknown): string => (typeof value === 'bigint' || typeof value === 'number' ? String(value) : '');

function asApmSpan(raw: Record<string, unknown>): ApmSpan {
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(isRecord(raw['meta']) ? raw['meta'] : {})) meta[k] = String(v);
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(isRecord(raw['metrics']) ? raw['metrics'] : {})) metrics[k] = Number(v);
  return {
    trace_id: idString(raw['trace_id']),
    span_id: idString(raw['span_id']),
    parent_id: idString(raw['parent_id']),
    name: String(raw['name'] ?? ''),
    resource: String(raw['resource'] ?? ''),
    service: String(raw['service'] ?? ''),
    ...(raw['type'] !== undefined ? { type: String(raw['type']) } : {}),
    error: Number(raw['error'] ?? 0),
    start: BigInt(raw['start'] as bigint | number),
    duration: BigInt(raw['duration'] as bigint | number),
    meta,
    metrics,
  };
}

/** Decodes a v0.4 (array of traces of span maps) or v0.5 (string table + span arrays) payload. */
export function decodeTraces(buffer: Uint8Array, version: '0.4' | '0.5'): ApmSpan[] {
  const decoded = decode(buffer, { useBigInt64: true });
  if (version === '0.4') {
    if (!Array.isArray(decoded)) throw new Error('v0.4 traces must be an array of traces');
    return decoded.flatMap((trace: unknown) => (Array.isArray(trace) ? trace.filter(isRecord).map(asApmSpan) : []));
  }
  // v0.5: [strings[], traces[][][12]]; string fields are indexes into the table.
  if (!Array.isArray(decoded) || decoded.length !== 2) throw new Error('v0.5 traces must be [strings, traces]');
  const [strings, traces] = decoded as [string[], unknown[][][]];
  const str = (i: unknown) => strings[Number(i)] ?? '';
  const map = (m: unknown, num: boolean) => {
    const out: Record<string, unknown> = {};
    if (m instanceof Map) for (const [k, v] of m) out[str(k)] = num ? Number(v) : str(v);
    else if (isRecord(m)) for (const [k, v] of Object.entries(m)) out[str(k)] = num ? Number(v) : str(v);
    return out;
  };
  return traces.flatMap((trace) =>
    trace.map((s) =>
      asApmSpan({
        service: str(s[0]),
        name: str(s[1]),
        resource: str(s[2]),
        trace_id: s[3],
        span_id: s[4],
        parent_id: s[5],
        start: s[6],
        duration: s[7],
        error: s[8],
        meta: map(s[9], false),
        metrics: map(s[10], true),
        type: str(s[11]),
      }),
    ),
  );
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Starts the fake agent on 127.0.0.1 (a free port unless `port` is given). */
export async function startFakeDatadogAgent(options: FakeDatadogAgentOptions = {}): Promise<FakeDatadogAgent> {
  const host = options.host ?? '127.0.0.1';
  const requests: AgentRequest[] = [];
  const llmObsSpans: ReceivedLlmObsSpan[] = [];
  const apmSpans: ApmSpan[] = [];
  const rejected: RejectedPayload[] = [];
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const check of [...waiters]) check();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, record: AgentRequest, body: Buffer): Promise<number> => {
    const path = record.path;
    if (req.method === 'GET' && path === '/info') return (send(res, 200, INFO), 200);

    if ((req.method === 'PUT' || req.method === 'POST') && (path === '/v0.4/traces' || path === '/v0.5/traces')) {
      try {
        apmSpans.push(...decodeTraces(body, path === '/v0.4/traces' ? '0.4' : '0.5'));
      } catch (error) {
        rejected.push({ path, problems: [`msgpack: ${(error as Error).message}`], body: body.toString('base64'), receivedAt: Date.now() });
        return (send(res, 400, { error: 'could not decode traces' }), 400);
      }
      return (send(res, 200, { rate_by_service: { 'service:,env:': 1 } }), 200);
    }

    if (req.method === 'POST' && path === LLMOBS_PATH) {
      if (options.llmObsStatus !== undefined)
        return (send(res, options.llmObsStatus, { errors: [{ status: String(options.llmObsStatus) }] }), options.llmObsStatus);
      const problems: string[] = [];
      if (record.headers[EVP_SUBDOMAIN_HEADER] !== 'llmobs-intake')
        problems.push(`header X-Datadog-EVP-Subdomain must be "llmobs-intake", got ${JSON.stringify(record.headers[EVP_SUBDOMAIN_HEADER])}`);
      if (!(record.headers['content-type'] ?? '').startsWith('application/json')) problems.push('Content-Type must be application/json');
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        problems.push('the body is not JSON');
      }
      const checked = problems.length === 0 ? validateLlmObsPayload(parsed) : { spans: [], problems: [] };
      problems.push(...checked.problems);
      if (problems.length > 0) {
        // The intake refuses the whole request, as the HTTP API answers 400 for a malformed payload.
        rejected.push({ path, problems, body: parsed, receivedAt: Date.now() });
        return (send(res, 400, { errors: problems.map((detail) => ({ status: '400', title: 'Bad Request', detail })) }), 400);
      }
      const receivedAt = Date.now();
      for (const span of checked.spans) {
        const metadata = isRecord(span.meta['metadata']) ? span.meta['metadata'] : {};
        const eventId = metadata['event_id'];
        llmObsSpans.push({ span, receivedAt, tags: tagMap(span.tags ?? []), ...(typeof eventId === 'string' ? { eventId } : {}) });
      }
      return (send(res, 202, {}), 202);
    }

    // Evaluations, telemetry, metrics, stats, profiles, flares: accepted and dropped.
    if (
      req.method === 'POST' &&
      (path.startsWith('/evp_proxy/') ||
        path.startsWith('/telemetry/proxy/') ||
        path.startsWith('/dogstatsd/') ||
        path === '/v0.6/stats' ||
        path.startsWith('/profiling/') ||
        path.startsWith('/tracer_flare/'))
    ) {
      return (send(res, 202, {}), 202);
    }
    // Remote configuration is not offered (not listed in /info): dd-trace treats 404 as "off".
    return (send(res, 404, { error: 'not found' }), 404);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : String(v ?? '');
    const record: AgentRequest = { method: req.method ?? 'GET', path: url.pathname, headers, bytes: 0, status: 0, receivedAt: Date.now() };
    requests.push(record);
    readBody(req)
      .then(async (body) => {
        record.bytes = body.length;
        record.status = await handle(req, res, record, body);
      })
      .catch(() => {
        if (!res.headersSent) send(res, 500, { error: 'fake agent failure' });
        record.status = 500;
      })
      .finally(notify);
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
  let closed: Promise<void> | undefined;

  const agent: FakeDatadogAgent = {
    url: `http://${host}:${port}`,
    host,
    port,
    requests,
    llmObsSpans,
    apmSpans,
    rejected,
    eventIds: () => llmObsSpans.flatMap((s) => (s.eventId === undefined ? [] : [s.eventId])),
    waitFor(predicate, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(agent)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake Datadog agent: condition not met within ${timeoutMs} ms (${JSON.stringify(agent.summary())})`));
        }, timeoutMs);
        timer.unref();
        waiters.add(check);
        check();
      });
    },
    summary() {
      return {
        requests: requests.length,
        llmObsSpans: llmObsSpans.length,
        apmSpans: apmSpans.length,
        rejectedPayloads: rejected.length,
        lines: llmObsSpans.map(({ span, eventId }) => {
          const m = span.meta;
          const tokens = span.metrics?.['total_tokens'];
          return `${span.name} ${span.status ?? 'ok'} ${String(m['model_provider'] ?? '')}/${String(m['model_name'] ?? '')}${tokens !== undefined ? ` ${tokens} tokens` : ''}${eventId ? ` event ${eventId}` : ''}`;
        }),
      };
    },
    reset() {
      requests.length = 0;
      llmObsSpans.length = 0;
      apmSpans.length = 0;
      rejected.length = 0;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
  return agent;
}
