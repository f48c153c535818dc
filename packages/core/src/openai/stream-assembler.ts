// Rebuilds a non-streamed response from streamed chunks, one assembler per call type, so a streamed
// call's event carries the same `response` shape (text, tool calls, usage) as a plain one.
import type { CallType } from '../event.js';

export interface StreamAssembler {
  /** Takes one chunk; returns true when it carried content (for time to first token). */
  add(chunk: unknown): boolean;
  /** The response so far: complete after the last chunk, partial before. */
  result(): unknown;
  /**
   * A failure the provider reported inside a stream that otherwise ended normally (the Responses
   * API's `error` and `response.failed` events, which some openai majors yield instead of throwing),
   * so the call is reported as the failure it was, the same on every major.
   */
  failure?(): Error | undefined;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function createAssembler(callType: CallType): StreamAssembler {
  switch (callType) {
    case 'chat.completions':
      return new ChatAssembler();
    case 'completions':
      return new CompletionAssembler();
    case 'responses':
      return new ResponsesAssembler();
    case 'embeddings':
      return new LastChunkAssembler();
  }
}

interface ToolCallParts {
  index: number;
  id?: string;
  type?: string;
  name: string;
  arguments: string;
}

interface ChoiceParts {
  index: number;
  role?: string;
  content: string;
  hasContent: boolean;
  refusal: string;
  hasRefusal: boolean;
  toolCalls: Map<number, ToolCallParts>;
  finishReason: unknown;
}

/** chat.completion.chunk objects -> one chat.completion. */
class ChatAssembler implements StreamAssembler {
  private head: Obj = {};
  private usage: unknown;
  private readonly choices = new Map<number, ChoiceParts>();

  add(chunk: unknown): boolean {
    if (!isObj(chunk)) return false;
    if (this.head['id'] === undefined) {
      this.head = { id: chunk['id'], created: chunk['created'], model: chunk['model'], system_fingerprint: chunk['system_fingerprint'] };
    }
    if (chunk['usage']) this.usage = chunk['usage'];
    let content = false;
    for (const raw of Array.isArray(chunk['choices']) ? chunk['choices'] : []) {
      if (!isObj(raw)) continue;
      const index = typeof raw['index'] === 'number' ? raw['index'] : 0;
      let choice = this.choices.get(index);
      if (!choice) {
        choice = { index, content: '', hasContent: false, refusal: '', hasRefusal: false, toolCalls: new Map(), finishReason: null };
        this.choices.set(index, choice);
      }
      if (raw['finish_reason'] != null) choice.finishReason = raw['finish_reason'];
      const delta = raw['delta'];
      if (!isObj(delta)) continue;
      if (str(delta['role'])) choice.role = delta['role'] as string;
      const text = str(delta['content']);
      if (text !== undefined) {
        choice.content += text;
        choice.hasContent = true;
        if (text) content = true;
      }
      const refusal = str(delta['refusal']);
      if (refusal !== undefined) {
        choice.refusal += refusal;
        choice.hasRefusal = true;
        if (refusal) content = true;
      }
      for (const call of Array.isArray(delta['tool_calls']) ? delta['tool_calls'] : []) {
        if (!isObj(call)) continue;
        content = true;
        const callIndex = typeof call['index'] === 'number' ? call['index'] : choice.toolCalls.size;
        let parts = choice.toolCalls.get(callIndex);
        if (!parts) {
          parts = { index: callIndex, name: '', arguments: '' };
          choice.toolCalls.set(callIndex, parts);
        }
        if (str(call['id'])) parts.id = call['id'] as string;
        if (str(call['type'])) parts.type = call['type'] as string;
        const fn = call['function'];
        if (isObj(fn)) {
          parts.name += str(fn['name']) ?? '';
          parts.arguments += str(fn['arguments']) ?? '';
        }
      }
    }
    return content;
  }

