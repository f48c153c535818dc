/**
 * Report every openai call to pluggable logging callbacks, with per-request disabling and compliance locks.
 *
 * The public surface, in one screen.
 *
 * @packageDocumentation
 * @module @llm-callbacks/core
 */

// Managing callbacks and delivering events
export { createCallbackManager, CallbackManager } from './manager.js';
export type {
  CallbackManagerOptions,
  CallbackManagerEvents,
  CallbackList,
  CallbackErrorInfo,
  CallbacksDisabledInfo,
  DisableIgnoredInfo,
  EventDroppedInfo,
  InternalErrorInfo,
  DeliveryReport,
  AuditStats,
  FlushOptions,
} from './manager.js';
export type { HandleSignalsOptions } from './signal-handling.js';
export { defineCallback, callbackKind } from './callback.js';
export type { Callback, CallbackKind, CallbackReporter, RedactMessages } from './callback.js';
export { CallbackTimeoutError } from './callback-queue.js';
export type { CallbackStats, OverflowPolicy } from './callback-queue.js';

// The event every callback receives
export { CallEventSchema, CallTypeSchema, UsageSchema, CallErrorSchema, StreamEndSchema, IgnoredDisableSchema } from './event.js';
export type { CallEvent, CallType, Usage, CallError, StreamEnd, IgnoredDisable, DisableSource } from './event.js';

// Disabling callbacks per call or per request
export { DEFAULT_DISABLE_HEADER, MAX_DISABLE_VALUE_LENGTH, decideDisabled } from './disable-policy.js';
export type { DisableDecision, DisableRequest, PolicyConfig, PolicyTarget } from './disable-policy.js';
export { withCallbackContext } from './request-scope.js';
export type { CallbackScope, ScopeHeaders } from './request-scope.js';

// The openai wrapper
export { wrapOpenAI } from './openai/wrap-openai.js';
export type { CallOptions } from './openai/call-options.js';
export type {
  WrappedOpenAI,
  WrappedRequestOptions,
  OpenAIRequestOptions,
  OpenAILike,
  ChatCompletionsCreate,
  ResponsesCreate,
  EmbeddingsCreate,
  CompletionsCreate,
} from './openai/types.js';

// Built-in callbacks
export { consoleCallback, formatEventLine } from './callbacks/console-callback.js';
export type { ConsoleCallbackOptions } from './callbacks/console-callback.js';
export { jsonlCallback } from './callbacks/jsonl-callback.js';
export type { JsonlCallbackOptions } from './callbacks/jsonl-callback.js';

// Durable spool: events on local disk before acknowledging, replayed after a crash
export { durableCallback, SpoolWriteError } from './spool/durable-callback.js';
export type { DurableCallback, DurableCallbackOptions, SpoolStats, SpooledBatch, BatchDelivery } from './spool/durable-callback.js';

// Redaction for sinks that must not keep message content
export { redactMessageContent, dropMessageContent, CONTENT_REDACTED } from './redact-content.js';

// Errors and secrets
export { LlmCallbacksError } from './errors.js';
export { checkOptionNames } from './option-names.js';
export type { LlmCallbacksErrorCode } from './errors.js';
export { REDACTED } from './secrets.js';
