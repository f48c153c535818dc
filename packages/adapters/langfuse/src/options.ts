// The options of langfuseCallback(): their types, defaults, environment fallbacks and checks. Every
// mistake is reported at creation with the option's name (and the environment variable behind it).
import { LlmCallbacksError, checkOptionNames } from '@llm-callbacks/core';
import type { Langfuse } from 'langfuse';

/** Options of {@link langfuseCallback}. Anything not given is read from the usual `LANGFUSE_*` environment variables. */
export interface LangfuseCallbackOptions {
  /** The callback's name, used to disable it per call (default 'langfuse'); give two projects two names. */
  name?: string;
  /** An existing client to send through. Then the key, URL and client-tuning options must be left out. */
  client?: Langfuse;
  /** Project public key (default: LANGFUSE_PUBLIC_KEY). */
  publicKey?: string;
  /** Project secret key (default: LANGFUSE_SECRET_KEY). */
  secretKey?: string;
  /** Langfuse URL (default: LANGFUSE_BASEURL, then LANGFUSE_HOST, then https://cloud.langfuse.com). */
  baseUrl?: string;
  /** Tracing environment set on every trace and generation (Langfuse: lower-case, not starting with 'langfuse'). */
  environment?: string;
  /** Release (application version) set on every trace. */
  release?: string;
  /** Drop message content (prompts, completions, tool arguments) and keep usage, timing, metadata and errors. */
  redactMessages?: boolean;
  /** Trace and generation name when `metadata.traceName` / `metadata.generationName` do not set one (default `openai.<callType>`). */
  traceName?: string;
  /** Items (two per call) per upload batch (default 15). */
  flushAt?: number;
  /** Longest wait before a partial batch is uploaded, in ms (default 1000). */
  flushIntervalMs?: number;
  /** Retries of a failed upload before its events are given up (default 3). */
  maxRetries?: number;
  /** Pause between retries, in ms (default 1000). */
  retryDelayMs?: number;
  /** Time allowed for one upload request, in ms (default 5000). */
  requestTimeoutMs?: number;
  /** Longest time flush() waits for Langfuse to confirm (default: enough for every retry, plus a second). */
  flushTimeoutMs?: number;
  /** Longest time shutdown() takes, in ms (default 8000, under the manager's default of 10 s). */
  shutdownTimeoutMs?: number;
  /** Calls waiting for confirmation at most; further calls are dropped and reported (default 10 000). */
  maxPendingEvents?: number;
  /** Locked: no header, option or scope can disable this callback. */
  required?: boolean;
  /** Longest time one hook call may take (default: the manager's). Hooks only enqueue, so this rarely matters. */
  timeoutMs?: number;
}

/** Options after defaults and environment fallbacks. */
export interface ResolvedOptions {
  name: string;
  client?: Langfuse;
  publicKey: string;
  secretKey: string;
  baseUrl: string;
  environment?: string;
  release?: string;
  redactMessages: boolean;
  traceName?: string;
  flushAt: number;
  flushIntervalMs: number;
  maxRetries: number;
  retryDelayMs: number;
  requestTimeoutMs: number;
  flushTimeoutMs: number;
  shutdownTimeoutMs: number;
  maxPendingEvents: number;
  required?: boolean;
  timeoutMs?: number;
}

export const DEFAULTS = {
  name: 'langfuse',
  baseUrl: 'https://cloud.langfuse.com',
  flushAt: 15,
  flushIntervalMs: 1_000,
  maxRetries: 3,
  retryDelayMs: 1_000,
  requestTimeoutMs: 5_000,
  shutdownTimeoutMs: 8_000,
  maxPendingEvents: 10_000,
} as const;

/** Options that configure a client this package creates; meaningless with `client`. */
const CLIENT_OPTIONS = [
  'publicKey',
  'secretKey',
  'baseUrl',
  'environment',
  'release',
  'flushAt',
  'flushIntervalMs',
  'maxRetries',
  'retryDelayMs',
  'requestTimeoutMs',
] as const;

const ENVIRONMENT = /^(?!langfuse)[a-z0-9-_]{1,40}$/;

function fail(message: string): never {
  throw new LlmCallbacksError('INVALID_OPTIONS', `langfuseCallback: ${message}`);
}

function integer(options: LangfuseCallbackOptions, key: keyof LangfuseCallbackOptions, min: number, fallback: number): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    fail(`${key} must be an integer >= ${min}, got ${JSON.stringify(value)}.`);
  }
  return value;
}

function text(options: LangfuseCallbackOptions, key: keyof LangfuseCallbackOptions): string | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') fail(`${key} must be a non-empty string, got ${JSON.stringify(value)}.`);
  return value;
}