  result(): unknown {
    const choices = [...this.choices.values()]
      .sort((a, b) => a.index - b.index)
      .map((c) => {
        const message: Obj = { role: c.role ?? 'assistant', content: c.hasContent ? c.content : null };
        if (c.hasRefusal) message['refusal'] = c.refusal;
        if (c.toolCalls.size > 0) {
          message['tool_calls'] = [...c.toolCalls.values()]
            .sort((a, b) => a.index - b.index)
            .map((t) => ({ id: t.id, type: t.type ?? 'function', function: { name: t.name, arguments: t.arguments } }));
        }
        return { index: c.index, message, finish_reason: c.finishReason };
      });
    return { ...this.head, object: 'chat.completion', choices, ...(this.usage ? { usage: this.usage } : {}) };
  }
}

/** Legacy text_completion chunks -> one text_completion. */
class CompletionAssembler implements StreamAssembler {
  private head: Obj = {};
  private usage: unknown;
  private readonly texts = new Map<number, { text: string; finishReason: unknown }>();

  add(chunk: unknown): boolean {
    if (!isObj(chunk)) return false;
    if (this.head['id'] === undefined) this.head = { id: chunk['id'], created: chunk['created'], model: chunk['model'] };
    if (chunk['usage']) this.usage = chunk['usage'];
    let content = false;
    for (const raw of Array.isArray(chunk['choices']) ? chunk['choices'] : []) {
      if (!isObj(raw)) continue;
      const index = typeof raw['index'] === 'number' ? raw['index'] : 0;
      const entry = this.texts.get(index) ?? { text: '', finishReason: null };
      const text = str(raw['text']) ?? '';
      entry.text += text;
      if (text) content = true;
      if (raw['finish_reason'] != null) entry.finishReason = raw['finish_reason'];
      this.texts.set(index, entry);
    }
    return content;
  }

  result(): unknown {
    const choices = [...this.texts.entries()].sort(([a], [b]) => a - b).map(([index, e]) => ({ index, text: e.text, finish_reason: e.finishReason }));
    return { ...this.head, object: 'text_completion', choices, ...(this.usage ? { usage: this.usage } : {}) };
  }
}

/**
 * Responses API events -> one response. The final `response.completed` (or failed / incomplete)
 * event carries the whole response; before it, the text deltas give a partial one.
 */
class ResponsesAssembler implements StreamAssembler {
  private base: Obj | undefined;
  private final: Obj | undefined;
  private text = '';
  private error: Error | undefined;

  add(event: unknown): boolean {
    if (!isObj(event)) return false;
    const type = str(event['type']);
    const response = event['response'];
    if (isObj(response)) {
      if (type === 'response.completed' || type === 'response.failed' || type === 'response.incomplete') this.final = response;
      else this.base = response;
      if (type === 'response.failed') this.error = streamError(response['error'], 'The response failed.');
    }
    if (type === 'error') this.error = streamError(event, 'The stream reported an error.');
    if (type === 'response.output_text.delta' || type === 'response.refusal.delta') {
      const delta = str(event['delta']) ?? '';
      this.text += delta;
      return delta.length > 0;
    }
    return type === 'response.function_call_arguments.delta' || type === 'response.output_item.added';
  }

  result(): unknown {
    if (this.final) return this.final;
    return { ...(this.base ?? { object: 'response' }), status: 'incomplete', output_text: this.text };
  }

  failure(): Error | undefined {
    return this.error;
  }
}

/**
 * An in-stream error payload ({ message, code, type, param }) as an Error shaped like the APIError
 * openai throws for the same event on the majors that throw, so callbacks see one shape.
 */
function streamError(payload: unknown, fallback: string): Error {
  const p = isObj(payload) ? payload : {};
  const error = new Error(str(p['message']) ?? fallback);
  error.name = 'APIError';
  const fields: Obj = {};
  for (const key of ['code', 'type', 'param'] as const) {
    const value = p[key];
    if (typeof value === 'string' || typeof value === 'number') fields[key] = value;
  }
  return Object.assign(error, fields);
}

/** Anything else: the last chunk seen. */
class LastChunkAssembler implements StreamAssembler {
  private last: unknown;
  add(chunk: unknown): boolean {
    this.last = chunk;
    return true;
  }
  result(): unknown {
    return this.last;
  }
}
