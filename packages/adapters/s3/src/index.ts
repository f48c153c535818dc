/**
 * S3 callback: a complete audit log of LLM calls in a bucket.
 *
 * A complete audit log of LLM calls in an S3 bucket.
 *
 * @packageDocumentation
 * @module @llm-callbacks/s3
 */
export { s3Callback } from './s3-callback.js';
export type { S3Callback } from './s3-callback.js';
export type { S3CallbackOptions, S3EventFormat, S3RetryOptions } from './options.js';
export { S3_DEFAULTS, S3_ENV } from './options.js';
export type { S3CallbackStats } from './upload-queue.js';
export { S3DeliveryError } from './retry-policy.js';
export { buildObjectKey, encodeKeySegment } from './object-key.js';
