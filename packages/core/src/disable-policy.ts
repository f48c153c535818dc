// The disable policy: which callbacks a call switches off, from every source, decided once at call
// start. This is the only place that reads disable requests; everything else uses its decision.
//
// Rules (shared/DESIGN.md): sources are the call option, the configured header(s) on the call and the
// request scope; their union applies. Values are split on commas, trimmed, compared
// case-insensitively; empties and duplicates are ignored. Unknown names, over-long values and values
// of the wrong type are reported, never thrown. A lock (manager-wide or `required` on one callback)
// refuses every source. Any internal error fails closed: nothing is disabled.
//
// "Don't log this" flags found anywhere else (LiteLLM's `no-log` in the request body, a
// `disable_callbacks` key in metadata, ...) are never a way to disable, locked or not: there are
// exactly three routes, so an auditor has exactly three to check. Such a flag is reported (reason
// `not-a-disable-source`) so the team that sent it learns it had no effect; the body is the caller's
// request to the provider and goes out unchanged.
import type { DisableSource, IgnoredDisable } from './event.js';
import type { ScopeChain } from './request-scope.js';

/** Default name of the header that disables callbacks (LiteLLM's). */
export const DEFAULT_DISABLE_HEADER = 'x-litellm-disable-callbacks';
/** Longest accepted value of one disable source; a longer one is ignored and reported. */
export const MAX_DISABLE_VALUE_LENGTH = 8192;

/** A registered callback as the disable policy sees it: its name and whether it is `required` (never disabled). */
export interface PolicyTarget {
  /** Canonical name as registered. */
  readonly name: string;
  readonly required: boolean;
}

/** The manager's disable policy as {@link decideDisabled} reads it: the compliance lock, the header names, the value length limit. */
export interface PolicyConfig {
  /** false: every source is ignored and every callback runs (the compliance lock). */
  readonly allowDynamicCallbackDisabling: boolean;
  /** Header names to read, lower-cased. */
  readonly headerNames: readonly string[];
  readonly maxValueLength: number;
}

/** Everything a call could use to disable callbacks. */
export interface DisableRequest {
  /** The `disableCallbacks` call option. */
  readonly option?: unknown;
  /** The call's own headers (any shape openai accepts). */
  readonly headers?: unknown;
  /** The request scopes in force when the call started. */
  readonly scopes?: ScopeChain;
  /** The request body, only searched for "don't log" flags (which are reported, never applied). */
  readonly body?: unknown;
  /** The call's `metadata` option, only searched for "don't log" flags. */
  readonly metadata?: unknown;
}

/**
 * Keys of "don't log" flags from other tools, compared without case, '-' or '_': LiteLLM's `no-log`
 * request parameter and the spellings of a disable list people put in metadata.
 */
const NO_LOG_KEYS = new Set(['nolog', 'disablelogging', 'disablecallbacks', 'disabledcallbacks', 'litellmdisabledcallbacks']);

/** The result of {@link decideDisabled}: what one call switches off, what it asked for and did not get, and why. */
export interface DisableDecision {
  /** Canonical names of the callbacks switched off, in registration order. */
  readonly disabled: readonly string[];
  /** What was asked for and not applied, with the reason. */
  readonly ignored: readonly IgnoredDisable[];
  /** For each disabled name, the sources that asked for it. */
  readonly sources: Readonly<Record<string, readonly DisableSource[]>>;
  /** Set when the policy itself failed; nothing was disabled (fail closed). */
  readonly internalError?: Error;
}

export const NOTHING_DISABLED: DisableDecision = Object.freeze({
  disabled: Object.freeze([]) as readonly string[],
  ignored: Object.freeze([]) as readonly IgnoredDisable[],
  sources: Object.freeze({}),
});

interface Requested {
  name: string;
  /** `name` lower-cased, computed once. */
  lower: string;
  source: DisableSource;
}

