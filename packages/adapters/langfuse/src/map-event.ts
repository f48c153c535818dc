// How one CallEvent becomes Langfuse objects: one trace and one generation, for each of the four
// APIs. Pure functions, no client: what lands in Langfuse can be read (and tested) here alone.
import type { CallEvent } from '@llm-callbacks/core';

type Obj = Record<string, unknown>;
type MapValue = string | number | boolean | string[] | null;

/** The trace-create body (Langfuse TraceBody). */
export interface LangfuseTraceBody {
  id: string;
  name: string;
  timestamp: Date;
  userId?: string;
  sessionId?: string;
  tags?: string[];
  metadata?: Obj;
  input?: unknown;
  output?: unknown;
}

/** The generation-create body (Langfuse CreateGenerationBody). */
export interface LangfuseGenerationBody {
  id: string;
  traceId: string;
  name: string;
  startTime: Date;
  endTime: Date;
  completionStartTime?: Date;
  model: string;
  modelParameters?: Record<string, MapValue>;
  input?: unknown;
  output?: unknown;
  usage?: { input: number; output: number; total: number; unit: 'TOKENS' };
  usageDetails?: { input: number; output: number; total: number };
  metadata: Obj;
  level: 'DEFAULT' | 'WARNING' | 'ERROR';
  statusMessage?: string;
}

/** Options of {@link toLangfuseBodies}. */
export interface MapOptions {
  /** Name used when the event's metadata names neither trace nor generation. */
  traceName?: string;
}

/** Metadata keys with a meaning in Langfuse; everything else goes to the trace's metadata. */
export const METADATA_CONVENTIONS = ['traceId', 'traceName', 'generationName', 'userId', 'sessionId', 'tags'] as const;

/** Request fields reported as model parameters (the rest of the request is the input or irrelevant). */
const MODEL_PARAMETERS = [
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'max_output_tokens',
  'n',
  'presence_penalty',
  'frequency_penalty',
  'logprobs',
  'top_logprobs',
  'seed',
  'stop',
  'response_format',
  'text',
  'reasoning_effort',
  'reasoning',
  'tool_choice',
  'parallel_tool_calls',
  'service_tier',
  'store',
  'truncation',
  'dimensions',
  'encoding_format',
  'best_of',
  'echo',
] as const;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// A Langfuse id: 1-800 characters, no carriage return.
function validId(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  return typeof value === 'string' && value.length > 0 && value.length <= 800 && !value.includes('\r') ? value : undefined;
}

