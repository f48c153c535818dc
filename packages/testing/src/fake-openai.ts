// A fake OpenAI-compatible HTTP server (node:http only) for tests and the demo. It speaks the wire
// protocol closely enough that the unmodified `openai` client works against it, and it records
// every request. The request body's `model` picks a scenario (errors, retries, slow answers, broken
// streams), so a demo can trigger each one just by choosing a model name.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface RecordedRequest {
  method: string;
  /** Pathname, e.g. '/v1/chat/completions'. */
  path: string;
  query: Record<string, string>;
  /** Lower-cased names; repeated headers are joined with ', '. */
  headers: Record<string, string>;
  rawBody: string;
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  body: unknown;
  receivedAt: number;
  /** Status of the answer, set once it is sent (absent while the server is still waiting). */
  status?: number;
  /** Number of SSE events written, for streamed answers. */
  sseEventsSent?: number;
  /** True once the client closed the connection before the answer was complete. */
  clientDisconnected?: boolean;
}

export interface FakeOpenAIServer {
  /** Base URL for the openai client, e.g. 'http://127.0.0.1:PORT/v1'. */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Clears recorded requests and per-scenario counters. */
  reset(): void;
  /** Closes the server and destroys open sockets, so open streams and keep-alive do not block it. */
  close(): Promise<void>;
}

export interface FakeOpenAIOptions {
  port?: number;
  /** Defaults to '127.0.0.1'. */
  host?: string;
  /** Pause between streamed chunks; defaults to 0. */
  chunkDelayMs?: number;
}

/** Model names that trigger a special behaviour; any other model is answered normally. */
export const FAKE_OPENAI_SCENARIOS = [
  'error-400',
  'error-401',
  'error-404',
  'error-429',
  'error-500',
  'flaky-500',
  'bad-json',
  'body-cut',
  'empty-json',
  'slow',
  'echo-key',
  'echo-credentials',
  'tool-call',
  'stream-cut',
  'stream-slow',
  'stream-error-event',
  'stream-response-failed',
] as const;

export type FakeOpenAIScenario = (typeof FAKE_OPENAI_SCENARIOS)[number];

const SLOW_DELAY_MS = 500;
const STREAM_SLOW_CHUNKS = 20;
const STREAM_SLOW_DELAY_MS = 100;
const DEFAULT_EMBEDDING_DIMENSIONS = 8;
const SYSTEM_FINGERPRINT = 'fp_fake0a1b2c';
const TOOL_NAME = 'get_weather';
const TOOL_ARGUMENTS = '{"city":"Paris"}';
// OpenAI streams tool arguments in small fragments; wrappers must concatenate them.
const TOOL_ARGUMENT_PIECES = ['{"', 'city', '":"', 'Paris', '"}'];

const MODELS = [
  { id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' },
  { id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'system' },
  { id: 'text-embedding-3-small', object: 'model', created: 1705948997, owned_by: 'system' },
];

const FILES = [1, 2, 3, 4, 5].map((n) => ({
  id: `file-fake${String(n).padStart(4, '0')}`,
  object: 'file',
  bytes: 1000 * n,
  created_at: 1735689600 + n * 60,
  expires_at: null,
  filename: `data-${n}.jsonl`,
  purpose: 'fine-tune',
  status: 'processed',
  status_details: null,
}));

type JsonObject = Record<string, unknown>;

interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** One SSE event; `kind` lets scenarios cut a stream after its first content deltas. */
interface SseEvent {
  kind: 'head' | 'delta' | 'tail';
  event?: string;
  data: string;
}

interface StreamPlan {
  events: SseEvent[];
  /** The in-band error for `stream-error-event`; `sent` is the number of events already written. */
  errorEvent(sent: number): SseEvent;
}

interface Exchange {
  res: ServerResponse;
  record: RecordedRequest;
  requestId: string;
  /** Aborted when the connection closes, so waits and stream loops stop early. */
  signal: AbortSignal;
  markServerCut(): void;
}

interface ServerState {
  chunkDelayMs: number;
  /** Per-server counter so generated ids are deterministic between resets. */
  nextId: number;
  /** Requests per model since the last reset, for debugging a demo run. */
  scenarioCounts: Map<string, number>;
}

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function makeId(state: ServerState, prefix: string): string {
  state.nextId += 1;
  return `${prefix}fake${String(state.nextId).padStart(6, '0')}`;
}

/** Rough token estimate (~4 characters a token), good enough for plausible usage numbers. */
function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}

