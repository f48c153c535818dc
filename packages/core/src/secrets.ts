// Keeps secrets out of events: a detached, JSON-safe copy of any value with credential fields and
// known secret strings (the client's API key, auth header values) replaced by a marker.
//
// The copy is also what makes an event independent of the caller's objects: a chat loop that pushes
// the reply onto the same `messages` array after the call must not change what was logged.

/** The text that replaces credentials (API keys, authorization headers, secret fields) wherever they would appear in an event. */
export const REDACTED = '[REDACTED]';

/**
 * Credential field names, compared without case, '-' or '_': a name that ends with one of these
 * (`openai_api_key`, `aws_session_token`, `Helicone-Auth`, `client_secret`, `x-api-token`) or is
 * one of the exact names below. A bare `token` is not one: chat logprobs carry a `token` field
 * that is content (but `hf_token`, `id_token`, `access_token` are credentials).
 */
const SECRET_SUFFIXES = [
  'apikey',
  'apitoken',
  'apisecret',
  'authorization',
  'auth',
  'password',
  'passwd',
  'secret',
  'secretkey',
  'privatekey',
  'accesskey',
  'subscriptionkey',
  'credential',
  'credentials',
  'cookie',
  'token',
] as const;
const SECRET_EXACT = new Set(['jwt', 'bearer', 'signature']);

const MAX_DEPTH = 32;

/** Answers for field names seen before: the same few keys (role, content, model, ...) recur in every event. */
const keyVerdicts = new Map<string, boolean>();
const MAX_REMEMBERED_KEYS = 2048;

export function isSecretKey(key: string): boolean {
  const known = keyVerdicts.get(key);
  if (known !== undefined) return known;
  const normal = key.toLowerCase().replace(/[-_]/g, '');
  const verdict = SECRET_EXACT.has(normal) || (normal !== 'token' && SECRET_SUFFIXES.some((suffix) => normal.endsWith(suffix)));
  // Bounded: arbitrary user keys (metadata, tool arguments) must not grow it without end.
  if (keyVerdicts.size < MAX_REMEMBERED_KEYS) keyVerdicts.set(key, verdict);
  return verdict;
}

/**
 * A JSON object key that isSecretKey() may match: one ending in a credential suffix (or one of the
 * exact names), any letter case, '-' or '_' anywhere. It may say yes more often than isSecretKey
 * (a bare "token"); then copy() decides. Lets a JSON text be cleared of credential fields without
 * parsing it.
 */
const SECRET_KEY_IN_JSON = new RegExp(
  `"[^"]*?(?:${[...SECRET_SUFFIXES, ...SECRET_EXACT].map((key) => key.split('').join('[-_]*')).join('|')})[-_]*"\\s*:`,
  'i',
);

/** Secrets shorter than this are not searched inside strings: they would match ordinary text. */
const MIN_SECRET_LENGTH = 8;

/**
 * `name=value` / `name: value` pairs whose name says credential, as providers and gateways echo them
 * in error messages (a query string, a header dump, a body field). Values we never saw (a gateway's
 * own header, a key passed in the base URL) can only be caught by their name.
 */
const CREDENTIAL_ECHO =
  /((?:api[-_]?key|access[-_]?key|secret(?:[-_]?key)?|subscription[-_]?key|[-_]key|\bkey|token|password|passwd|signature|authorization|credential|cookie)["']?\s*[:=]\s*["']?)(?:(?:Bearer|Basic|Token)\s+)?([^\s"'&,;)]{4,})/gi;

/** Replaces the values of credential-named pairs in free text (provider error messages). */
export function scrubCredentialEchoes(text: string): string {
  return text.replace(CREDENTIAL_ECHO, (_match, name: string) => `${name}${REDACTED}`);
}

export class SecretScrubber {
  private readonly secrets: string[];
  private readonly jsonForms: string[];

