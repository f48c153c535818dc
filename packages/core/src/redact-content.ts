// Message-content redaction for sinks that must not store what users and models said: prompts,
// completions, tool-call arguments and streamed text are replaced by a marker, while the event's
// shape, model, usage, timing, metadata and errors stay intact.
import type { CallEvent } from './event.js';

export const CONTENT_REDACTED = '[content redacted]';

/** Keys whose values are message content in any of the four APIs' requests and responses. */
const CONTENT_KEYS = new Set(['content', 'text', 'arguments', 'input', 'prompt', 'instructions', 'output_text', 'refusal', 'delta', 'suffix']);

/** A copy of `event` with every message content replaced by {@link CONTENT_REDACTED}. */
export function redactMessageContent(event: CallEvent): CallEvent {
  const copy: CallEvent = { ...event, request: strip(event.request) as Record<string, unknown> };
  if (event.response !== undefined) copy.response = strip(event.response);
  return copy;
}

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // Strings and content-part lists are content; an object under such a key (the Responses API's
    // `text: { format }` setting, say) is configuration and is walked instead.
    out[key] = CONTENT_KEYS.has(key) && (typeof item === 'string' || Array.isArray(item)) ? CONTENT_REDACTED : strip(item);
  }
  return out;
}