/** Splits text into word-sized pieces that concatenate back to the exact original. */
function splitWords(text: string): string[] {
  return text.split(/(?<=\s)(?=\S)/).filter((piece) => piece.length > 0);
}

function slowPieces(): string[] {
  return Array.from({ length: STREAM_SLOW_CHUNKS }, (_, i) => (i + 1 < STREAM_SLOW_CHUNKS ? `${i + 1} ` : `${i + 1}`));
}

/** Text of a message `content`: a string or an array of parts with `text` fields. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content) {
    if (typeof part === 'string') texts.push(part);
    else if (isRecord(part) && typeof part.text === 'string') texts.push(part.text);
  }
  return texts.join(' ');
}

function lastUserText(messages: unknown): string {
  if (typeof messages === 'string') return messages;
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message: unknown = messages[i];
    if (isRecord(message) && message.role === 'user') return contentText(message.content);
  }
  return '';
}

function messagesText(messages: unknown): string {
  if (typeof messages === 'string') return messages;
  if (!Array.isArray(messages)) return '';
  return messages.map((m: unknown) => (isRecord(m) ? contentText(m.content) : '')).join('\n');
}

function replyFor(userText: string, choiceIndex: number): string {
  const base = `Echo: ${userText}`;
  // Distinct texts per choice let tests check that choices are kept apart.
  return choiceIndex === 0 ? base : `${base} (${choiceIndex + 1})`;
}

function choiceCount(body: JsonObject): number {
  const n = body.n;
  return typeof n === 'number' && Number.isInteger(n) && n > 1 ? Math.min(n, 16) : 1;
}

function includeUsage(body: JsonObject): boolean {
  return isRecord(body.stream_options) && body.stream_options.include_usage === true;
}

function sse(kind: SseEvent['kind'], data: unknown, event?: string): SseEvent {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return event === undefined ? { kind, data: payload } : { kind, event, data: payload };
}

function serializeSse(event: SseEvent): string {
  return `${event.event === undefined ? '' : `event: ${event.event}\n`}data: ${event.data}\n\n`;
}

/** The in-band error object openai-node turns into an APIError thrown mid-iteration. */
function dataErrorEvent(): SseEvent {
  return sse('tail', {
    error: {
      message: 'The server had an error while processing your request. Sorry about that!',
      type: 'server_error',
      param: null,
      code: null,
    },
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function baseHeaders(ex: Exchange, contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'x-request-id': ex.requestId,
    'openai-version': '2020-10-01',
    'openai-processing-ms': '1',
  };
}

function sendJson(ex: Exchange, status: number, payload: unknown, extraHeaders: Record<string, string> = {}): void {
  if (ex.res.destroyed || ex.res.headersSent) return;
  const text = JSON.stringify(payload);
  ex.record.status = status;
  ex.res.writeHead(status, {
    ...baseHeaders(ex, 'application/json'),
    'content-length': String(Buffer.byteLength(text)),
    ...extraHeaders,
  });
  ex.res.end(text);
}

function sendError(ex: Exchange, status: number, error: OpenAIErrorBody): void {
  // openai-node retries 429 and 5xx; a 1 ms hint keeps those retries fast in tests.
  const retryHeaders: Record<string, string> = status === 429 || status >= 500 ? { 'retry-after-ms': '1' } : {};
  sendJson(ex, status, { error }, retryHeaders);
}

function scenarioError(status: number, ex: Exchange, model: string): OpenAIErrorBody {
  switch (status) {
    case 400:
      return {
        message: `Invalid request (simulated by the fake server for model '${model}').`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      };
    case 401:
      return {
        message: 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      };
    case 404:
      return {
        message: `The model \`${model}\` does not exist or you do not have access to it.`,
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      };
    case 429:
      return {
        message: `Rate limit reached for ${model} on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1ms.`,
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      };
    default:
      return {
        message: `The server had an error while processing your request. Sorry about that! (Please include the request ID ${ex.requestId} in your message.)`,
        type: 'server_error',
        param: null,
        code: null,
      };
  }
}

async function writeChunk(ex: Exchange, text: string): Promise<boolean> {
  const { res } = ex;
  if (res.destroyed || ex.signal.aborted) return false;
  // Waiting for the write callback makes sure the bytes reached the socket before a cut.
  return new Promise((resolve) => {
    res.write(text, (err) => resolve(err == null));
  });
}

type StreamMode = 'normal' | 'cut' | 'error-event';

/** Writes an SSE stream, applying the cut / in-band-error scenarios after the 2nd content delta. */
async function sendStream(ex: Exchange, plan: StreamPlan, mode: StreamMode, delayMs: number): Promise<void> {
  if (ex.res.destroyed) return;
  ex.record.status = 200;
  ex.record.sseEventsSent = 0;
  ex.res.writeHead(200, {
    ...baseHeaders(ex, 'text/event-stream; charset=utf-8'),
    'cache-control': 'no-cache',
  });
  ex.res.flushHeaders();
  let deltas = 0;
  let sent = 0;
  let first = true;
  for (const event of plan.events) {
    if (mode !== 'normal' && event.kind !== 'head' && deltas >= 2) break;
    if (!first && !(await sleep(delayMs, ex.signal))) return;
    first = false;
    if (!(await writeChunk(ex, serializeSse(event)))) return;
    sent += 1;
    ex.record.sseEventsSent = sent;
    if (event.kind === 'delta') deltas += 1;
  }
  if (mode === 'cut') {
    // An abrupt end with no terminator, as when a proxy or the network drops the connection.
    ex.markServerCut();
    ex.res.destroy();
    return;
  }
  if (mode === 'error-event') {
    if (!(await sleep(delayMs, ex.signal))) return;
    if (!(await writeChunk(ex, serializeSse(plan.errorEvent(sent))))) return;
    ex.record.sseEventsSent = sent + 1;
  }
  ex.res.end();
}

// ---------------------------------------------------------------------------------------------
// /chat/completions

function chatUsage(promptTokens: number, completionTokens: number): JsonObject {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function chatPromptTokens(body: JsonObject): number {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  // Roughly OpenAI's accounting: a few tokens of framing per message plus 3 to prime the reply.
  return estimateTokens(messagesText(body.messages)) + messages.length * 4 + 3;
}

function toolCallId(state: ServerState): string {
  return makeId(state, 'call_');
}

function handleChat(ex: Exchange, state: ServerState, body: JsonObject, model: string, scenario: string): Promise<void> | void {
  const id = makeId(state, 'chatcmpl-');
  const created = nowSeconds();
  const n = choiceCount(body);
  const userText = lastUserText(body.messages);
  const promptTokens = chatPromptTokens(body);
  const isToolCall = scenario === 'tool-call';
  const texts = Array.from({ length: n }, (_, i) => (scenario === 'stream-slow' ? slowPieces().join('') : replyFor(userText, i)));
  const callIds = Array.from({ length: n }, () => toolCallId(state));
  const completionTokens = isToolCall ? n * (estimateTokens(TOOL_NAME + TOOL_ARGUMENTS) + 5) : texts.reduce((sum, t) => sum + estimateTokens(t), 0);

  if (body.stream !== true) {
    const choices = texts.map((text, index) => ({
      index,
      message: isToolCall
        ? {
            role: 'assistant',
            content: null,
            refusal: null,
            annotations: [],
            tool_calls: [{ id: callIds[index], type: 'function', function: { name: TOOL_NAME, arguments: TOOL_ARGUMENTS } }],
          }
        : { role: 'assistant', content: text, refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: isToolCall ? 'tool_calls' : 'stop',
    }));
    sendJson(ex, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices,
      usage: chatUsage(promptTokens, completionTokens),
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
    });
    return;
  }

  const withUsage = includeUsage(body);
  const chunk = (choices: unknown[], usage?: JsonObject): JsonObject => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices,
    // OpenAI adds `usage: null` to every chunk only when usage was requested.
    ...(withUsage ? { usage: usage ?? null } : {}),
  });
  const choice = (index: number, delta: JsonObject, finishReason: string | null = null): JsonObject => ({
    index,
    delta,
    logprobs: null,
    finish_reason: finishReason,
  });

  const events: SseEvent[] = [];
  for (let index = 0; index < n; index += 1) {
    if (isToolCall) {
      // OpenAI sends id, type and name only once, on the first fragment of each tool call.
      events.push(
        sse(
          'head',
          chunk([
            choice(index, {
              role: 'assistant',
              content: null,
              tool_calls: [{ index: 0, id: callIds[index], type: 'function', function: { name: TOOL_NAME, arguments: '' } }],
              refusal: null,
            }),
          ]),
        ),
      );
    } else {
      events.push(sse('head', chunk([choice(index, { role: 'assistant', content: '', refusal: null })])));
    }
  }
  for (let index = 0; index < n; index += 1) {
    const pieces = isToolCall ? TOOL_ARGUMENT_PIECES : scenario === 'stream-slow' ? slowPieces() : splitWords(texts[index] ?? '');
    for (const piece of pieces) {
      const delta = isToolCall ? { tool_calls: [{ index: 0, function: { arguments: piece } }] } : { content: piece };
      events.push(sse('delta', chunk([choice(index, delta)])));
    }
  }
  for (let index = 0; index < n; index += 1) {
    events.push(sse('tail', chunk([choice(index, {}, isToolCall ? 'tool_calls' : 'stop')])));
  }
  if (withUsage) events.push(sse('tail', chunk([], chatUsage(promptTokens, completionTokens))));
  events.push(sse('tail', '[DONE]'));
  return sendStream(ex, { events, errorEvent: dataErrorEvent }, streamMode(scenario), streamDelay(state, scenario));
}

function streamMode(scenario: string): StreamMode {
  if (scenario === 'stream-cut') return 'cut';
  if (scenario === 'stream-error-event') return 'error-event';
  return 'normal';
}

function streamDelay(state: ServerState, scenario: string): number {
  return scenario === 'stream-slow' ? STREAM_SLOW_DELAY_MS : state.chunkDelayMs;
}

// ---------------------------------------------------------------------------------------------
// /responses

function responsesInputText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input)) return '';
  for (let i = input.length - 1; i >= 0; i -= 1) {
    const item: unknown = input[i];
    if (isRecord(item) && item.role === 'user' && (item.type === undefined || item.type === 'message')) {
      return contentText(item.content);
    }
  }
  return '';
}