function label(value: unknown): string | undefined {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function tagsOf(value: unknown): string[] | undefined {
  const list = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  if (list === undefined) return undefined;
  const tags = [...new Set(list.map((t) => (typeof t === 'string' ? t.trim() : label(t))).filter((t): t is string => !!t))];
  return tags.length > 0 ? tags : undefined;
}

// Langfuse takes scalars and string lists; anything structured is sent as its JSON text.
function toMapValue(value: unknown): MapValue | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

function modelParameters(event: CallEvent): Record<string, MapValue> | undefined {
  const out: Record<string, MapValue> = {};
  for (const key of MODEL_PARAMETERS) {
    const value = key === 'text' && isObj(event.request['text']) ? event.request['text']['format'] : event.request[key];
    const mapped = toMapValue(value);
    if (mapped !== undefined) out[key === 'text' ? 'text.format' : key] = mapped;
  }
  if (event.stream) out['stream'] = true;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Responses API text of an output list: the output_text parts of its messages. */
function responsesText(output: unknown[]): string | undefined {
  const texts: string[] = [];
  for (const item of output) {
    if (!isObj(item) || item['type'] !== 'message' || !Array.isArray(item['content'])) continue;
    for (const part of item['content']) {
      if (isObj(part) && part['type'] === 'output_text' && typeof part['text'] === 'string') texts.push(part['text']);
    }
  }
  return texts.length > 0 ? texts.join('') : undefined;
}

/** What was sent to the model, in the shape Langfuse renders best (ChatML messages where possible). */
export function inputOf(event: CallEvent): unknown {
  const req = event.request;
  switch (event.callType) {
    case 'chat.completions': {
      const tools = req['tools'] ?? req['functions'];
      return tools === undefined ? req['messages'] : { messages: req['messages'], tools };
    }
    case 'responses': {
      const input = typeof req['input'] === 'string' ? [{ role: 'user', content: req['input'] }] : req['input'];
      if (req['instructions'] === undefined) return input;
      const system = { role: 'system', content: req['instructions'] };
      return Array.isArray(input) ? [system, ...input] : [system, input];
    }
    case 'embeddings':
      return req['input'];
    case 'completions':
      return req['prompt'];
  }
}

/** What the model answered: the message (or messages, for n > 1), the text, or an embedding summary. */
export function outputOf(event: CallEvent): unknown {
  const res = event.response;
  if (!isObj(res)) return res;
  switch (event.callType) {
    case 'chat.completions': {
      if (!Array.isArray(res['choices'])) return res;
      const messages = res['choices'].map((c: unknown) => (isObj(c) ? c['message'] : c));
      return messages.length === 1 ? messages[0] : messages;
    }
    case 'responses': {
      if (!Array.isArray(res['output'])) return res;
      const onlyMessages = res['output'].every((item) => isObj(item) && item['type'] === 'message');
      const text = typeof res['output_text'] === 'string' && res['output_text'] !== '' ? res['output_text'] : responsesText(res['output']);
      return onlyMessages && text !== undefined ? { role: 'assistant', content: text } : res['output'];
    }
    case 'embeddings': {
      const data = Array.isArray(res['data']) ? res['data'] : [];
      const first = data[0];
      return { embeddings: data.length, dimensions: isObj(first) ? first['dimensions'] : undefined };
    }
    case 'completions': {
      if (!Array.isArray(res['choices'])) return res;
      const texts = res['choices'].map((c: unknown) => (isObj(c) ? c['text'] : c));
      return texts.length === 1 ? texts[0] : texts;
    }
  }
}

function statusMessage(event: CallEvent): string | undefined {
  const e = event.error;
  if (e !== undefined) {
    // openai's messages already start with the status ("400 Invalid request"): say it once, first.
    if (e.status === undefined) return `${e.name}: ${e.message}`;
    const message = e.message.startsWith(`${e.status} `) ? e.message.slice(String(e.status).length + 1) : e.message;
    return `${e.status} ${e.name}: ${message}`;
  }
  if (event.streamEnd === 'stopped') return 'The stream was stopped by the consumer before it ended; output and usage may be partial.';
  if (event.streamEnd === 'aborted') return 'The stream was aborted; output and usage may be partial.';
  return undefined;
}

// The client silently discards a body it cannot serialise; user metadata is the one free-form part,
// so a value that cannot be JSON (a BigInt, a cycle) is sent as its string form instead.
function jsonSafe(metadata: Obj): Obj {
  try {
    JSON.stringify(metadata);
    return metadata;
  } catch {
    // fromEntries defines own properties: a user key such as `__proto__` stays data.
    return Object.fromEntries(
      Object.entries(metadata).map(([key, value]): [string, unknown] => {
        try {
          JSON.stringify(value);
          return [key, value];
        } catch {
          return [key, String(value)];
        }
      }),
    );
  }
}

/** Facts about the call that are not model input/output: kept on the generation's metadata. */
function callFacts(event: CallEvent): Obj {
  const facts: Obj = { callType: event.callType, provider: event.provider, stream: event.stream, latencyMs: event.latencyMs };
  if (event.timeToFirstTokenMs !== undefined) facts['timeToFirstTokenMs'] = event.timeToFirstTokenMs;
  if (event.streamEnd !== undefined) facts['streamEnd'] = event.streamEnd;
  if (event.providerRequestId !== undefined) facts['providerRequestId'] = event.providerRequestId;
  if (event.error !== undefined) facts['error'] = event.error;
  if (event.ignoredDisables.length > 0) facts['ignoredDisables'] = event.ignoredDisables;
  return facts;
}

/** The trace and the generation one call becomes. */
export function toLangfuseBodies(event: CallEvent, options: MapOptions = {}): { trace: LangfuseTraceBody; generation: LangfuseGenerationBody } {
  const meta = isObj(event.metadata) ? event.metadata : {};
  const ownTraceId = validId(meta['traceId']);
  const traceId = ownTraceId ?? event.id;
  const defaultName = options.traceName ?? `openai.${event.callType}`;
  const traceName = label(meta['traceName']) ?? defaultName;
  const rest = Object.fromEntries(Object.entries(meta).filter(([k]) => !(METADATA_CONVENTIONS as readonly string[]).includes(k)));
  // An unusable traceId is not silently lost: it stays visible in the trace's metadata.
  if (meta['traceId'] !== undefined && ownTraceId === undefined) rest['traceId'] = meta['traceId'];
  const input = inputOf(event);
  const output = event.status === 'success' ? outputOf(event) : undefined;

  const trace: LangfuseTraceBody = { id: traceId, name: traceName, timestamp: new Date(event.startTime) };
  const userId = label(meta['userId']);
  const sessionId = label(meta['sessionId']);
  const tags = tagsOf(meta['tags']);
  if (userId !== undefined) trace.userId = userId;
  if (sessionId !== undefined) trace.sessionId = sessionId;
  if (tags !== undefined) trace.tags = tags;
  if (Object.keys(rest).length > 0) trace.metadata = jsonSafe(rest);
  // A trace shared by several calls (metadata.traceId) keeps the input and output its owner gave it.
  if (ownTraceId === undefined) {
    if (input !== undefined) trace.input = input;
    if (output !== undefined) trace.output = output;
  }

  const level = event.status === 'failure' ? 'ERROR' : event.streamEnd === 'stopped' || event.streamEnd === 'aborted' ? 'WARNING' : 'DEFAULT';
  const generation: LangfuseGenerationBody = {
    id: event.id,
    traceId,
    name: label(meta['generationName']) ?? (ownTraceId === undefined ? traceName : defaultName),
    startTime: new Date(event.startTime),
    endTime: new Date(event.endTime),
    model: event.model,
    metadata: callFacts(event),
    level,
  };
  if (event.timeToFirstTokenMs !== undefined) generation.completionStartTime = new Date(event.startTime + event.timeToFirstTokenMs);
  const params = modelParameters(event);
  if (params !== undefined) generation.modelParameters = params;
  if (input !== undefined) generation.input = input;
  if (output !== undefined) generation.output = output;
  if (event.usage !== undefined) {
    const { promptTokens: input, completionTokens: output, totalTokens: total } = event.usage;
    // usageDetails is what current Langfuse reads; usage keeps older self-hosted servers informed.
    generation.usage = { input, output, total, unit: 'TOKENS' };
    generation.usageDetails = { input, output, total };
  }
  const message = statusMessage(event);
  if (message !== undefined) generation.statusMessage = message;
  return { trace, generation };
}
