// s3Callback(): the callback that writes every LLM call to a bucket, wired from the options, the
// S3 client and the upload queue. Hooks only hand the event to the queue, so they return at once;
// flush() and shutdown() wait for the bucket.
import { S3Client } from '@aws-sdk/client-s3';
import { defineCallback, type BatchDelivery, type Callback } from '@llm-callbacks/core';
import { resolveS3Options, type ResolvedS3Options, type S3CallbackOptions } from './options.js';
import { UploadQueue, type S3CallbackStats } from './upload-queue.js';

/**
 * The S3 callback: a regular Callback with its own counters. `deliverBatch` is what core's
 * `durableCallback` uses: one spooled segment, uploaded under keys derived from the segment alone.
 */
export interface S3Callback extends Callback, BatchDelivery {
  readonly name: string;
  /** The bucket written to (after environment fallbacks). */
  readonly bucket: string;
  /** Counters: accepted, uploaded, failed attempts, given up, overflowed, pending. */
  stats(): S3CallbackStats;
}

/** A callback that writes every call's CallEvent to S3 (see the package README for the layout and guarantees). */
export function s3Callback(options: S3CallbackOptions = {}): S3Callback {
  const config = resolveS3Options(options);
  const client = config.client ?? createClient(config);
  const queue = new UploadQueue(config, client, config.client === undefined);
  const accept = (event: Parameters<UploadQueue['accept']>[0]): void => queue.accept(event);
  return defineCallback<S3Callback>({
    name: config.name,
    bucket: config.bucket,
    ...(config.required === undefined ? {} : { required: config.required }),
    ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    onSuccess: accept,
    onFailure: accept,
    flush: () => queue.flush(),
    shutdown: () => queue.shutdown(),
    onRegister: (reporter) => queue.setReporter(reporter),
    deliverBatch: (batch) => queue.deliverBatch(batch),
    stats: () => queue.stats(),
  });
}

function createClient(config: ResolvedS3Options): S3Client {
  return new S3Client({
    ...(config.region === undefined ? {} : { region: config.region }),
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    ...(config.forcePathStyle === undefined ? {} : { forcePathStyle: config.forcePathStyle }),
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
    // The adapter retries whole uploads itself (same key, backoff it controls, every failure
    // reported); SDK retries underneath would multiply the attempts and hide them.
    maxAttempts: 1,
    // Checksums only where S3 requires them: the adapter sends Content-MD5 on every PUT, and the
    // newer default (aws-chunked bodies with a trailing checksum) is stored verbatim, framing and
    // all, by several S3-compatible servers (s3rver among them; TOOLCHAIN.md).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...config.clientConfig,
  });
}
