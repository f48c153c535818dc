// The adapter's options: their types, their environment-variable fallbacks, and the checks that
// turn a bad value into an error naming the option and the variable to fix.
import type { Tracer, TracerOptions } from './dd-trace-types.js';
import { checkOptionNames } from '@llm-callbacks/core';

/** Options of {@link datadogCallback}. Every one is optional. */
export interface DatadogCallbackOptions {
  /** The callback's name, used to disable it per call (default `datadog`). */
  name?: string;
  /**
   * The dd-trace tracer to report through. Defaults to the process-wide `require('dd-trace')`
   * singleton, which is the service's own tracer when it called `init()`. Passing a tracer that is
   * not initialised yet asks the adapter to initialise it (with `init`).
   */
  tracer?: Tracer;
  /**
   * Initialise dd-trace with these options when the service has not. Ignored (never a second
   * init) when the tracer is already initialised. The adapter adds `plugins: false` (no automatic
   * instrumentation), `startupLogs: false` and `llmobs: { mlApp, agentlessEnabled: false }` unless
   * you set them.
   */
  init?: TracerOptions;
  /** LLM Observability application name (`DD_LLMOBS_ML_APP`); lowercase, see Datadog's naming rules. */
  mlApp?: string;
  /** Service name on the spans (`DD_SERVICE`). */
  service?: string;
  /** Environment on the spans (`DD_ENV`). */
  env?: string;
  /** Tags for every span: `{ team: 'search' }` or `['team:search']` (`DD_TAGS`, `key:value` pairs separated by commas or spaces). */
  tags?: Record<string, string> | readonly string[];
  /** Name of the spans (default `llm.<callType>`, e.g. `llm.chat.completions`). */
  spanName?: string;
  /** Drop message content (prompts, completions, tool arguments) before it leaves the process; metrics stay. */
  redactMessages?: boolean;
  /** @deprecated The former name of `redactMessages` (same meaning); either one set to true redacts. */
  redactContent?: boolean;
  /** Longest a `flush()` waits for the agent to confirm the spans (default 10 000 ms). */
  flushTimeoutMs?: number;
  /** Locked: no header, option or scope can disable this callback. */
  required?: boolean;
  /** Longest one hook call may take (default: the manager's). */
  timeoutMs?: number;
}

/** Options after defaults and environment fallbacks were applied. */
export interface ResolvedOptions {
  name: string;
  tracer?: Tracer;
  init?: TracerOptions;
  mlApp?: string;
  service?: string;
  env?: string;
  tags: Record<string, string>;
  spanName?: string;
  redactMessages: boolean;
  flushTimeoutMs: number;
  required?: boolean;
  timeoutMs?: number;
}

/** A configuration mistake, raised by `datadogCallback()` itself (never from a hook). */
export class DatadogCallbackConfigError extends Error {
  override readonly name = 'DatadogCallbackConfigError';
}

const ML_APP = /^[\p{Ll}\p{Lo}\p{N}_\-:./]{1,193}$/u;

