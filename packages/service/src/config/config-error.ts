// The error loadConfig() throws: every problem found in a config, each with its path in the file,
// what was expected and what was found, so one run shows everything to fix.
import { LlmCallbacksError } from '@llm-callbacks/core';

/** One problem in a config. */
export interface ConfigIssue {
  /** Where, as a path into the document: `litellm_settings.callbacks[1]`, or `(file)` / `(root)`. */
  readonly path: string;
  /** What a valid config has there. */
  readonly expected: string;
  /** What this config has there. */
  readonly found: string;
  /** Position in a YAML file (1-based), when known. */
  readonly line?: number;
  readonly column?: number;
  /** A hint on what to do, when there is one beyond `expected`. */
  readonly hint?: string;
}

/** Thrown by loadConfig()/readConfig(); `issues` lists every problem, `message` shows them all. */
export class ConfigError extends LlmCallbacksError {
  readonly issues: readonly ConfigIssue[];
  /** The file read, when the config came from a file. */
  readonly file: string | undefined;

  constructor(issues: readonly ConfigIssue[], file: string | undefined, options?: { cause?: unknown }) {
    super('INVALID_OPTIONS', formatIssues(issues, file));
    this.issues = issues;
    this.file = file;
    if (options?.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, configurable: true, writable: true });
  }
}

function formatIssues(issues: readonly ConfigIssue[], file: string | undefined): string {
  const where = file ? ` in ${file}` : '';
  const head = `Invalid llm-callbacks config${where} (${issues.length} ${issues.length === 1 ? 'problem' : 'problems'}):`;
  return [head, ...issues.map((issue) => `  - ${formatIssue(issue)}`)].join('\n');
}

export function formatIssue(issue: ConfigIssue): string {
  const position = issue.line ? ` (line ${issue.line}${issue.column ? `, column ${issue.column}` : ''})` : '';
  const hint = issue.hint ? `; ${issue.hint}` : '';
  return `${issue.path}${position}: expected ${issue.expected}, found ${issue.found}${hint}`;
}

/** Describes a value found in a config, for "found ..." (strings quoted, long values cut). */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return value === '' ? 'an empty string' : `the string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `the ${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

/** `['litellm_settings', 'callbacks', 1]` -> `litellm_settings.callbacks[1]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) text += text ? `.${key}` : key;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text;
}
