// The transport hook: the one place every HTTP request of a wrapped client passes, whichever
// method made it (create, parse, stream helpers, models.list, client.post, ...).
//
// openai keeps its fetch function in an instance field; wrapOpenAI wraps it once per client (the
// only change it makes to the client itself, and one that only removes our own headers). On
// every request it removes the disable header(s) and llm-callbacks' own correlation header, so
// neither can leave the process by any route (per-call headers, defaultHeaders, helpers); it learns
// the credential values that actually went on the wire (an `apiKey` function's token, a rotated
// key, an Authorization default header), so events can be scrubbed of them; and it lets a call
// watch its own raw response.
import { isSecretKey } from '../secrets.js';

/** Sent by the wrapper on each reported call so the transport can tell which call a request is. */
export const CALL_HEADER = 'x-llm-callbacks-call';

type Fetch = (input: unknown, init?: RequestInit) => Promise<Response>;

/** Sees a reported call's raw response (and the request's abort signal); may return a replacement (same status, headers, body). */
export type ResponseWatcher = (response: Response, signal: AbortSignal | undefined) => Response;

const MAX_SECRETS = 32;
const TRANSPORT = Symbol.for('@llm-callbacks/core.transport');

export class Transport {
  /** Header names removed from every request (lower-cased), from every manager that wrapped the client. */
  private readonly strip = new Set<string>([CALL_HEADER]);
  /** Credential values seen on the wire, newest last; bounded so key rotation cannot grow it. */
  private readonly seenSecrets: string[] = [];
  private readonly watchers = new Map<string, ResponseWatcher>();
  /** Bumped when a new secret is learned, so a call can tell whether it must scrub again. */
  version = 0;

  constructor(private readonly inner: Fetch) {}

  stripHeaders(names: readonly string[]): void {
    for (const name of names) this.strip.add(name.toLowerCase());
  }

  get secrets(): readonly string[] {
    return this.seenSecrets;
  }

  /** Watches the raw response of the call `callId` (each attempt; the last one wins). */
  watch(callId: string, watcher: ResponseWatcher): () => void {
    this.watchers.set(callId, watcher);
    return () => this.watchers.delete(callId);
  }

  readonly fetch: Fetch = async (input, init) => {
    // openai builds a fresh Headers object for every attempt: edit that one in place (copying
    // undici's Headers costs more than the rest of this hook); anything else is copied first.
    const given = init?.headers;
    const headers = given instanceof Headers ? given : new Headers(given);
    const callId = headers.get(CALL_HEADER);
    for (const name of this.strip) headers.delete(name);
    headers.forEach((value, name) => {
      if (!isSecretKey(name)) return;
      this.learn(value);
      // Each cookie's value too: a provider may echo one cookie without the others.
      if (name === 'cookie') for (const pair of value.split(';')) this.learn(pair.slice(pair.indexOf('=') + 1).trim());
    });
    const response = await this.inner(input, headers === given ? init : { ...init, headers });
    const watcher = callId ? this.watchers.get(callId) : undefined;
    return watcher ? watcher(response, init?.signal ?? undefined) : response;
  };

  private learn(value: string): void {
    if (value.length < 8 || this.seenSecrets.includes(value)) return;
    this.seenSecrets.push(value);
    if (this.seenSecrets.length > MAX_SECRETS) this.seenSecrets.shift();
    this.version += 1;
  }
}

/**
 * The client's transport, installed on first use. Returns undefined for a client without the fetch
 * field this relies on (then only per-call headers of reported calls are stripped).
 */
export function transportOf(client: object): Transport | undefined {
  const raw = client as Record<string | symbol, unknown>;
  const current = raw['fetch'];
  if (typeof current !== 'function') return undefined;
  // Duck-typed, not instanceof: the ESM and CommonJS builds of core may both be loaded.
  const installed = (current as unknown as Record<symbol, unknown>)[TRANSPORT] as Transport | undefined;
  if (installed && typeof installed.watch === 'function') return installed;
  const transport = new Transport(current.bind(undefined) as Fetch);
  Object.defineProperty(transport.fetch, TRANSPORT, { value: transport });
  raw['fetch'] = transport.fetch;
  return transport;
}
