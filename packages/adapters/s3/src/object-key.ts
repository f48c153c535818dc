// Object keys: `{prefix}/{YYYY-MM-DD}/{HH}/{time}-{unique}.{ndjson|json}` in UTC. Only the
// operator's static prefix is used as written (checked); anything derived from an event (a prefix
// function's answer, an event id) is percent-encoded first, so a key never holds raw metadata.
// The AWS SDK then encodes the whole key once on the wire and signs exactly that path, which is
// what S3 verifies; a peer logger that signed a differently encoded path lost every record whose
// key had a space, `&`, `+`, `#` or non-ASCII character (BerriAI/litellm#34275, #34490).
import { LlmCallbacksError } from '@llm-callbacks/core';

/** S3 keys are at most 1024 bytes; leave room for the date, time and unique parts. */
const MAX_PREFIX_BYTES = 900;
const MAX_SEGMENT_CHARS = 200;
// Control characters are legal in S3 keys but break XML listings and most tooling; a lone UTF-16
// surrogate cannot be encoded as UTF-8 at all.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Checks an operator-given prefix and returns it without leading or trailing slashes. Any printable
 * character is allowed (spaces, `&`, `+`, `#`, unicode); empty, `.` and `..` segments are refused,
 * since some clients and proxies collapse or resolve them and the key would change under you.
 */
export function checkStaticPrefix(prefix: string, where: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  const problem = CONTROL.test(trimmed)
    ? 'contains a control character'
    : LONE_SURROGATE.test(trimmed)
      ? 'contains an unpaired UTF-16 surrogate'
      : trimmed.split('/').some((s) => s === '.' || s === '..' || (s === '' && trimmed !== ''))
        ? "has an empty, '.' or '..' segment"
        : Buffer.byteLength(trimmed) > MAX_PREFIX_BYTES
          ? `is longer than ${MAX_PREFIX_BYTES} bytes`
          : undefined;
  if (problem) {
    throw new LlmCallbacksError(
      'INVALID_OPTIONS',
      `s3Callback: ${where} ${JSON.stringify(prefix)} ${problem}; use printable characters separated by single '/'.`,
    );
  }
  return trimmed;
}

/** RFC 3986 percent-encoding: only `A-Z a-z 0-9 - . _ ~` stay as they are. */
export function encodeKeySegment(text: string): string {
  const safe = text.replace(LONE_SURROGATE, '\ufffd').slice(0, MAX_SEGMENT_CHARS);
  const encoded = encodeURIComponent(safe).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  // '.' and '..' alone would be read as path steps by some tools.
  return encoded === '.' ? '%2E' : encoded === '..' ? '%2E%2E' : encoded;
}

/**
 * A prefix derived from an event: split on '/', empty segments dropped, each segment
 * percent-encoded. `R&D + Ops/eu` becomes `R%26D%20%2B%20Ops/eu`.
 */
export function encodeDynamicPrefix(value: string): string {
  const segments = value
    .split('/')
    .filter((s) => s !== '')
    .map(encodeKeySegment);
  let out = segments.join('/');
  while (Buffer.byteLength(out) > MAX_PREFIX_BYTES && segments.length > 1) {
    segments.pop();
    out = segments.join('/');
  }
  return out;
}

/** `{prefix}/{YYYY-MM-DD}/{HH}/{YYYYMMDDTHHmmssSSSZ}-{unique}.{extension}`, in UTC. */
export function buildObjectKey(prefix: string, at: Date, unique: string, extension: 'ndjson' | 'json'): string {
  const iso = at.toISOString(); // 2026-12-03T19:01:23.456Z
  const day = iso.slice(0, 10);
  const hour = iso.slice(11, 13);
  const time = iso.replace(/[-:.]/g, '');
  return `${prefix === '' ? '' : `${prefix}/`}${day}/${hour}/${time}-${unique}.${extension}`;
}
