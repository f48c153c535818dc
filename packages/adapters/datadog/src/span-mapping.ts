// How one CallEvent becomes an LLM Observability span: the messages in and out for each of the four
// APIs, token metrics, time to first token, metadata, tags and the error fields of a failed call.
import type { CallEvent } from '@llm-callbacks/core';

/** A message in dd-trace's `annotate()` form (`content` is always a string, as the intake requires). */
export interface SpanMessage {
  role: string;
  content: string;
}

export interface SpanAnnotation {
  inputData: SpanMessage[];
  outputData?: SpanMessage[];
  metrics: Record<string, number>;
  metadata: Record<string, unknown>;
  tags: Record<string, string | string[]>;
}

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value));

/** Text of a message content: a string, or a list of parts (`text`, `input_text`, `output_text`, images...). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return str(content);
  return content
    .map((part) => {
      if (typeof part === 'string') return part;
      if (!isRecord(part)) return '';
      if (typeof part['text'] === 'string') return part['text'];
      if (typeof part['refusal'] === 'string') return part['refusal'];
      return `[${str(part['type']) || 'part'}]`;
    })
    .join('');
}

function toolCallsText(calls: unknown): string {
  if (!Array.isArray(calls)) return '';
  return calls
    .map((call) => {
      const fn = isRecord(call) && isRecord(call['function']) ? call['function'] : isRecord(call) ? call : {};
      return `[tool call ${str(fn['name'])}(${str(fn['arguments'])})]`;
    })
    .join('\n');
}

function chatMessage(message: unknown): SpanMessage {
  if (!isRecord(message)) return { role: '', content: str(message) };
  const parts = [textOf(message['content']), toolCallsText(message['tool_calls'])].filter((p) => p !== '');
  return { role: str(message['role']), content: parts.join('\n') };
}

function inputMessages(event: CallEvent): SpanMessage[] {
  const req = event.request;
  switch (event.callType) {
    case 'chat.completions':
      return Array.isArray(req['messages']) ? req['messages'].map(chatMessage) : [];
    case 'responses': {
      const out: SpanMessage[] = [];
      if (req['instructions'] !== undefined) out.push({ role: 'system', content: textOf(req['instructions']) });
      const input = req['input'];
      if (typeof input === 'string') out.push({ role: 'user', content: input });
      else if (Array.isArray(input)) {
        for (const item of input) {
          if (!isRecord(item)) out.push({ role: 'user', content: str(item) });
          else if (item['type'] === 'function_call') out.push({ role: 'assistant', content: toolCallsText([item]) });
          else if (item['type'] === 'function_call_output') out.push({ role: 'tool', content: str(item['output']) });
          else out.push({ role: str(item['role']) || 'user', content: textOf(item['content']) });
        }
      }
      return out;
    }
    case 'completions': {
      const prompt = req['prompt'];
      return (Array.isArray(prompt) ? prompt : [prompt]).map((p) => ({ role: 'user', content: str(p) }));
    }
    case 'embeddings': {
      const input = req['input'];
      if (Array.isArray(input) && input.every((i) => typeof i === 'string')) return input.map((i) => ({ role: 'user', content: i }));
      return [{ role: 'user', content: str(input) }];
    }
  }
}

function outputMessages(event: CallEvent): SpanMessage[] | undefined {
  const res = event.response;
  if (event.status !== 'success' || !isRecord(res)) return undefined;
  switch (event.callType) {
    case 'chat.completions':
      return Array.isArray(res['choices']) ? res['choices'].map((c) => chatMessage(isRecord(c) ? c['message'] : undefined)) : undefined;
    case 'responses': {
      const items = Array.isArray(res['output']) ? res['output'] : [];
      const out: SpanMessage[] = [];
      for (const item of items) {
        if (!isRecord(item)) continue;
        if (item['type'] === 'message') out.push({ role: str(item['role']) || 'assistant', content: textOf(item['content']) });
        else if (item['type'] === 'function_call') out.push({ role: 'assistant', content: toolCallsText([item]) });
      }
      if (out.length === 0 && typeof res['output_text'] === 'string') out.push({ role: 'assistant', content: res['output_text'] });
      return out;
    }
    case 'completions':
      return Array.isArray(res['choices']) ? res['choices'].map((c) => ({ role: 'assistant', content: str(isRecord(c) ? c['text'] : c) })) : undefined;
    case 'embeddings': {
      // Core replaces each vector by its size: report how many came back, not the numbers.
      const data = Array.isArray(res['data']) ? res['data'] : [];
      const dims = isRecord(data[0]) ? data[0]['dimensions'] : undefined;
      return [
        { role: 'assistant', content: `[${data.length} embedding${data.length === 1 ? '' : 's'}${typeof dims === 'number' ? `, ${dims} dimensions` : ''}]` },
      ];
    }
  }
}

const REQUEST_PARAMETERS = [
  'temperature',
  'max_tokens',
  'max_completion_tokens',
  'max_output_tokens',
  'top_p',
  'n',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'stop',
  'reasoning_effort',
  'dimensions',
  'encoding_format',
];

/** User metadata keys that have a Datadog home of their own (session_id, tags) instead of `metadata`. */
const PROMOTED_METADATA = new Set(['sessionId', 'userId', 'tags']);