/**
 * What one decision has collected so far. Duplicates (same source, same name) are found by a scan
 * while the list is short (the usual case, and the cheapest), then by a Set of `source\0name`
 * built once the list grows, so a long header never costs quadratic time.
 */
interface Collected {
  readonly out: Requested[];
  seen: Set<string> | undefined;
}

const SCAN_LIMIT = 16;

/** Adds `name` from `source` unless it is already there. */
function addRequested(collected: Collected, name: string, source: DisableSource): void {
  const lower = name.toLowerCase();
  const { out } = collected;
  if (collected.seen === undefined && out.length >= SCAN_LIMIT) collected.seen = new Set(out.map((r) => `${r.source}\u0000${r.lower}`));
  if (collected.seen === undefined) {
    for (const r of out) if (r.lower === lower && r.source === source) return;
  } else {
    const key = `${source}\u0000${lower}`;
    if (collected.seen.has(key)) return;
    collected.seen.add(key);
  }
  out.push({ name, lower, source });
}

/** Decides which of `targets` the request disables. Never throws. */
export function decideDisabled(targets: ReadonlyMap<string, PolicyTarget>, config: PolicyConfig, request: DisableRequest): DisableDecision {
  try {
    const requested: Requested[] = [];
    const collected: Collected = { out: requested, seen: undefined };
    const ignored: IgnoredDisable[] = [];
    collectValue(request.option, 'option', config, collected, ignored);
    collectHeaders(request.headers, 'header', config, collected, ignored);
    for (const scope of request.scopes ?? []) {
      collectValue(scope.disableCallbacks, 'scope', config, collected, ignored);
      collectHeaders(scope.headers, 'scope', config, collected, ignored);
      collectFlags(scope.metadata, 'metadata', ignored);
    }
    collectFlags(request.metadata, 'metadata', ignored);
    collectFlags(request.body, 'body', ignored);
    if (isPlainObject(request.body)) collectFlags(request.body['metadata'], 'body', ignored);
    if (requested.length === 0 && ignored.length === 0) return NOTHING_DISABLED;

    // A Map, not a plain object: a callback named "constructor" or "toString" must not be found on
    // Object.prototype and counted as requested.
    const sources = new Map<string, DisableSource[]>();
    const seenIgnored = new Set<string>();
    const ignore = (entry: IgnoredDisable): void => {
      const key = `${entry.name.toLowerCase()}\u0000${entry.source}\u0000${entry.reason}`;
      if (!seenIgnored.has(key)) {
        seenIgnored.add(key);
        ignored.push(entry);
      }
    };
    for (const { name, lower, source } of requested) {
      const target = targets.get(lower);
      if (!target) ignore({ name, source, reason: 'unknown-callback' });
      else if (!config.allowDynamicCallbackDisabling) ignore({ name: target.name, source, reason: 'locked' });
      else if (target.required) ignore({ name: target.name, source, reason: 'required' });
      else {
        let list = sources.get(target.name);
        if (!list) sources.set(target.name, (list = []));
        if (!list.includes(source)) list.push(source);
      }
    }
    const disabled: string[] = [];
    for (const target of targets.values()) if (sources.has(target.name)) disabled.push(target.name);
    return { disabled, ignored, sources: sourcesRecord(disabled, sources) };
  } catch (error) {
    return { ...NOTHING_DISABLED, internalError: error instanceof Error ? error : new Error(String(error)) };
  }
}

