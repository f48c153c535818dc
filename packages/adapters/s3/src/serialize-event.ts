// Turns a CallEvent into the JSON text stored in the bucket, once, when the event is accepted: later
// changes to the objects it references cannot alter what is uploaded, and a value JSON cannot hold
// (a BigInt, a cycle in user metadata) is fixed up here instead of failing a whole batch later.
import { redactMessageContent, type CallEvent } from '@llm-callbacks/core';

/** The event as one line of JSON (no newline inside: JSON.stringify escapes them in strings). */
export function serializeEvent(event: CallEvent, redactMessages: boolean): string {
  const value = redactMessages ? redactMessageContent(event) : event;
  try {
    return JSON.stringify(value);
  } catch {
    return JSON.stringify(value, tolerant());
  }
}

/** A replacer that writes BigInts as strings and cycles as "[Circular]". */
function tolerant(): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key: string, value: unknown): unknown {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value !== 'object' || value === null) return value;
    // `this` is the object holding `value`: drop the ancestors we have left behind.
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    if (ancestors.includes(value)) return '[Circular]';
    ancestors.push(value);
    return value;
  };
}
