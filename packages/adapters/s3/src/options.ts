// The S3 callback's options: their types and defaults, the environment variables that stand in
// for them, and the checks that turn a bad configuration into an error at creation (naming the
// option and its variable) rather than a stream of failed uploads later.
import type { S3Client, S3ClientConfig, ServerSideEncryption, StorageClass } from '@aws-sdk/client-s3';
import { LlmCallbacksError, type CallEvent, checkOptionNames } from '@llm-callbacks/core';
import { checkStaticPrefix } from './object-key.js';

/** `ndjson`: one object per batch, one event per line. `json`: one object per event. */
export type S3EventFormat = 'ndjson' | 'json';

/** How failed uploads are retried (exponential backoff with full jitter). */
export interface S3RetryOptions {
  /**
   * Tries per object, the first included (default `Infinity`: a transient failure is retried until
   * the object is uploaded, shutdown() ends the waiting, or the bounded queue overflows). A finite
   * number gives a batch up (reported as dropped, `gave-up`) after that many failed tries.
   */
  maxAttempts?: number;
  /** Backoff before the 2nd try is drawn from [0, baseDelayMs]; each later try doubles it (default 250). */
  baseDelayMs?: number;
  /** Ceiling of one backoff (default 20 000). */
  maxDelayMs?: number;
}

/** Options of {@link s3Callback}. Anything not given is read from `LLM_CALLBACKS_S3_*` and the AWS SDK's usual environment. */
export interface S3CallbackOptions {
  /** Callback name, used to disable it per call (default `s3`). */
  name?: string;
  /** Bucket to write to. Env: `LLM_CALLBACKS_S3_BUCKET`. Required. */
  bucket?: string;
  /**
   * Key prefix (default `llm-callbacks`). Env: `LLM_CALLBACKS_S3_PREFIX`. A function receives each
   * event and returns its prefix (say, per team from metadata); what it returns is percent-encoded
   * segment by segment, so metadata never reaches a key raw.
   */
  prefix?: string | ((event: CallEvent) => string | undefined);
  /** AWS region. Env: `AWS_REGION`, then `AWS_DEFAULT_REGION`; `us-east-1` when only an endpoint is set. */
  region?: string;
  /** S3-compatible endpoint URL (MinIO, s3rver, ...). Env: `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`. */
  endpoint?: string;
  /** Path-style URLs (`endpoint/bucket/key`), needed by most S3-compatible servers. Env: `LLM_CALLBACKS_S3_FORCE_PATH_STYLE`. */
  forcePathStyle?: boolean;
  /** Static credentials or a provider; default: the AWS SDK's default chain (env, profile, SSO, IMDS...). */
  credentials?: S3ClientConfig['credentials'];
  /** More S3 client settings, applied over the adapter's (ignored when `client` is given). */
  clientConfig?: S3ClientConfig;
  /** Your own S3 client. Its retries add to the adapter's, and shutdown() leaves it open. */
  client?: S3Client;
  /** Events per object in `ndjson` format, and events per upload round in `json` (default 100). */
  batchSize?: number;
  /** Largest object body before a batch is cut early, in bytes (default 5 MiB). */
  maxBatchBytes?: number;
  /** Longest time an event waits before its batch is uploaded, in ms (default 5 000). */
  flushIntervalMs?: number;
  /** Object layout (default `ndjson`). */
  format?: S3EventFormat;
  /** Server-side encryption: `AES256`, `aws:kms` or `aws:kms:dsse`. */
  serverSideEncryption?: ServerSideEncryption;
  /** KMS key for `aws:kms` / `aws:kms:dsse`. */
  sseKmsKeyId?: string;
  /** Use an S3 Bucket Key with SSE-KMS. */
  bucketKeyEnabled?: boolean;
  /** Storage class of the objects (default: the bucket's). */
  storageClass?: StorageClass;
  /** Events waiting in the adapter (buffered or being uploaded) before new ones are dropped and reported (default 10 000). */
  maxQueueSize?: number;
  /** Objects uploaded at once (default 4). */
  concurrency?: number;
  retry?: S3RetryOptions;
  /** Longest time one upload attempt may take before it is aborted and retried, in ms (default 15 000). */
  requestTimeoutMs?: number;
  /** Longest time shutdown() spends delivering what is queued, in ms (default 8 000). */
  shutdownTimeoutMs?: number;
  /** Replace prompts, completions and tool arguments with a marker before upload (core's `redactMessageContent`). */
  redactMessages?: boolean;
  /** @deprecated The former name of `redactMessages` (same meaning); either one set to true redacts. */
  redactContent?: boolean;
  /** No call may disable this callback (for a compliance log). */
  required?: boolean;
  /** Longest time one hook call may take (the manager's default when unset). */
  timeoutMs?: number;
}