function responsesAllText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input)) return '';
  return input.map((item: unknown) => (isRecord(item) ? contentText(item.content) : '')).join('\n');
}

function handleResponses(ex: Exchange, state: ServerState, body: JsonObject, model: string, scenario: string): Promise<void> | void {
  const responseId = makeId(state, 'resp_');
  const createdAt = nowSeconds();
  const isToolCall = scenario === 'tool-call';
  const text = scenario === 'stream-slow' ? slowPieces().join('') : replyFor(responsesInputText(body.input), 0);
  const instructions = typeof body.instructions === 'string' ? body.instructions : '';
  const inputTokens = estimateTokens(responsesAllText(body.input)) + estimateTokens(instructions) + 7;
  const outputTokens = isToolCall ? estimateTokens(TOOL_NAME + TOOL_ARGUMENTS) + 5 : estimateTokens(text);
  const itemId = isToolCall ? makeId(state, 'fc_') : makeId(state, 'msg_');
  const callId = makeId(state, 'call_');

  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
  const textPart = (t: string): JsonObject => ({ type: 'output_text', annotations: [], logprobs: [], text: t });
  const messageItem = (status: string, content: unknown[]): JsonObject => ({
    id: itemId,
    type: 'message',
    status,
    content,
    role: 'assistant',
  });
  const functionItem = (status: string, args: string): JsonObject => ({
    id: itemId,
    type: 'function_call',
    status,
    arguments: args,
    call_id: callId,
    name: TOOL_NAME,
  });
  const finalItem = isToolCall ? functionItem('completed', TOOL_ARGUMENTS) : messageItem('completed', [textPart(text)]);
  const response = (status: string, output: unknown[], withUsage: boolean): JsonObject => ({
    id: responseId,
    object: 'response',
    created_at: createdAt,
    status,
    background: false,
    completed_at: status === 'completed' ? nowSeconds() : null,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : null,
    max_tool_calls: null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: typeof body.previous_response_id === 'string' ? body.previous_response_id : null,
    prompt_cache_key: null,
    reasoning: { effort: null, summary: null },
    safety_identifier: null,
    service_tier: 'default',
    store: body.store !== false,
    temperature: typeof body.temperature === 'number' ? body.temperature : 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: body.tool_choice ?? 'auto',
    tools: Array.isArray(body.tools) ? body.tools : [],
    top_logprobs: 0,
    top_p: typeof body.top_p === 'number' ? body.top_p : 1,
    truncation: 'disabled',
    usage: withUsage ? usage : null,
    metadata: isRecord(body.metadata) ? body.metadata : {},
  });

  if (body.stream !== true) {
    sendJson(ex, 200, response('completed', [finalItem], true));
    return;
  }

  const events: SseEvent[] = [];
  const push = (kind: SseEvent['kind'], type: string, fields: JsonObject): void => {
    // The Responses API numbers every event and names it in both the `event:` line and `type`.
    events.push(sse(kind, { type, sequence_number: events.length, ...fields }, type));
  };
  push('head', 'response.created', { response: response('in_progress', [], false) });
  push('head', 'response.in_progress', { response: response('in_progress', [], false) });
  if (isToolCall) {
    push('head', 'response.output_item.added', { output_index: 0, item: functionItem('in_progress', '') });
    for (const piece of TOOL_ARGUMENT_PIECES) {
      push('delta', 'response.function_call_arguments.delta', { item_id: itemId, output_index: 0, delta: piece });
    }
    push('tail', 'response.function_call_arguments.done', {
      item_id: itemId,
      output_index: 0,
      name: TOOL_NAME,
      arguments: TOOL_ARGUMENTS,
    });
  } else {
    push('head', 'response.output_item.added', { output_index: 0, item: messageItem('in_progress', []) });
    push('head', 'response.content_part.added', {
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      part: textPart(''),
    });
    const pieces = scenario === 'stream-slow' ? slowPieces() : splitWords(text);
    for (const piece of pieces) {
      push('delta', 'response.output_text.delta', {
        item_id: itemId,
        output_index: 0,
        content_index: 0,
        delta: piece,
        logprobs: [],
      });
    }
    push('tail', 'response.output_text.done', {
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      text,
      logprobs: [],
    });
    push('tail', 'response.content_part.done', {
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      part: textPart(text),
    });
  }
  push('tail', 'response.output_item.done', { output_index: 0, item: finalItem });
  if (scenario === 'stream-response-failed') {
    // The Responses API ends a failed generation with `response.failed`, its error on the response.
    push('tail', 'response.failed', {
      response: {
        ...response('failed', [finalItem], true),
        error: { code: 'server_error', message: 'The model failed to finish the response.' },
      },
    });
  } else push('tail', 'response.completed', { response: response('completed', [finalItem], true) });

  // The Responses API reports stream failures as a typed `error` event, not as `{ error }`.
  const errorEvent = (sent: number): SseEvent =>
    sse(
      'tail',
      {
        type: 'error',
        sequence_number: sent,
        code: 'server_error',
        message: 'The server had an error while processing your request. Sorry about that!',
        param: null,
      },
      'error',
    );
  return sendStream(ex, { events, errorEvent }, streamMode(scenario), streamDelay(state, scenario));
}

