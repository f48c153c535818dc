/**
 * Datadog callback: an LLM Observability span and the matching APM span per LLM call, through dd-trace.
 *
 * The public surface, in one screen.
 *
 * @packageDocumentation
 * @module @llm-callbacks/datadog
 */
export { datadogCallback } from './datadog-callback.js';
export type { DatadogCallback, DatadogCallbackState } from './datadog-callback.js';
export { DatadogCallbackConfigError, type DatadogCallbackOptions } from './options.js';
export { DatadogDeliveryError } from './delivery-tracker.js';
export { TracerNotInitialisedError, type TracerSource } from './tracer.js';
export type { Tracer, TracerOptions } from './dd-trace-types.js';