/** Options after defaults and environment variables, checked. */
export interface ResolvedS3Options {
  name: string;
  bucket: string;
  prefix: string | ((event: CallEvent) => string | undefined);
  region: string | undefined;
  endpoint: string | undefined;
  forcePathStyle: boolean | undefined;
  credentials: S3ClientConfig['credentials'];
  clientConfig: S3ClientConfig | undefined;
  client: S3Client | undefined;
  batchSize: number;
  maxBatchBytes: number;
  flushIntervalMs: number;
  format: S3EventFormat;
  serverSideEncryption: ServerSideEncryption | undefined;
  sseKmsKeyId: string | undefined;
  bucketKeyEnabled: boolean | undefined;
  storageClass: StorageClass | undefined;
  maxQueueSize: number;
  concurrency: number;
  retry: Required<S3RetryOptions>;
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
  redactMessages: boolean;
  required: boolean | undefined;
  timeoutMs: number | undefined;
}

/** The default of every {@link S3CallbackOptions} setting that has one. */
export const S3_DEFAULTS = {
  name: 's3',
  prefix: 'llm-callbacks',
  batchSize: 100,
  maxBatchBytes: 5 * 1024 * 1024,
  flushIntervalMs: 5_000,
  format: 'ndjson',
  maxQueueSize: 10_000,
  concurrency: 4,
  retry: { maxAttempts: Number.POSITIVE_INFINITY, baseDelayMs: 250, maxDelayMs: 20_000 },
  requestTimeoutMs: 15_000,
  shutdownTimeoutMs: 8_000,
} as const;

/** The environment variables read when an option is not given. */
export const S3_ENV = {
  bucket: 'LLM_CALLBACKS_S3_BUCKET',
  prefix: 'LLM_CALLBACKS_S3_PREFIX',
  region: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
  endpoint: ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'],
  forcePathStyle: 'LLM_CALLBACKS_S3_FORCE_PATH_STYLE',
} as const;

const SSE = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);

function fail(message: string): never {
  throw new LlmCallbacksError('INVALID_OPTIONS', `s3Callback: ${message}`);
}