// ---------------------------------------------------------------------------------------------
// /completions (legacy)

function promptList(prompt: unknown): string[] {
  if (typeof prompt === 'string') return [prompt];
  if (Array.isArray(prompt)) {
    if (prompt.length > 0 && prompt.every((p: unknown) => typeof p === 'number')) return [prompt.join(' ')];
    return prompt.map((p: unknown) => (typeof p === 'string' ? p : Array.isArray(p) ? p.join(' ') : ''));
  }
  return [''];
}

function handleCompletions(ex: Exchange, state: ServerState, body: JsonObject, model: string, scenario: string): Promise<void> | void {
  const id = makeId(state, 'cmpl-');
  const created = nowSeconds();
  const n = choiceCount(body);
  const prompts = promptList(body.prompt);
  const texts: string[] = [];
  for (const prompt of prompts) {
    for (let i = 0; i < n; i += 1) texts.push(scenario === 'stream-slow' ? slowPieces().join('') : replyFor(prompt, i));
  }
  const promptTokens = prompts.reduce((sum, p) => sum + estimateTokens(p), 0);
  const completionTokens = texts.reduce((sum, t) => sum + estimateTokens(t), 0);
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };

  if (body.stream !== true) {
    sendJson(ex, 200, {
      id,
      object: 'text_completion',
      created,
      model,
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: texts.map((text, index) => ({ text, index, logprobs: null, finish_reason: 'stop' })),
      usage,
    });
    return;
  }

  const withUsage = includeUsage(body);
  const chunk = (choices: unknown[], chunkUsage?: JsonObject): JsonObject => ({
    id,
    object: 'text_completion',
    created,
    model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices,
    ...(withUsage ? { usage: chunkUsage ?? null } : {}),
  });
  const events: SseEvent[] = [];
  texts.forEach((text, index) => {
    const pieces = scenario === 'stream-slow' ? slowPieces() : splitWords(text);
    for (const piece of pieces) {
      events.push(sse('delta', chunk([{ text: piece, index, logprobs: null, finish_reason: null }])));
    }
  });
  texts.forEach((_, index) => {
    events.push(sse('tail', chunk([{ text: '', index, logprobs: null, finish_reason: 'stop' }])));
  });
  if (withUsage) events.push(sse('tail', chunk([], usage)));
  events.push(sse('tail', '[DONE]'));
  return sendStream(ex, { events, errorEvent: dataErrorEvent }, streamMode(scenario), streamDelay(state, scenario));
}

