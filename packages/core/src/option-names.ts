// Misspelt option names: `{ requred: true }` or `{ redactMessage: true }` must never be silently
// ignored, since for a lock or a redaction setting "ignored" means "unsafe". One check for every
// options object of core and the adapters, with the closest known name as the hint.
import { LlmCallbacksError, type LlmCallbacksErrorCode } from './errors.js';

/**
 * Throws an {@link LlmCallbacksError} (`INVALID_OPTIONS`) naming every key of `options` that is not
 * in `known`, the closest known name for each, and the full list. For plain options objects whose
 * every key is known (adapter factories, built-in callbacks, manager options).
 *
 * @param where - what is being configured, e.g. `s3Callback(options)`.
 */
export function checkOptionNames(where: string, options: object, known: Iterable<string>): void {
  const names = [...known];
  const knownSet = new Set(names);
  const unknown = Object.keys(options).filter((key) => !knownSet.has(key));
  if (unknown.length === 0) return;
  const described = unknown.map((key) => {
    const near = closest(key, names);
    return near ? `${JSON.stringify(key)} (did you mean ${JSON.stringify(near)}?)` : JSON.stringify(key);
  });
  throw new LlmCallbacksError(
    'INVALID_OPTIONS',
    `${where}: unknown option${unknown.length > 1 ? 's' : ''} ${described.join(', ')}; the options are ${names.join(', ')}.`,
  );
}

/**
 * For objects that may carry fields of their own (a callback object, a class instance): only keys
 * that look like a misspelling of one of the `guarded` names (`requred`, `requiredd`, `onSucess`)
 * or are a known stand-in for one (`isRequired`, `redact`) are refused. Kept to the few names
 * whose silent loss is unsafe, so that ordinary fields (`rate`, `names`, `timeouts`) never are.
 */
export function checkNearMisses(
  where: string,
  value: object,
  guarded: Iterable<string>,
  aliases: Readonly<Record<string, string>> = {},
  code: LlmCallbacksErrorCode = 'INVALID_OPTIONS',
): void {
  const names = [...guarded];
  const knownSet = new Set(names);
  for (const key of Object.keys(value)) {
    if (knownSet.has(key)) continue;
    const meant = Object.prototype.hasOwnProperty.call(aliases, key) ? aliases[key] : closest(key, names);
    // Within one letter of the guarded name's length: `requiredBy` beside `required` is a field of its own.
    if (meant !== undefined && (aliases[key] === meant || Math.abs(meant.length - key.length) <= 1)) {
      throw new LlmCallbacksError(code, `${where}: unknown field ${JSON.stringify(key)}; did you mean ${JSON.stringify(meant)}?`);
    }
  }
}

/** The known name within edit distance 2 (ignoring case) of `key`, if one is that close. */
function closest(key: string, names: readonly string[]): string | undefined {
  if (key.length < 4) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of names) {
    const d = distance(key.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, with a transposition counted as one edit. */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (rows[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const prev = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = d;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}
