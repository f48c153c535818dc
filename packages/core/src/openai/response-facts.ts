// Facts read off openai responses and errors: usage in one shape, the model, the provider, an error's
// fields. Kept apart from the wrapper so each API's quirks live in one place.
import type { CallError, CallType, Usage } from '../event.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined);

/** Usage in the event's shape, from any of the four APIs' usage objects. */
export function extractUsage(response: unknown): Usage | undefined {
  if (!isObj(response) || !isObj(response['usage'])) return undefined;
  const u = response['usage'];
  // Chat, completions and embeddings say prompt/completion; the Responses API says input/output.
  const prompt = int(u['prompt_tokens']) ?? int(u['input_tokens']);
  const completion = int(u['completion_tokens']) ?? int(u['output_tokens']) ?? 0;
  if (prompt === undefined) return undefined;
  return { promptTokens: prompt, completionTokens: completion, totalTokens: int(u['total_tokens']) ?? prompt + completion };
}

export function responseModel(response: unknown): string | undefined {
  return isObj(response) && typeof response['model'] === 'string' ? response['model'] : undefined;
}

/**
 * Embedding vectors are large and of no use in a log: each one is replaced by its dimension count
 * (decoded from base64 when the client asked for that wire format).
 */
export function summarizeResponse(callType: CallType, response: unknown): unknown {
  if (callType !== 'embeddings' || !isObj(response) || !Array.isArray(response['data'])) return response;
  return {
    ...response,
    data: response['data'].map((item: unknown) => {
      if (!isObj(item)) return item;
      const { embedding, ...rest } = item;
      let dimensions: number | undefined;
      if (Array.isArray(embedding)) dimensions = embedding.length;
      else if (typeof embedding === 'string') dimensions = Math.floor(Buffer.byteLength(embedding, 'base64') / 4);
      return { ...rest, dimensions };
    }),
  };
}

/** `openai` for the official endpoint, `azure` for Azure OpenAI, the host otherwise. */
export function providerOf(baseURL: unknown): string {
  if (typeof baseURL !== 'string') return 'openai';
  try {
    const host = new URL(baseURL).host;
    if (host === 'api.openai.com') return 'openai';
    if (host.endsWith('.openai.azure.com')) return 'azure';
    return host;
  } catch {
    return 'openai';
  }
}

/** The error fields the event records: name, message, and openai's status, code, type, param. */
export function describeError(error: unknown): CallError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const e = error as Error & { status?: unknown; code?: unknown; type?: unknown; param?: unknown };
  // openai's error classes do not set `name`; their constructor's name is the useful one.
  const ctorName = error.constructor?.name;
  const out: CallError = { name: ctorName && ctorName !== 'Error' ? ctorName : error.name, message: error.message };
  if (typeof e.status === 'number') out.status = e.status;
  if (typeof e.code === 'string' || typeof e.code === 'number') out.code = String(e.code);
  if (typeof e.type === 'string') out.type = e.type;
  if (typeof e.param === 'string') out.param = e.param;
  return out;
}

/** True for the errors fetch and openai raise when a request is aborted. */
export function isAbortError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'AbortError' || error.constructor?.name === 'APIUserAbortError';
}
