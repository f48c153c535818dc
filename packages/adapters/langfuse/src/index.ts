/**
 * Langfuse callback: one trace and one generation per LLM call.
 *
 * The public surface, in one screen.
 *
 * @packageDocumentation
 * @module @llm-callbacks/langfuse
 */

// The callback: one Langfuse trace and one generation per LLM call
export { langfuseCallback } from './langfuse-callback.js';
export type { LangfuseCallback } from './langfuse-callback.js';
export type { LangfuseCallbackOptions } from './options.js';

// What a call becomes in Langfuse (pure mapping, for previews and tests)
export { toLangfuseBodies, METADATA_CONVENTIONS } from './map-event.js';
export type { LangfuseTraceBody, LangfuseGenerationBody, MapOptions } from './map-event.js';