/** Parses `key:value` tags, as in DD_TAGS (separated by commas or spaces). */
export function parseTags(input: string | readonly string[], source: string): Record<string, string> {
  const items = typeof input === 'string' ? input.split(/[,\s]+/) : input;
  const out: Record<string, string> = {};
  for (const raw of items) {
    const item = String(raw).trim();
    if (item === '') continue;
    const at = item.indexOf(':');
    if (at <= 0) throw new DatadogCallbackConfigError(`${source}: tag ${JSON.stringify(item)} is not "key:value".`);
    out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

function optionalString(value: unknown, option: string, envVar?: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new DatadogCallbackConfigError(
      `datadogCallback: ${option}${envVar ? ` (or ${envVar})` : ''} must be a non-empty string, got ${JSON.stringify(value)}.`,
    );
  }
  return value.trim();
}

/** Applies defaults and DD_* fallbacks, and checks every value. Throws {@link DatadogCallbackConfigError}. */
const OPTION_NAMES = Object.keys({
  name: true,
  tracer: true,
  init: true,
  mlApp: true,
  service: true,
  env: true,
  tags: true,
  spanName: true,
  redactMessages: true,
  redactContent: true,
  flushTimeoutMs: true,
  required: true,
  timeoutMs: true,
} satisfies Record<keyof DatadogCallbackOptions, true>);

export function resolveOptions(options: DatadogCallbackOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new DatadogCallbackConfigError('datadogCallback: options must be an object.');
  // A misspelt option (redactMessage, requred) would silently turn a protection off.
  try {
    checkOptionNames('datadogCallback(options)', options, OPTION_NAMES);
  } catch (error) {
    throw new DatadogCallbackConfigError((error as Error).message);
  }
  const fromEnv = (key: string) => (env[key] === undefined || env[key] === '' ? undefined : env[key]);

  const mlApp = optionalString(options.mlApp ?? fromEnv('DD_LLMOBS_ML_APP'), 'mlApp', 'DD_LLMOBS_ML_APP');
  if (mlApp !== undefined && (!ML_APP.test(mlApp) || mlApp.includes('__') || mlApp.endsWith('_'))) {
    throw new DatadogCallbackConfigError(
      `datadogCallback: mlApp (or DD_LLMOBS_ML_APP) ${JSON.stringify(mlApp)} is not a valid LLM Observability application name: use up to 193 lowercase letters, digits, '_', '-', ':', '.' or '/', without double or trailing underscores.`,
    );
  }

  let tags: Record<string, string>;
  if (options.tags === undefined) tags = fromEnv('DD_TAGS') ? parseTags(fromEnv('DD_TAGS') as string, 'DD_TAGS') : {};
  else if (Array.isArray(options.tags)) tags = parseTags(options.tags as readonly string[], 'datadogCallback: tags');
  else if (typeof options.tags === 'object' && options.tags !== null) {
    tags = {};
    for (const [k, v] of Object.entries(options.tags)) {
      if (typeof v !== 'string') throw new DatadogCallbackConfigError(`datadogCallback: tags.${k} must be a string, got ${typeof v}.`);
      tags[k] = v;
    }
  } else throw new DatadogCallbackConfigError('datadogCallback: tags must be an object of strings or a list of "key:value" strings.');

  const flushTimeoutMs = options.flushTimeoutMs ?? 10_000;
  if (typeof flushTimeoutMs !== 'number' || !(flushTimeoutMs > 0) || !Number.isFinite(flushTimeoutMs)) {
    throw new DatadogCallbackConfigError(`datadogCallback: flushTimeoutMs must be a positive number of milliseconds, got ${String(flushTimeoutMs)}.`);
  }
  if (options.tracer !== undefined && (typeof options.tracer !== 'object' || options.tracer === null || typeof options.tracer.init !== 'function')) {
    throw new DatadogCallbackConfigError('datadogCallback: tracer must be the dd-trace tracer (require("dd-trace")).');
  }
  if (options.init !== undefined && (typeof options.init !== 'object' || options.init === null)) {
    throw new DatadogCallbackConfigError('datadogCallback: init must be an object of dd-trace init() options.');
  }

  const resolved: ResolvedOptions = {
    name: options.name ?? 'datadog',
    tags,
    redactMessages: options.redactMessages === true || options.redactContent === true,
    flushTimeoutMs,
  };
  const service = optionalString(options.service ?? fromEnv('DD_SERVICE'), 'service', 'DD_SERVICE');
  const environment = optionalString(options.env ?? fromEnv('DD_ENV'), 'env', 'DD_ENV');
  const spanName = optionalString(options.spanName, 'spanName');
  if (mlApp !== undefined) resolved.mlApp = mlApp;
  if (service !== undefined) resolved.service = service;
  if (environment !== undefined) resolved.env = environment;
  if (spanName !== undefined) resolved.spanName = spanName;
  if (options.tracer !== undefined) resolved.tracer = options.tracer;
  if (options.init !== undefined) resolved.init = options.init;
  if (options.required !== undefined) resolved.required = options.required;
  if (options.timeoutMs !== undefined) resolved.timeoutMs = options.timeoutMs;
  return resolved;
}