  constructor(secrets: Iterable<string | undefined | null>) {
    const list = new Set<string>();
    for (const s of secrets) {
      if (typeof s === 'string' && s.length >= MIN_SECRET_LENGTH) {
        list.add(s);
        // "Bearer sk-..." style values: also catch the bare token.
        const bare = s.replace(/^(Bearer|Basic|Token)\s+/i, '');
        if (bare.length >= MIN_SECRET_LENGTH) list.add(bare);
      }
    }
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = [...list].sort((a, b) => b.length - a.length);
    // As each secret appears inside a JSON string (a quote or backslash in it is escaped there).
    this.jsonForms = this.secrets.map((secret) => JSON.stringify(secret).slice(1, -1));
  }

  /** A scrubber that also knows `more` secrets. */
  with(more: Iterable<string | undefined | null>): SecretScrubber {
    return new SecretScrubber([...this.secrets, ...more]);
  }

  scrubString(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  /**
   * Whether `json` (a JSON text) may hold something copy() would replace: a known secret, or a
   * field whose name says credential. When not, the text parsed again is already a clean copy.
   */
  mayAffect(json: string): boolean {
    // A \u or \/ escape can spell a secret or a credential's name in a form the searches below do
    // not see (JSON.stringify never writes them, but a provider may): leave such text to copy().
    if (json.includes('\\u') || json.includes('\\/')) return true;
    for (let i = 0; i < this.secrets.length; i++) {
      if (json.includes(this.secrets[i] as string) || json.includes(this.jsonForms[i] as string)) return true;
    }
    return SECRET_KEY_IN_JSON.test(json);
  }

  /** A detached, JSON-safe copy of `value` with secrets replaced. Never throws. */
  copy(value: unknown): unknown {
    return this.walk(value, 0, new Set());
  }

  private walk(value: unknown, depth: number, seen: Set<object>): unknown {
    switch (typeof value) {
      case 'string':
        return this.secrets.length === 0 ? value : this.scrubString(value);
      case 'number':
      case 'boolean':
        return value;
      case 'bigint':
        return value.toString();
      case 'undefined':
        return undefined;
      case 'function':
      case 'symbol':
        return undefined;
    }
    if (value === null) return null;
    const obj = value as object;
    if (seen.has(obj)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[Truncated: too deep]';
    if (ArrayBuffer.isView(obj)) return `[${obj.constructor.name} ${obj.byteLength} bytes]`;
    if (obj instanceof ArrayBuffer) return `[ArrayBuffer ${obj.byteLength} bytes]`;
    if (obj instanceof Date) return obj.toISOString();
    if (typeof Blob !== 'undefined' && obj instanceof Blob) return `[${obj.constructor.name} ${obj.size} bytes]`;
    seen.add(obj);
    try {
      if (Array.isArray(obj)) return obj.map((item) => this.walk(item, depth + 1, seen) ?? null);
      const proto = Object.getPrototypeOf(obj) as object | null;
      if (proto !== Object.prototype && proto !== null) {
        // Streams, sockets, signals and other live objects: describe them, never traverse them.
        const json = (obj as { toJSON?: () => unknown }).toJSON;
        if (typeof json === 'function') return this.walk(json.call(obj), depth + 1, seen);
        return `[${obj.constructor?.name ?? 'Object'}]`;
      }
      const out: Record<string, unknown> = {};
      const record = obj as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (isSecretKey(key)) out[key] = REDACTED;
        else {
          const copied = this.walk(record[key], depth + 1, seen);
          if (copied !== undefined) setOwn(out, key, copied);
        }
      }
      return out;
    } catch {
      return '[Unreadable]';
    } finally {
      seen.delete(obj);
    }
  }
}

/**
 * `target[key] = value` as an own data property even for the key `__proto__`, which a plain
 * assignment would turn into a prototype change (user data such as JSON bodies and metadata can
 * carry that key: the copy must keep it as data, not let it reshape the event object).
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Copies the own enumerable fields of `source` onto `target` with {@link setOwn}. */
export function assignOwn(target: Record<string, unknown>, source: object): void {
  for (const key of Object.keys(source)) setOwn(target, key, (source as Record<string, unknown>)[key]);
}
