// @llm-callbacks/datadog: the public surface, in one screen.
export { datadogCallback } from './datadog-callback.js';
export type { DatadogCallback, DatadogCallbackState } from './datadog-callback.js';
export { DatadogCallbackConfigError, type DatadogCallbackOptions } from './options.js';
export { DatadogDeliveryError } from './delivery-tracker.js';
export { TracerNotInitialisedError, type TracerSource } from './tracer.js';
export type { Tracer, TracerOptions } from './dd-trace-types.js';