/** Tags from `metadata.tags`: `key:value` strings become that tag; a bare word becomes a `tag:<word>` tag. */
export function metadataTags(value: unknown): Record<string, string | string[]> {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  const out: Record<string, string | string[]> = {};
  const bare: string[] = [];
  for (const raw of items) {
    if (typeof raw !== 'string' || raw.trim() === '') continue;
    // The intake splits tags on commas: keep each tag free of them.
    const item = raw.trim().replaceAll(',', '_');
    const at = item.indexOf(':');
    if (at > 0) out[item.slice(0, at)] = item.slice(at + 1);
    else bare.push(item);
  }
  // dd-trace sends a list value as one `tag:<word>` entry per word.
  if (bare.length > 0) out['tag'] = bare;
  return out;
}

/** The session id Datadog groups spans by, from `metadata.sessionId`. */
export function sessionIdOf(event: CallEvent): string | undefined {
  const id = event.metadata['sessionId'];
  return typeof id === 'string' && id !== '' ? id : typeof id === 'number' ? String(id) : undefined;
}

/** Everything `llmobs.annotate()` receives for one call. */
export function annotationFor(event: CallEvent, baseTags: Readonly<Record<string, string>>): SpanAnnotation {
  const metrics: Record<string, number> = {};
  if (event.usage) {
    metrics['input_tokens'] = event.usage.promptTokens;
    metrics['output_tokens'] = event.usage.completionTokens;
    metrics['total_tokens'] = event.usage.totalTokens;
  }
  // Datadog documents time_to_first_token in seconds.
  if (event.timeToFirstTokenMs !== undefined) metrics['time_to_first_token'] = event.timeToFirstTokenMs / 1000;

  const metadata: Record<string, unknown> = { event_id: event.id, call_type: event.callType, stream: event.stream };
  if (event.streamEnd !== undefined) metadata['stream_end'] = event.streamEnd;
  if (event.providerRequestId !== undefined) metadata['provider_request_id'] = event.providerRequestId;
  if (event.disabledCallbacks.length > 0) metadata['disabled_callbacks'] = event.disabledCallbacks.join(',');
  for (const key of REQUEST_PARAMETERS) {
    const value = event.request[key];
    if (value !== undefined && value !== null) metadata[key] = value;
  }
  // fromEntries defines own properties: a user key such as `__proto__` stays data.
  const user: Record<string, unknown> = Object.fromEntries(Object.entries(event.metadata).filter(([key]) => !PROMOTED_METADATA.has(key)));
  if (Object.keys(user).length > 0) metadata['user_metadata'] = user;

  const tags: Record<string, string | string[]> = { ...baseTags, ...metadataTags(event.metadata['tags']) };
  const userId = event.metadata['userId'];
  if (typeof userId === 'string' || typeof userId === 'number') tags['user_id'] = String(userId);

  const annotation: SpanAnnotation = { inputData: inputMessages(event), metrics, metadata, tags };
  const output = outputMessages(event);
  if (output !== undefined) annotation.outputData = output;
  return annotation;
}

/**
 * The Error whose fields dd-trace copies to `meta["error.message"]`, `["error.type"]` and
 * `["error.stack"]`. All three are always non-empty strings: the intake refuses error fields that
 * are null or missing on a failed span. A provider error has no stack in this process, so the
 * "stack" carries what the provider answered (status, code, type, param, request id).
 */
export function errorFor(event: CallEvent): Error {
  const source = event.error;
  const type = source?.name && source.name !== '' ? source.name : 'Error';
  const message = source?.message && source.message !== '' ? source.message : `${event.callType} call failed`;
  const details = [
    source?.status !== undefined ? `status ${source.status}` : undefined,
    source?.code ? `code ${source.code}` : undefined,
    source?.type ? `type ${source.type}` : undefined,
    source?.param ? `param ${source.param}` : undefined,
    event.providerRequestId ? `request id ${event.providerRequestId}` : undefined,
  ].filter((d): d is string => d !== undefined);
  const error = new Error(message);
  error.name = type;
  error.stack = `${type}: ${message}\n    at ${event.provider} ${event.callType} (${details.length > 0 ? details.join(', ') : 'no details'})`;
  return error;
}
