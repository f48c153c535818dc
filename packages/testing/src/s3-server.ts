// An S3-compatible server on 127.0.0.1 for tests and the demo: s3rver 3.7.1 in-process (with one
// bucket, in a temporary directory) behind a small front that checks what s3rver does not. s3rver
// leaves SigV4 unverified ("Signature version 4 calculation is unimplemented" in its
// authentication middleware), so a client that signs an object key differently from the path it
// sends (the bug that made a peer's S3 logger drop records for keys with spaces, `&`, `+`, `#` or
// unicode) would pass. The front verifies the signature as S3 does, and the payload digests
// (`x-amz-content-sha256`, `Content-MD5`), before handing the request to s3rver.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export interface S3ServerOptions {
  /** Bucket created at start (default `llm-callbacks-test`). */
  bucket?: string;
  /** Port of the validating front (default 0: any free port). */
  port?: number;
  /** Region expected in the signature's scope (default `us-east-1`). */
  region?: string;
}

export interface S3ObjectInfo {
  key: string;
  size: number;
  lastModified?: Date;
}

export interface S3StoredObject extends S3ObjectInfo {
  body: string;
  contentType?: string;
  serverSideEncryption?: string;
}

/** A request the front checked and passed on to s3rver. */
export interface S3ReceivedRequest {
  method: string;
  /** Bucket and key, decoded from the path (`key` is '' for bucket-level requests). */
  bucket: string;
  key: string;
  /** Query string as sent (e.g. `x-id=PutObject`). */
  query: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  bodyBytes: number;
}

/** A request the front refused before s3rver saw it. */
export interface S3RejectedRequest {
  method: string;
  /** The path as sent on the wire (still percent-encoded). */
  path: string;
  code:
    | 'SignatureDoesNotMatch'
    | 'AccessDenied'
    | 'InvalidURI'
    | 'XAmzContentSHA256Mismatch'
    | 'BadDigest'
    | 'RequestTimeTooSkewed'
    | 'AuthorizationHeaderMalformed';
  message: string;
}

export interface S3Server {
  /** Base URL for the S3 client (`endpoint`), path-style: `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  readonly port: number;
  readonly bucket: string;
  readonly region: string;
  /** The only credentials the server accepts (s3rver's built-in account). */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** Client settings that work against this server (path-style, checksums only when required). */
  readonly clientConfig: S3ClientConfig;
  /** Requests refused by the validating front, oldest first. */
  readonly rejected: S3RejectedRequest[];
  /** Requests that reached s3rver, by method (e.g. `{ PUT: 12, GET: 3 }`). */
  readonly accepted: Record<string, number>;
  /** Requests that reached s3rver, oldest first (headers included: s3rver keeps few of them). */
  readonly received: S3ReceivedRequest[];
  /** A new S3 client for this server; the server destroys it on close. */
  client(): S3Client;
  /** Every object in the bucket (under `prefix`), by key order. */
  listObjects(prefix?: string): Promise<S3ObjectInfo[]>;
  /** One object's body as UTF-8 text. */
  readObject(key: string): Promise<string>;
  /** Every object (under `prefix`) with its body and content type, by key order. */
  readObjects(prefix?: string): Promise<S3StoredObject[]>;
  /** Deletes every object in the bucket and forgets the counters. */
  reset(): Promise<void>;
  /** Stops the server, destroys its sockets and clients, and removes its directory (once; later calls wait for the first). */
  close(): Promise<void>;
}

const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';
const MAX_SKEW_MS = 15 * 60 * 1000;
const UNSIGNED = /^(UNSIGNED-PAYLOAD|STREAMING-.*)$/;

