// A fault-injecting HTTP proxy on 127.0.0.1, for putting in front of a test server (the S3 server,
// say): per request it forwards, answers an error status (500 / 503 by default with an S3-style
// XML body), delays, or drops the connection, either before the request reaches the server or
// after the server has applied it (the answer is lost, the side effect is not). Faults come from a
// rule function and/or a seeded random rate, so a run is reproducible, and every fault is counted.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does with one request. */
export type Fault =
  | { type: 'forward' }
  /** Answer `status` without forwarding; `code` goes into the S3-style XML error body. */
  | { type: 'status'; status: number; code?: string; message?: string }
  /** Wait, then forward (even if the client has given up by then: the late request still takes effect). */
  | { type: 'delay'; ms: number }
  /**
   * Destroy the client's connection: `before` the target sees the request, or `after` the target
   * answered (the request took effect; the client never learns it).
   */
  | { type: 'drop'; when: 'before' | 'after' };

export interface ProxiedRequest {
  /** 0-based position of this request among all the proxy received. */
  index: number;
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
}

export interface RandomFaults {
  /** Seed of the pseudo-random sequence (same seed, same faults for the same request order). */
  seed: number;
  /** Probability of each fault per request; they add up (their sum must be <= 1). */
  status500?: number;
  status503?: number;
  dropBefore?: number;
  dropAfter?: number;
  delay?: number;
  /** Delay for `delay` faults (default 200 ms). */
  delayMs?: number;
  /** Only requests with these methods draw faults (default: all). */
  methods?: readonly string[];
}

export interface FaultProxyOptions {
  /** Where requests are forwarded, e.g. `http://127.0.0.1:PORT`. */
  target: string;
  /** Decides a request's fault; returning undefined falls through to `random` (then `forward`). */
  rule?: (request: ProxiedRequest) => Fault | undefined;
  random?: RandomFaults;
  port?: number;
}

export interface FaultCounts {
  requests: number;
  forwarded: number;
  /** Error answers sent, by status. */
  status: Record<number, number>;
  dropsBefore: number;
  dropsAfter: number;
  delays: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT`: point the client here instead of at the target. */
  readonly url: string;
  readonly port: number;
  readonly counts: FaultCounts;
  /** Every request and what was done with it, in arrival order. */
  readonly log: Array<{ method: string; url: string; fault: Fault['type']; detail?: string }>;
  /** Faults that made the client's request fail (error statuses and drops). */
  failures(): number;
  /** Replaces the rule and/or the random faults (undefined switches that source off). */
  configure(options: { rule?: FaultProxyOptions['rule']; random?: RandomFaults }): void;
  resetCounts(): void;
  close(): Promise<void>;
}

const ERROR_CODES: Record<number, string> = { 500: 'InternalError', 503: 'SlowDown' };
const ERROR_MESSAGES: Record<string, string> = {
  InternalError: 'We encountered an internal error. Please try again.',
  SlowDown: 'Please reduce your request rate.',
};

/** Starts the proxy on 127.0.0.1. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  let rule = options.rule;
  let random = options.random ? checkRandom(options.random) : undefined;
  let next = random ? mulberry32(random.seed) : undefined;
  let index = 0;
  const fresh = (): FaultCounts => ({ requests: 0, forwarded: 0, status: {}, dropsBefore: 0, dropsAfter: 0, delays: 0 });
  let counts = fresh();
  const log: FaultProxy['log'] = [];
  const sockets = new Set<Socket>();
  let closing: Promise<void> | undefined;

  const decide = (request: ProxiedRequest): Fault => {
    const ruled = rule?.(request);
    if (ruled) return ruled;
    if (!random || !next) return { type: 'forward' };
    if (random.methods && !random.methods.includes(request.method)) return { type: 'forward' };
    let u = next();
    const pick: Array<[number | undefined, Fault]> = [
      [random.status503, { type: 'status', status: 503 }],
      [random.status500, { type: 'status', status: 500 }],
      [random.dropBefore, { type: 'drop', when: 'before' }],
      [random.dropAfter, { type: 'drop', when: 'after' }],
      [random.delay, { type: 'delay', ms: random.delayMs ?? 200 }],
    ];
    for (const [rate, fault] of pick) {
      if (rate && u < rate) return fault;
      u -= rate ?? 0;
    }
    return { type: 'forward' };
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const request: ProxiedRequest = { index: index++, method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    counts.requests += 1;
    const fault = decide(request);
    const entry = { method: request.method, url: request.url, fault: fault.type } as FaultProxy['log'][number];
    log.push(entry);
    switch (fault.type) {
      case 'status': {
        counts.status[fault.status] = (counts.status[fault.status] ?? 0) + 1;
        const code = fault.code ?? ERROR_CODES[fault.status] ?? 'ServiceUnavailable';
        const message = fault.message ?? ERROR_MESSAGES[code] ?? 'Injected fault.';
        entry.detail = `${fault.status} ${code}`;
        const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-${request.index}</RequestId></Error>`;
        res.writeHead(fault.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
        res.end(xml);
        return;
      }
      case 'drop':
        if (fault.when === 'before') {
          counts.dropsBefore += 1;
          req.socket.destroy();
          return;
        }
        await forward(req, body, undefined);
        counts.dropsAfter += 1;
        req.socket.destroy();
        return;
      case 'delay':
        counts.delays += 1;
        entry.detail = `${fault.ms} ms`;
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        // Forwarded even when the client gave up meanwhile: like a slow network, the request still
        // reaches the server and takes effect; only its answer is lost.
        await forward(req, body, req.socket.destroyed ? undefined : res);
        return;
      default:
        await forward(req, body, res);
    }
  }

  /** Sends the request on; pipes the answer to `res`, or just reads it when the answer is to be lost. */
  function forward(req: IncomingMessage, body: Buffer, res: ServerResponse | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          // The Host header is kept: the client signed it (SigV4 signs `host`).
          headers: { ...req.headers, connection: 'close' },
        },
        (answer) => {
          counts.forwarded += 1;
          if (res) {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          } else answer.resume();
          answer.on('end', resolve);
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get counts() {
      return counts;
    },
    log,
    failures() {
      return Object.values(counts.status).reduce((a, b) => a + b, 0) + counts.dropsBefore + counts.dropsAfter;
    },
    configure(update) {
      rule = update.rule;
      random = update.random ? checkRandom(update.random) : undefined;
      next = random ? mulberry32(random.seed) : undefined;
    },
    resetCounts() {
      counts = fresh();
      log.length = 0;
    },
    close() {
      return (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }));
    },
  };
}

function checkRandom(random: RandomFaults): RandomFaults {
  const rates = [random.status500, random.status503, random.dropBefore, random.dropAfter, random.delay];
  const sum = rates.reduce<number>((a, r) => a + (r ?? 0), 0);
  if (rates.some((r) => r !== undefined && !(r >= 0 && r <= 1)) || sum > 1) {
    throw new Error(`startFaultProxy: fault rates must each be in [0, 1] and sum to at most 1 (sum ${sum}).`);
  }
  return random;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A small seeded PRNG (mulberry32): uniform in [0, 1), reproducible from the seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