/** Splits one disable value (string, comma list, or array of those) into names. */
function collectValue(value: unknown, source: DisableSource, config: PolicyConfig, collected: Collected, ignored: IgnoredDisable[]): void {
  if (value === undefined || value === null) return;
  if (typeof value === 'string') {
    if (value.length > config.maxValueLength) {
      // Only its size: the value itself (a header) is never copied into an event.
      ignored.push({ name: `(a value of ${value.length} characters)`, source, reason: 'value-too-long' });
      return;
    }
    for (const part of value.split(',')) {
      const name = part.trim();
      if (name) addRequested(collected, name, source);
    }
    return;
  }
  if (Array.isArray(value)) {
    // Measured as the comma-joined value, so ['a', 'b'] is bounded exactly like 'a,b'.
    let total = -1;
    for (const item of value) total += typeof item === 'string' ? item.length + 1 : 0;
    if (total > config.maxValueLength) {
      ignored.push({ name: `(${value.length} values, ${total} characters)`, source, reason: 'value-too-long' });
      return;
    }
    for (const item of value) collectValue(item, source, config, collected, ignored);
    return;
  }
  ignored.push({ name: describe(value), source, reason: 'invalid-value' });
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Whether `key` is a "don't log" flag. Remembered per key: a request body has the same few keys on
 * every call, and normalising each one every time was a good part of the decision's cost. Bounded,
 * so a stream of distinct keys cannot grow it.
 */
const noLogKeyCache = new Map<string, boolean>();
function isNoLogKey(key: string): boolean {
  let known = noLogKeyCache.get(key);
  if (known === undefined) {
    known = key.length <= 40 && NO_LOG_KEYS.has(key.toLowerCase().replace(/[-_]/g, ''));
    if (noLogKeyCache.size < 1024) noLogKeyCache.set(key, known);
  }
  return known;
}

/**
 * `{ name: sources }` for the disabled names, as own data properties whatever the name: assigned
 * (fast) unless the name exists on Object.prototype (`__proto__`, `constructor`, ...), which is
 * defined instead so it can never reach or trip over the prototype.
 */
function sourcesRecord(disabled: readonly string[], sources: ReadonlyMap<string, DisableSource[]>): Record<string, DisableSource[]> {
  const record: Record<string, DisableSource[]> = {};
  for (const name of disabled) {
    const list = sources.get(name) ?? [];
    if (name in Object.prototype) Object.defineProperty(record, name, { value: list, enumerable: true, writable: true, configurable: true });
    else record[name] = list;
  }
  return record;
}

/** Reports "don't log" flags among an object's own keys (they are never applied). */
function collectFlags(value: unknown, source: DisableSource, ignored: IgnoredDisable[]): void {
  if (!isPlainObject(value)) return;
  for (const key of Object.keys(value)) {
    if (!isNoLogKey(key)) continue;
    const flag = value[key];
    const shown =
      typeof flag === 'string' ? JSON.stringify(flag.slice(0, 64)) : typeof flag === 'object' ? (Array.isArray(flag) ? '(array)' : '(object)') : String(flag);
    ignored.push({ name: `${key}=${shown}`, source, reason: 'not-a-disable-source' });
  }
}

/** Reads the configured disable header(s) from any header shape openai or node:http uses. */
function collectHeaders(headers: unknown, source: DisableSource, config: PolicyConfig, collected: Collected, ignored: IgnoredDisable[]): void {
  if (headers === undefined || headers === null || typeof headers !== 'object') return;
  forEachHeader(headers, (name, value) => {
    if (config.headerNames.includes(name.toLowerCase())) collectValue(value, source, config, collected, ignored);
  });
}

/** Calls `visit` for every header in a Headers object, a tuple list or a plain record. */
export function forEachHeader(headers: object, visit: (name: string, value: unknown) => void): void {
  if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    (headers as Headers).forEach((value, name) => visit(name, value));
  } else if (Array.isArray(headers)) {
    for (const entry of headers) {
      if (Array.isArray(entry) && typeof entry[0] === 'string') visit(entry[0], entry[1]);
    }
  } else {
    // Object.keys, not Object.entries: the same own keys in the same order, without a pair per header.
    for (const name of Object.keys(headers)) visit(name, (headers as Record<string, unknown>)[name]);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'object') return `(${Array.isArray(value) ? 'array' : 'object'} value)`;
  return `(${typeof value} value ${String(value).slice(0, 32)})`;
}