/** Starts s3rver with one bucket, behind the validating front, both on 127.0.0.1. */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const bucket = options.bucket ?? 'llm-callbacks-test';
  const region = options.region ?? 'us-east-1';
  const directory = await mkdtemp(join(tmpdir(), 'llm-callbacks-s3rver-'));
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const inner = await s3rver.run();

  const rejected: S3RejectedRequest[] = [];
  const accepted: Record<string, number> = {};
  const received: S3ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const front = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'InternalError', String(error));
      else res.destroy();
    });
  });
  front.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    const problem = verify(req, body, region);
    if (problem) {
      rejected.push({ method, path: rawPath, ...problem });
      sendError(res, problem.status, problem.code, problem.message);
      return;
    }
    accepted[method] = (accepted[method] ?? 0) + 1;
    const [, bucketPart = '', ...keyParts] = rawPath.split('/').map((p) => decodeURIComponent(p));
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    received.push({ method, bucket: bucketPart, key: keyParts.join('/'), query: (req.url ?? '').split('?')[1] ?? '', headers, bodyBytes: body.length });
    await forward(req, body, res, inner.port);
  }

  await new Promise<void>((resolve) => front.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (front.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY };
  const clientConfig: S3ClientConfig = {
    endpoint,
    region,
    forcePathStyle: true,
    credentials,
    // With the defaults the client frames bodies as aws-chunked with a trailing checksum, and
    // s3rver would store the framing (TOOLCHAIN.md).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  const clients: S3Client[] = [];
  const client = (): S3Client => {
    const c = new S3Client(clientConfig);
    clients.push(c);
    return c;
  };
  let own: S3Client | undefined;
  const mine = (): S3Client => (own ??= client());
  let closing: Promise<void> | undefined;

  const listObjects = async (prefix?: string): Promise<S3ObjectInfo[]> => {
    const out: S3ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await mine().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  };

  const readObject = async (key: string): Promise<string> => {
    const res = await mine().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await res.Body?.transformToString('utf-8')) ?? '';
  };

  return {
    endpoint,
    port,
    bucket,
    region,
    credentials,
    clientConfig,
    rejected,
    accepted,
    received,
    client,
    listObjects,
    readObject,
    async readObjects(prefix) {
      const infos = await listObjects(prefix);
      return Promise.all(
        infos.map(async (info) => {
          const [body, head] = await Promise.all([readObject(info.key), mine().send(new HeadObjectCommand({ Bucket: bucket, Key: info.key }))]);
          return { ...info, body, contentType: head.ContentType, serverSideEncryption: head.ServerSideEncryption };
        }),
      );
    },
    async reset() {
      const keys = (await listObjects()).map((o) => o.key);
      for (let i = 0; i < keys.length; i += 1000) {
        await mine().send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
      }
      rejected.length = 0;
      received.length = 0;
      for (const k of Object.keys(accepted)) delete accepted[k];
    },
    close() {
      return (closing ??= shutdown());
    },
  };

  async function shutdown(): Promise<void> {
    for (const c of clients) c.destroy();
    await new Promise<void>((resolve) => {
      front.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
    s3rver.httpServer?.closeAllConnections();
    await s3rver.close();
    await rm(directory, { recursive: true, force: true });
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Hands a checked request to s3rver and pipes its answer back. */
function forward(req: IncomingMessage, body: Buffer, res: ServerResponse, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: { ...req.headers, connection: 'close' } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on('end', resolve);
      answer.on('error', reject);
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><RequestId>front</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

type Problem = Omit<S3RejectedRequest, 'method' | 'path'> & { status: number };

/**
 * Checks a request the way S3 does for header-signed SigV4 (AWS docs, "Authenticating Requests:
 * Using the Authorization Header"): the canonical URI is the path exactly as sent (S3 neither
 * normalizes it nor encodes it again), each segment strictly RFC 3986-encoded; the query is
 * re-encoded and sorted; the signed headers are lower-cased, trimmed and whitespace-collapsed.
 */
function verify(req: IncomingMessage, body: Buffer, region: string): Problem | undefined {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const rawQuery = q === -1 ? '' : url.slice(q + 1);

  // A path must be strictly encoded: anything else is what a client that "signs one thing and
  // sends another" produces, and S3 would then compute a different canonical request.
  if (!/^(?:[A-Za-z0-9\-._~/]|%[0-9A-F]{2})*$/.test(rawPath)) {
    return { status: 400, code: 'InvalidURI', message: `path ${rawPath} is not strictly percent-encoded (RFC 3986, upper-case hex)` };
  }
  let decodedSegments: string[];
  try {
    decodedSegments = rawPath.split('/').map((s) => decodeURIComponent(s));
  } catch {
    return { status: 400, code: 'InvalidURI', message: `path ${rawPath} does not decode as UTF-8` };
  }
  if (decodedSegments.map(encodeRfc3986).join('/') !== rawPath) {
    return { status: 400, code: 'InvalidURI', message: `path ${rawPath} is not in canonical form` };
  }

  const auth = req.headers.authorization;
  if (!auth) return { status: 403, code: 'AccessDenied', message: 'unsigned request: this server requires SigV4' };
  const match = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!match) return { status: 400, code: 'AuthorizationHeaderMalformed', message: `Authorization header is malformed: ${auth}` };
  const [, credential = '', signedHeaderList = '', signature = ''] = match;
  const [accessKeyId, date, scopeRegion, service, terminator] = credential.split('/');
  if (accessKeyId !== ACCESS_KEY_ID) return { status: 403, code: 'AccessDenied', message: `unknown access key ${accessKeyId}` };
  if (scopeRegion !== region || service !== 's3' || terminator !== 'aws4_request') {
    return { status: 400, code: 'AuthorizationHeaderMalformed', message: `credential scope ${credential} must be <date>/${region}/s3/aws4_request` };
  }
  const amzDate = header(req, 'x-amz-date');
  const payloadHash = header(req, 'x-amz-content-sha256');
  const signedHeaders = signedHeaderList.split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256']) {
    if (!signedHeaders.includes(required)) {
      return { status: 400, code: 'AuthorizationHeaderMalformed', message: `${required} must be a signed header` };
    }
  }
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== date) {
    return { status: 403, code: 'AccessDenied', message: `x-amz-date ${String(amzDate)} is missing, malformed or outside the credential's date` };
  }
  const when = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (!(Math.abs(Date.now() - when) <= MAX_SKEW_MS)) {
    return { status: 403, code: 'RequestTimeTooSkewed', message: 'The difference between the request time and the current time is too large.' };
  }
  if (!payloadHash) return { status: 400, code: 'AuthorizationHeaderMalformed', message: 'x-amz-content-sha256 is required' };
  if (!UNSIGNED.test(payloadHash) && payloadHash !== sha256Hex(body)) {
    return { status: 400, code: 'XAmzContentSHA256Mismatch', message: "The provided 'x-amz-content-sha256' header does not match what was computed." };
  }
  const md5 = header(req, 'content-md5');
  if (md5 !== undefined && md5 !== createHash('md5').update(body).digest('base64')) {
    return { status: 400, code: 'BadDigest', message: 'The Content-MD5 you specified did not match what we received.' };
  }

  const canonicalHeaders = signedHeaders.map((name) => `${name}:${(header(req, name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [req.method ?? 'GET', rawPath, canonicalQuery(rawQuery), canonicalHeaders, signedHeaderList, payloadHash].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(Buffer.from(canonicalRequest))].join('\n');
  let key: Buffer = hmac(`AWS4${SECRET_ACCESS_KEY}`, date ?? '');
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  const expected = hmac(key, stringToSign).toString('hex');
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return {
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: `The request signature we calculated does not match the signature you provided. Canonical request: ${JSON.stringify(canonicalRequest)}`,
    };
  }
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function canonicalQuery(raw: string): string {
  if (raw === '') return '';
  return raw
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = decodeURIComponent(eq === -1 ? pair : pair.slice(0, eq));
      const value = eq === -1 ? '' : decodeURIComponent(pair.slice(eq + 1));
      return [encodeRfc3986(name), encodeRfc3986(value)] as const;
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`)
    .join('&');
}

/** RFC 3986: everything but unreserved characters percent-encoded, upper-case hex. */
function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}
