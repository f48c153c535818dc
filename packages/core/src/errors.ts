// The one error class core throws at its users, for mistakes they can fix (bad config, bad callback).
// Errors from callbacks at run time are never thrown: they go to the manager's `callbackError` event.

/** Machine-readable reason of an {@link LlmCallbacksError}. */
export type LlmCallbacksErrorCode = 'INVALID_CALLBACK' | 'DUPLICATE_CALLBACK' | 'INVALID_OPTIONS' | 'ALREADY_WRAPPED' | 'NOT_AN_OPENAI_CLIENT';

/** A usage error: the message says what was wrong, where, and what to do. */
export class LlmCallbacksError extends Error {
  override readonly name = 'LlmCallbacksError';
  constructor(
    readonly code: LlmCallbacksErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Turns anything thrown into an Error, so reports always carry a name and a message. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  let text: string;
  try {
    text = typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return new Error(`non-Error value thrown: ${text}`);
}
