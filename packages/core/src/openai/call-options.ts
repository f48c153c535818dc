// Splits a call's second argument into llm-callbacks' own options and openai's request options, and
// takes the disable header(s) out so they never reach the provider.
import { forEachHeader } from '../disable-policy.js';
import { isSecretKey } from '../secrets.js';

/** Options llm-callbacks adds to the second argument of every wrapped `create()`. */
export interface CallOptions {
  /** Callback names to switch off for this call: a name, a comma-separated list, or an array. */
  disableCallbacks?: string | readonly string[];
  /** Added to the event's `metadata` (over the request scope's). */
  metadata?: Record<string, unknown>;
}

export interface SplitOptions {
  /** What openai receives: the caller's options minus ours, disable headers set to null. */
  openaiOptions: Record<string, unknown>;
  disableCallbacks: unknown;
  metadata: Record<string, unknown> | undefined;
  /** The caller's own headers, to read the disable header from. */
  headers: unknown;
  /** Values of credential-like headers, so that an echo of them can be scrubbed from events. */
  headerSecrets: string[];
}

type HeaderRow = [string, string | readonly string[] | null | undefined];

export function splitCallOptions(options: unknown, disableHeaders: readonly string[]): SplitOptions {
  const source = typeof options === 'object' && options !== null ? (options as Record<string, unknown>) : {};
  const { disableCallbacks, metadata, ...openaiOptions } = source;
  const headers = source['headers'];
  const rows: HeaderRow[] = [];
  const headerSecrets: string[] = [];
  if (typeof headers === 'object' && headers !== null) {
    forEachHeader(headers, (name, value) => {
      if (disableHeaders.includes(name.toLowerCase())) return;
      if (isSecretKey(name) && typeof value === 'string') headerSecrets.push(value);
      rows.push([name, value as HeaderRow[1]]);
    });
  }
  // An explicit null removes the header from openai's merged headers, including the client's
  // defaultHeaders, so the disable header cannot leave the process by any route.
  for (const name of disableHeaders) rows.push([name, null]);
  openaiOptions['headers'] = rows;
  return {
    openaiOptions,
    disableCallbacks,
    metadata: typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>) : undefined,
    headers,
    headerSecrets,
  };
}
