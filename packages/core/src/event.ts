// The standard payload: one CallEvent per logical LLM call, defined once as a zod schema.
// The TypeScript type is inferred from the schema so the two can never drift apart.
import { z } from 'zod';

/** Which API a call went to. */
export const CallTypeSchema = z.enum(['chat.completions', 'responses', 'embeddings', 'completions']);
/** Which API a call went to: `chat.completions`, `responses`, `embeddings` or `completions`. */
export type CallType = z.infer<typeof CallTypeSchema>;

/**
 * Where a request to disable a callback came from. Only `option`, `header` and `scope` can disable;
 * `body` and `metadata` appear on ignored entries, for "don't log" flags that are never honoured.
 */
export const DisableSourceSchema = z.enum(['option', 'header', 'scope', 'body', 'metadata']);
/** Where a request to disable a callback came from: `option`, `header` or `scope` (which can disable), or `body` / `metadata` (never honoured, reported as ignored). */
export type DisableSource = z.infer<typeof DisableSourceSchema>;

/** The zod schema of {@link Usage}: token counts as the provider reported them. */
export const UsageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative(),
});
/** Token counts of one call (prompt, completion, total), when the provider reported them. */
export type Usage = z.infer<typeof UsageSchema>;

/** The zod schema of {@link CallError}: a failed call's error, with the fields of the openai error the caller saw. */
export const CallErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  status: z.number().int().optional(),
  code: z.string().optional(),
  type: z.string().optional(),
  param: z.string().optional(),
});
/** A failed call's error: `name`, `message`, and the openai error's `status`, `code`, `type` and `param` when present. Credentials are redacted. */
export type CallError = z.infer<typeof CallErrorSchema>;

/**
 * How a streamed call ended, from the consumer's point of view:
 * `completed` the provider finished; `stopped` the consumer stopped reading early (break, return);
 * `aborted` the request was aborted; `errored` the stream failed mid-way.
 */
export const StreamEndSchema = z.enum(['completed', 'stopped', 'aborted', 'errored']);
/** How a streamed call ended: `completed`, `stopped` (the consumer broke off), `aborted` or `errored`. */
export type StreamEnd = z.infer<typeof StreamEndSchema>;

/** A disable request that was not applied, and why. */
export const IgnoredDisableSchema = z.object({
  name: z.string(),
  source: DisableSourceSchema,
  reason: z.enum(['unknown-callback', 'invalid-value', 'value-too-long', 'locked', 'required', 'not-a-disable-source']),
});
/** A disable request that was not applied: the name asked for, where it came from, and why it was not applied. */
export type IgnoredDisable = z.infer<typeof IgnoredDisableSchema>;

/** The zod schema of {@link CallEvent}, the one event every callback receives per logical call: the source of truth for its shape. */
export const CallEventSchema = z.object({
  /** Unique id of this logical call (retries inside the openai client share it). */
  id: z.string().min(1),
  status: z.enum(['success', 'failure']),
  callType: CallTypeSchema,
  /** The model requested (or answered, when the provider reports a more precise one). */
  model: z.string(),
  /** `openai` for the official API; the base URL's host otherwise. */
  provider: z.string(),
  stream: z.boolean(),
  startTime: z.number(),
  endTime: z.number(),
  latencyMs: z.number().nonnegative(),
  /** Streams only: time from the call's start to the first content chunk. */
  timeToFirstTokenMs: z.number().nonnegative().optional(),
  /** Streams only: how the stream ended. */
  streamEnd: StreamEndSchema.optional(),
  /** The request body as sent, secrets removed. */
  request: z.record(z.string(), z.unknown()),
  /** The response body; for streams, the assembled equivalent of a non-streamed response. */
  response: z.unknown().optional(),
  usage: UsageSchema.optional(),
  error: CallErrorSchema.optional(),
  /** The provider's request id (`x-request-id`), when it sent one. */
  providerRequestId: z.string().optional(),
  /** User supplied: the call's `metadata` option merged over the request scope's. */
  metadata: z.record(z.string(), z.unknown()),
  /** Canonical names of the callbacks this call switched off (decided once, at call start). */
  disabledCallbacks: z.array(z.string()),
  /** Disable requests that were not applied: unknown names, over-long values, locked callbacks. */
  ignoredDisables: z.array(IgnoredDisableSchema),
});

/** One logical LLM call, as every callback receives it. */
export type CallEvent = z.infer<typeof CallEventSchema>;
