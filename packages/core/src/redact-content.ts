// Message-content redaction for sinks that must not store what users and models said: prompts,
// completions, tool-call arguments and streamed text are replaced by a marker, while the event's
// shape, model, usage, timing, metadata and errors stay intact.
import type { RedactMessages } from './callback.js';
import type { CallEvent } from './event.js';
import { toError } from './errors.js';
import { setOwn } from './secrets.js';

/** The text that replaces message content in an event redacted by {@link redactMessageContent}. */
export const CONTENT_REDACTED = '[content redacted]';

/** Keys whose values are message content in any of the four APIs' requests and responses. */
// `description`: a tool's or a schema's description is part of the prompt the model reads.
const CONTENT_KEYS = new Set(['content', 'text', 'arguments', 'input', 'prompt', 'instructions', 'output_text', 'refusal', 'delta', 'suffix', 'description']);

/** A copy of `event` with every message content replaced by {@link CONTENT_REDACTED}. */
export function redactMessageContent(event: CallEvent): CallEvent {
  const copy: CallEvent = { ...event, request: strip(event.request) as Record<string, unknown> };
  if (event.response !== undefined) copy.response = strip(event.response);
  return copy;
}

/**
 * The fail-closed fallback when a redaction cannot be trusted: the request keeps only its model,
 * the response becomes the marker. Usage, timing, metadata and errors stay.
 */
export function dropMessageContent(event: CallEvent): CallEvent {
  const model = typeof event.request?.['model'] === 'string' ? { model: event.request['model'] } : {};
  const copy: CallEvent = { ...event, request: { ...model, content: CONTENT_REDACTED } };
  if (event.response !== undefined) copy.response = CONTENT_REDACTED;
  return copy;
}

/** Applies a `redactMessages` setting; a user function that throws (or returns no object) fails closed. */
export function applyRedaction(event: CallEvent, redact: RedactMessages): { event: CallEvent; error?: Error } {
  if (redact === false) return { event };
  if (redact === true) {
    try {
      return { event: redactMessageContent(event) };
    } catch (error) {
      return { event: dropMessageContent(event), error: toError(error) };
    }
  }
  try {
    const result: unknown = redact(event);
    if (typeof result !== 'object' || result === null || Array.isArray(result)) {
      throw new TypeError(`the redact function returned ${result === null ? 'null' : typeof result}, not an event`);
    }
    return { event: result as CallEvent };
  } catch (error) {
    return { event: dropMessageContent(event), error: toError(error) };
  }
}

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // Strings and content-part lists are content; an object under such a key (the Responses API's
    // `text: { format }` setting, say) is configuration and is walked instead.
    setOwn(out, key, CONTENT_KEYS.has(key) && (typeof item === 'string' || Array.isArray(item)) ? CONTENT_REDACTED : strip(item));
  }
  return out;
}