function fromEnv(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/** Applies defaults and environment variables; throws LlmCallbacksError naming the option at fault. */
const OPTION_NAMES = Object.keys({
  name: true,
  client: true,
  publicKey: true,
  secretKey: true,
  baseUrl: true,
  environment: true,
  release: true,
  redactMessages: true,
  traceName: true,
  flushAt: true,
  flushIntervalMs: true,
  maxRetries: true,
  retryDelayMs: true,
  requestTimeoutMs: true,
  flushTimeoutMs: true,
  shutdownTimeoutMs: true,
  maxPendingEvents: true,
  required: true,
  timeoutMs: true,
} satisfies Record<keyof LangfuseCallbackOptions, true>);

export function resolveOptions(options: LangfuseCallbackOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail(`expected an options object, got ${String(options)}.`);
  // A misspelt option (redactMessage, requred) would silently turn a protection off.
  checkOptionNames('langfuseCallback(options)', options, OPTION_NAMES);
  const client = options.client;
  if (client !== undefined) {
    const looksLikeClient = typeof client === 'object' && client !== null && typeof client.trace === 'function' && typeof client.on === 'function';
    if (!looksLikeClient) fail('client must be a Langfuse client (new Langfuse(...) from the "langfuse" package, v3).');
    const clashing = CLIENT_OPTIONS.filter((key) => options[key] !== undefined);
    if (clashing.length > 0) {
      fail(`${clashing.join(', ')} configure a client this package creates; with an existing client, set them on that client instead (or drop client).`);
    }
  }
  for (const key of ['redactMessages', 'required'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') fail(`${key} must be a boolean, got ${JSON.stringify(options[key])}.`);
  }
  const environment = text(options, 'environment');
  if (environment !== undefined && !ENVIRONMENT.test(environment)) {
    fail(
      `environment ${JSON.stringify(environment)} would be rejected by Langfuse: use 1-40 lower-case letters, digits, '-' or '_', not starting with 'langfuse'.`,
    );
  }

  const publicKey = text(options, 'publicKey') ?? fromEnv(env, 'LANGFUSE_PUBLIC_KEY');
  const secretKey = text(options, 'secretKey') ?? fromEnv(env, 'LANGFUSE_SECRET_KEY');
  if (client === undefined) {
    if (!publicKey) fail('no Langfuse public key: pass publicKey or set LANGFUSE_PUBLIC_KEY (or pass an existing client).');
    if (!secretKey) fail('no Langfuse secret key: pass secretKey or set LANGFUSE_SECRET_KEY (or pass an existing client).');
  }
  const baseUrl = text(options, 'baseUrl') ?? fromEnv(env, 'LANGFUSE_BASEURL', 'LANGFUSE_HOST') ?? DEFAULTS.baseUrl;
  try {
    const parsed = new URL(baseUrl);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    fail(`baseUrl ${JSON.stringify(baseUrl)} is not an http(s) URL (from the baseUrl option, LANGFUSE_BASEURL or LANGFUSE_HOST).`);
  }

  const maxRetries = integer(options, 'maxRetries', 0, DEFAULTS.maxRetries);
  const retryDelayMs = integer(options, 'retryDelayMs', 0, DEFAULTS.retryDelayMs);
  const requestTimeoutMs = integer(options, 'requestTimeoutMs', 1, DEFAULTS.requestTimeoutMs);
  // Long enough for the client to run every attempt of a batch and give up on its own.
  const worstCase = (maxRetries + 1) * requestTimeoutMs + maxRetries * retryDelayMs + 1_000;
  const timeoutMs = options.timeoutMs;
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0)))
    fail(`timeoutMs must be a positive number, got ${JSON.stringify(timeoutMs)}.`);

  return {
    name: text(options, 'name') ?? DEFAULTS.name,
    ...(client !== undefined ? { client } : {}),
    publicKey: publicKey ?? '',
    secretKey: secretKey ?? '',
    baseUrl: baseUrl.replace(/\/+$/, ''),
    ...(environment !== undefined ? { environment } : {}),
    ...(options.release !== undefined ? { release: text(options, 'release') as string } : {}),
    redactMessages: options.redactMessages === true,
    ...(options.traceName !== undefined ? { traceName: text(options, 'traceName') as string } : {}),
    flushAt: integer(options, 'flushAt', 1, DEFAULTS.flushAt),
    flushIntervalMs: integer(options, 'flushIntervalMs', 1, DEFAULTS.flushIntervalMs),
    maxRetries,
    retryDelayMs,
    requestTimeoutMs,
    flushTimeoutMs: integer(options, 'flushTimeoutMs', 1, worstCase),
    shutdownTimeoutMs: integer(options, 'shutdownTimeoutMs', 1, DEFAULTS.shutdownTimeoutMs),
    maxPendingEvents: integer(options, 'maxPendingEvents', 1, DEFAULTS.maxPendingEvents),
    ...(options.required !== undefined ? { required: options.required } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}
