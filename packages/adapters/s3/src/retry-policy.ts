// Which upload failures are worth another try, how long to wait before it, and the error the
// adapter reports for a failed attempt or a batch it gave up on.
import type { S3RetryOptions } from './options.js';

/** S3 error codes that mean "try again later" even when the status alone would not say so. */
const TRANSIENT_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  // The body was damaged on the way: sending it again fixes that.
  'BadDigest',
  'XAmzContentSHA256Mismatch',
  'IncompleteBody',
  // The SDK corrects its clock offset from the answer; short-lived credentials get refreshed.
  'RequestTimeTooSkewed',
  'ExpiredToken',
  'ExpiredTokenException',
]);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: unknown;
}

/** The HTTP status of an AWS SDK error, when the server answered at all. */
export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as ErrorShape | undefined)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * True for failures another attempt may cure: 5xx, 408, 429, throttling and timeout codes, and any
 * failure without an HTTP answer (connection refused or reset, DNS, a timed-out attempt). Other
 * 4xx answers (access denied, no such bucket, bad request) are final: repeating them changes nothing.
 */
export function isTransient(error: unknown): boolean {
  const e = (error ?? {}) as ErrorShape;
  const code = typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' ? e.name : undefined;
  if (code && TRANSIENT_CODES.has(code)) return true;
  if (e.$retryable !== undefined && e.$retryable !== null && e.$retryable !== false) return true;
  const status = httpStatusOf(error);
  if (status === undefined) {
    // A configuration mistake the SDK reports before sending anything will not fix itself.
    return !(typeof e.message === 'string' && /Region is missing|Invalid region/i.test(e.message));
  }
  return status >= 500 || status === 408 || status === 429;
}

/** Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniform in [0, min(max, base * 2^(n-1))]. */
export function backoffDelay(attempt: number, retry: Required<S3RetryOptions>, random: () => number = Math.random): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}

/** A short description of an upload failure: code, status and message. */
export function describeFailure(error: unknown): string {
  const e = (error ?? {}) as ErrorShape;
  const code = typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' ? e.name : 'Error';
  const status = httpStatusOf(error);
  const errno = typeof e.code === 'string' && e.code !== code ? ` ${e.code}` : '';
  const text = typeof e.message === 'string' ? e.message.replace(/[.\s]+$/, '') : '';
  const message = text !== '' && text !== code ? `: ${text}` : '';
  return `${code}${status === undefined ? '' : ` (HTTP ${status})`}${errno}${message}`;
}

/** Reported for an upload attempt that failed, and for a batch that was given up. */
export class S3DeliveryError extends Error {
  override readonly name = 'S3DeliveryError';
  constructor(
    message: string,
    /** Object key of the batch. */
    readonly key: string,
    /** Ids of the events in the batch. */
    readonly eventIds: readonly string[],
    /** The attempt that failed (1-based). */
    readonly attempt: number,
    /** true when the adapter will try again; false when the events were given up. */
    readonly willRetry: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