// ---------------------------------------------------------------------------------------------
// /embeddings

function embeddingInputs(input: unknown): Array<{ seed: string; tokens: number }> | undefined {
  if (typeof input === 'string') return [{ seed: input, tokens: estimateTokens(input) }];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((v: unknown) => typeof v === 'number')) {
    return [{ seed: `tokens:${input.join(',')}`, tokens: input.length }];
  }
  const out: Array<{ seed: string; tokens: number }> = [];
  for (const item of input) {
    if (typeof item === 'string') out.push({ seed: item, tokens: estimateTokens(item) });
    else if (Array.isArray(item) && item.every((v: unknown) => typeof v === 'number')) {
      out.push({ seed: `tokens:${item.join(',')}`, tokens: item.length });
    } else return undefined;
  }
  return out;
}

/** A unit-length vector derived from the text, rounded to float32 so both encodings agree exactly. */
function embeddingVector(seed: string, dimensions: number): number[] {
  // FNV-1a for the seed, then a small xorshift generator: deterministic and dependency-free.
  let hash = 0x811c9dc5;
  for (let i = 0; i < seed.length; i += 1) {
    hash ^= seed.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  let x = hash || 1;
  const raw: number[] = [];
  for (let i = 0; i < dimensions; i += 1) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    raw.push(x / 0xffffffff - 0.5);
  }
  const norm = Math.sqrt(raw.reduce((s, v) => s + v * v, 0)) || 1;
  return raw.map((v) => Math.fround(v / norm));
}