function env(names: string | readonly string[]): string | undefined {
  for (const name of typeof names === 'string' ? [names] : names) {
    const value = process.env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

function positiveInt(value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(`${option} must be a whole number of at least 1, got ${JSON.stringify(value)}.`);
  return value;
}

function nonNegative(value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(`${option} must be a number of milliseconds >= 0, got ${JSON.stringify(value)}.`);
  return value;
}

function positiveMs(value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    fail(`${option} must be a positive number of milliseconds, got ${JSON.stringify(value)}.`);
  return value;
}

function optionalString(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') fail(`${option} must be a non-empty string, got ${JSON.stringify(value)}.`);
  return value.trim();
}

function optionalBoolean(value: unknown, option: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(`${option} must be true or false, got ${JSON.stringify(value)}.`);
  return value;
}

/** Applies defaults and environment variables; throws LlmCallbacksError naming what to fix. */
const OPTION_NAMES = Object.keys({
  name: true,
  bucket: true,
  prefix: true,
  region: true,
  endpoint: true,
  forcePathStyle: true,
  credentials: true,
  clientConfig: true,
  client: true,
  batchSize: true,
  maxBatchBytes: true,
  flushIntervalMs: true,
  format: true,
  serverSideEncryption: true,
  sseKmsKeyId: true,
  bucketKeyEnabled: true,
  storageClass: true,
  maxQueueSize: true,
  concurrency: true,
  retry: true,
  requestTimeoutMs: true,
  shutdownTimeoutMs: true,
  redactMessages: true,
  redactContent: true,
  required: true,
  timeoutMs: true,
} satisfies Record<keyof S3CallbackOptions, true>);

export function resolveS3Options(options: S3CallbackOptions = {}): ResolvedS3Options {
  if (typeof options !== 'object' || options === null) fail(`options must be an object, got ${JSON.stringify(options)}.`);
  // A misspelt option (requred, redactMessage) would silently turn a protection off.
  checkOptionNames('s3Callback(options)', options, OPTION_NAMES);

  const bucket = optionalString(options.bucket, 'bucket') ?? env(S3_ENV.bucket);
  if (!bucket) {
    fail(`no bucket: pass s3Callback({ bucket: 'my-llm-logs' }) or set ${S3_ENV.bucket}.`);
  }
  if (/[\s/]/.test(bucket) || bucket.length < 3 || bucket.length > 255) {
    fail(`bucket ${JSON.stringify(bucket)} is not a bucket name (3-63 characters, no '/' or spaces; put folders in \`prefix\`).`);
  }

  let prefix: ResolvedS3Options['prefix'];
  if (typeof options.prefix === 'function') prefix = options.prefix;
  else if (options.prefix === undefined) prefix = checkStaticPrefix(env(S3_ENV.prefix) ?? S3_DEFAULTS.prefix, S3_ENV.prefix);
  else if (typeof options.prefix === 'string') prefix = checkStaticPrefix(options.prefix, 'prefix');
  else fail(`prefix must be a string or a function of the event, got ${typeof options.prefix}.`);

  const endpoint = optionalString(options.endpoint, 'endpoint') ?? env(S3_ENV.endpoint);
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      fail(`endpoint ${JSON.stringify(endpoint)} is not an http(s) URL (option \`endpoint\`, or ${S3_ENV.endpoint.join(' / ')}).`);
    }
  }
  // S3-compatible servers ignore the region but the signer needs one.
  const region = optionalString(options.region, 'region') ?? env(S3_ENV.region) ?? (endpoint ? 'us-east-1' : undefined);

  let forcePathStyle = optionalBoolean(options.forcePathStyle, 'forcePathStyle');
  if (forcePathStyle === undefined) {
    const raw = env(S3_ENV.forcePathStyle)?.toLowerCase();
    if (raw !== undefined) {
      if (raw !== 'true' && raw !== 'false' && raw !== '1' && raw !== '0') fail(`${S3_ENV.forcePathStyle} must be true or false, got ${JSON.stringify(raw)}.`);
      forcePathStyle = raw === 'true' || raw === '1';
    }
  }

  const format = options.format ?? S3_DEFAULTS.format;
  if (format !== 'ndjson' && format !== 'json') fail(`format must be 'ndjson' or 'json', got ${JSON.stringify(format)}.`);

  const sse = options.serverSideEncryption;
  if (sse !== undefined && !SSE.has(sse)) fail(`serverSideEncryption must be 'AES256', 'aws:kms' or 'aws:kms:dsse', got ${JSON.stringify(sse)}.`);
  const sseKmsKeyId = optionalString(options.sseKmsKeyId, 'sseKmsKeyId');
  if (sseKmsKeyId && sse !== 'aws:kms' && sse !== 'aws:kms:dsse') fail(`sseKmsKeyId needs serverSideEncryption 'aws:kms' or 'aws:kms:dsse'.`);

  if (
    options.client !== undefined &&
    (typeof options.client !== 'object' || options.client === null || typeof (options.client as { send?: unknown }).send !== 'function')
  ) {
    fail('client must be an S3Client from @aws-sdk/client-s3.');
  }

  const retry = options.retry ?? {};
  if (typeof retry !== 'object' || retry === null) fail(`retry must be an object like { maxAttempts, baseDelayMs, maxDelayMs }, got ${JSON.stringify(retry)}.`);
  checkOptionNames(
    's3Callback(options.retry)',
    retry,
    Object.keys({ maxAttempts: true, baseDelayMs: true, maxDelayMs: true } satisfies Record<keyof S3RetryOptions, true>),
  );
  const resolvedRetry = {
    maxAttempts:
      retry.maxAttempts === Number.POSITIVE_INFINITY ? retry.maxAttempts : positiveInt(retry.maxAttempts, S3_DEFAULTS.retry.maxAttempts, 'retry.maxAttempts'),
    baseDelayMs: nonNegative(retry.baseDelayMs, S3_DEFAULTS.retry.baseDelayMs, 'retry.baseDelayMs'),
    maxDelayMs: nonNegative(retry.maxDelayMs, S3_DEFAULTS.retry.maxDelayMs, 'retry.maxDelayMs'),
  };

  return {
    name: optionalString(options.name, 'name') ?? S3_DEFAULTS.name,
    bucket,
    prefix,
    region,
    endpoint,
    forcePathStyle,
    credentials: options.credentials,
    clientConfig: options.clientConfig,
    client: options.client,
    batchSize: positiveInt(options.batchSize, S3_DEFAULTS.batchSize, 'batchSize'),
    maxBatchBytes: positiveInt(options.maxBatchBytes, S3_DEFAULTS.maxBatchBytes, 'maxBatchBytes'),
    flushIntervalMs: positiveMs(options.flushIntervalMs, S3_DEFAULTS.flushIntervalMs, 'flushIntervalMs'),
    format,
    serverSideEncryption: sse,
    sseKmsKeyId,
    bucketKeyEnabled: optionalBoolean(options.bucketKeyEnabled, 'bucketKeyEnabled'),
    storageClass: options.storageClass,
    maxQueueSize: positiveInt(options.maxQueueSize, S3_DEFAULTS.maxQueueSize, 'maxQueueSize'),
    concurrency: positiveInt(options.concurrency, S3_DEFAULTS.concurrency, 'concurrency'),
    retry: resolvedRetry,
    requestTimeoutMs: positiveMs(options.requestTimeoutMs, S3_DEFAULTS.requestTimeoutMs, 'requestTimeoutMs'),
    shutdownTimeoutMs: positiveMs(options.shutdownTimeoutMs, S3_DEFAULTS.shutdownTimeoutMs, 'shutdownTimeoutMs'),
    redactMessages: (optionalBoolean(options.redactMessages, 'redactMessages') ?? false) || (optionalBoolean(options.redactContent, 'redactContent') ?? false),
    required: optionalBoolean(options.required, 'required'),
    timeoutMs: options.timeoutMs,
  };
}