function float32Base64(values: number[]): string {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

function handleEmbeddings(ex: Exchange, body: JsonObject, model: string): void {
  const inputs = embeddingInputs(body.input);
  if (!inputs) {
    sendError(ex, 400, {
      message: "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
    return;
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    sendError(ex, 400, {
      message: `Invalid value for 'encoding_format': expected 'float' or 'base64'.`,
      type: 'invalid_request_error',
      param: 'encoding_format',
      code: 'invalid_value',
    });
    return;
  }
  const dims = body.dimensions;
  const dimensions = typeof dims === 'number' && Number.isInteger(dims) && dims > 0 ? Math.min(dims, 4096) : DEFAULT_EMBEDDING_DIMENSIONS;
  const tokens = inputs.reduce((s, i) => s + i.tokens, 0);
  sendJson(ex, 200, {
    object: 'list',
    data: inputs.map((input, index) => {
      const vector = embeddingVector(input.seed, dimensions);
      return { object: 'embedding', index, embedding: format === 'base64' ? float32Base64(vector) : vector };
    }),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

// ---------------------------------------------------------------------------------------------
// GET /models, /files

function handleFiles(ex: Exchange): void {
  const limitRaw = Number(ex.record.query.limit ?? '10000');
  const limit = Number.isInteger(limitRaw) && limitRaw > 0 ? limitRaw : 10000;
  const after = ex.record.query.after;
  let start = 0;
  if (after !== undefined) {
    const index = FILES.findIndex((f) => f.id === after);
    start = index < 0 ? FILES.length : index + 1;
  }
  const data = FILES.slice(start, start + limit);
  sendJson(ex, 200, {
    object: 'list',
    data,
    has_more: start + data.length < FILES.length,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
  });
}

function handleModel(ex: Exchange, id: string): void {
  const model = MODELS.find((m) => m.id === id);
  if (model) {
    sendJson(ex, 200, model);
    return;
  }
  sendError(ex, 404, {
    message: `The model '${id}' does not exist`,
    type: 'invalid_request_error',
    param: 'model',
    code: 'model_not_found',
  });
}

// ---------------------------------------------------------------------------------------------
// Routing

function invalidUrl(ex: Exchange): void {
  sendError(ex, 404, {
    message: `Invalid URL (${ex.record.method} ${ex.record.path})`,
    type: 'invalid_request_error',
    param: null,
    code: null,
  });
}

const POST_ROUTES = new Set(['/chat/completions', '/responses', '/embeddings', '/completions']);

async function route(ex: Exchange, state: ServerState, parsed: { ok: boolean; value: unknown }): Promise<void> {
  const { method, path } = ex.record;
  if (!path.startsWith('/v1/')) return invalidUrl(ex);
  const sub = path.slice(3);

  if (method === 'GET') {
    if (sub === '/models') return sendJson(ex, 200, { object: 'list', data: MODELS });
    if (sub.startsWith('/models/') && sub.length > '/models/'.length) {
      return handleModel(ex, decodeURIComponent(sub.slice('/models/'.length)));
    }
    if (sub === '/files') return handleFiles(ex);
    return invalidUrl(ex);
  }
  if (method !== 'POST' || !POST_ROUTES.has(sub)) return invalidUrl(ex);

  if (!parsed.ok) {
    return sendError(ex, 400, {
      message:
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
  }
  const body = parsed.value;
  if (!isRecord(body) || typeof body.model !== 'string' || body.model === '') {
    return sendError(ex, 400, {
      message: 'you must provide a model parameter',
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
  }
  const model = body.model;
  state.scenarioCounts.set(model, (state.scenarioCounts.get(model) ?? 0) + 1);

  const errorMatch = /^error-(400|401|404|429|500)$/.exec(model);
  if (errorMatch?.[1] !== undefined) {
    const status = Number(errorMatch[1]);
    return sendError(ex, status, scenarioError(status, ex, model));
  }
  if (model === 'echo-key') {
    return sendError(ex, 401, {
      message: `Incorrect API key provided: ${ex.record.headers.authorization ?? '(none)'}.`,
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    });
  }
  if (model === 'echo-credentials') {
    // A careless provider or gateway: its error repeats every credential it was sent (the URL with
    // its query, each auth-looking header, the body's key fields), for secret-leak tests.
    const echoed = Object.entries(ex.record.headers)
      .filter(([name]) => /auth|key|token|secret|signature|cookie/i.test(name))
      .map(([name, value]) => `${name}=${value}`);
    const query = new URLSearchParams(ex.record.query).toString();
    const fields = Object.entries(body)
      .filter(([name]) => /key|secret|token|password/i.test(name))
      .map(([name, value]) => `${name}=${JSON.stringify(value)}`);
    return sendError(ex, 401, {
      message: `Rejected ${ex.record.method} ${ex.record.path}?${query} with ${[...echoed, ...fields].join(' ')}.`,
      type: 'invalid_request_error',
      // Some gateways name the offending header's value as the error's param.
      param: ex.record.headers.authorization ?? null,
      code: 'invalid_api_key',
    });
  }
  if (model === 'bad-json') {
    // A 200 whose JSON body is broken: the client's own parse throws a SyntaxError.
    ex.res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': ex.requestId });
    ex.res.end('{"id": "chatcmpl-broken", "choices": [');
    ex.record.status = 200;
    return;
  }
  if (model === 'empty-json') {
    // A 200 that says JSON but sends nothing (chunked, no content-length): the client's parse throws.
    ex.res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'x-request-id': ex.requestId });
    ex.res.end();
    ex.record.status = 200;
    return;
  }
  if (model === 'body-cut') {
    // A 200 whose body stops half-way: the headers promise more than arrives before the connection drops.
    ex.res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096', 'x-request-id': ex.requestId });
    ex.res.write('{"id": "chatcmpl-cut", "object": "chat.completion", ');
    ex.record.status = 200;
    ex.markServerCut();
    setTimeout(() => ex.res.socket?.destroy(), 5);
    return;
  }
  if (model === 'flaky-500') {
    const retry = ex.record.headers['x-stainless-retry-count'];
    if (retry === undefined || retry === '0') return sendError(ex, 500, scenarioError(500, ex, model));
  }
  if (model === 'slow') {
    if (!(await sleep(SLOW_DELAY_MS, ex.signal))) return;
  }

  switch (sub) {
    case '/chat/completions':
      return handleChat(ex, state, body, model, model);
    case '/responses':
      return handleResponses(ex, state, body, model, model);
    case '/completions':
      return handleCompletions(ex, state, body, model, model);
    default:
      return handleEmbeddings(ex, body, model);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function recordHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values !== undefined) out[name.toLowerCase()] = values.join(', ');
  }
  return out;
}

function parseJson(raw: string): { ok: boolean; value: unknown } {
  if (raw.trim() === '') return { ok: false, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false, value: undefined };
  }
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAIServer> {
  const host = options.host ?? '127.0.0.1';
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const state: ServerState = { chunkDelayMs: options.chunkDelayMs ?? 0, nextId: 0, scenarioCounts: new Map() };
  let closing = false;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const receivedAt = Date.now();
    const url = new URL(req.url ?? '/', 'http://fake-openai.local');
    const controller = new AbortController();
    let serverCut = false;
    const ex: Exchange = {
      res,
      requestId: `req_${randomHex(16)}`,
      signal: controller.signal,
      markServerCut: () => {
        serverCut = true;
      },
      record: {
        method: (req.method ?? 'GET').toUpperCase(),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams.entries()),
        headers: recordHeaders(req),
        rawBody: '',
        body: undefined,
        receivedAt,
      },
    };
    res.on('close', () => {
      if (!res.writableFinished && !serverCut && !closing) ex.record.clientDisconnected = true;
      controller.abort();
    });

    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch {
      requests.push(ex.record);
      res.destroy();
      return;
    }
    const parsed = parseJson(rawBody);
    ex.record.rawBody = rawBody;
    ex.record.body = parsed.value;
    requests.push(ex.record);

    try {
      await route(ex, state, parsed);
    } catch (err) {
      if (!res.headersSent) {
        sendError(ex, 500, {
          message: `Fake server bug: ${err instanceof Error ? err.message : String(err)}`,
          type: 'server_error',
          param: null,
          code: null,
        });
      } else {
        res.destroy();
      }
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${address.port}/v1`,
    port: address.port,
    requests,
    reset(): void {
      requests.length = 0;
      state.nextId = 0;
      state.scenarioCounts.clear();
    },
    close(): Promise<void> {
      closing = true;
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      });
    },
  };
}
