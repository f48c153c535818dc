// `os.environ/NAME` references, as LiteLLM writes them: a string value that is exactly
// "os.environ/" + a variable name is replaced by that variable's value. Unlike LiteLLM (which puts
// None there), a reference to a variable that is not set is an error naming the path and variable.
import { formatPath } from './config-error.js';

export const ENV_PREFIX = 'os.environ/';

/** Environment variables as process.env holds them. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A problem found before it is tied to a location in the file. */
export interface RawIssue {
  readonly path: readonly PropertyKey[];
  readonly expected: string;
  readonly found: string;
  readonly hint?: string;
}

/** Where a resolved value came from, by formatted path: the reference text. */
export type EnvOrigins = Map<string, string>;

/**
 * Returns a copy of `value` with every reference resolved (in mappings and lists, at any depth).
 * Missing variables and malformed references are added to `issues`; their value stays unresolved.
 */
export function resolveEnvReferences(value: unknown, path: readonly PropertyKey[], env: Environment, origins: EnvOrigins, issues: RawIssue[]): unknown {
  if (typeof value === 'string') {
    if (!value.startsWith(ENV_PREFIX)) return value;
    const name = value.slice(ENV_PREFIX.length).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) {
      issues.push({
        path,
        expected: 'os.environ/ followed by an environment variable name, e.g. os.environ/LANGFUSE_SECRET_KEY',
        found: `the string ${JSON.stringify(value)}`,
      });
      return value;
    }
    const resolved = env[name];
    if (resolved === undefined) {
      issues.push({
        path,
        expected: `environment variable ${name} to be set (referenced as ${value})`,
        found: 'it unset',
        hint: `set ${name}, or define it under environment_variables in the config`,
      });
      return value;
    }
    origins.set(formatPath(path), value);
    return resolved;
  }
  if (Array.isArray(value)) return value.map((item, index) => resolveEnvReferences(item, [...path, index], env, origins, issues));
  if (typeof value === 'object' && value !== null) {
    // fromEntries defines own properties: a `__proto__` key in the file stays a key, not a prototype.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveEnvReferences(item, [...path, key], env, origins, issues)]));
  }
  return value;
}

/**
 * The environment references resolve against: the real one, overlaid by the config's own
 * `environment_variables` (whose values may themselves be references to the real environment; as in
 * LiteLLM, such an entry is skipped when its variable is not set).
 */
export function environmentWithOverlay(env: Environment, variables: unknown): Environment {
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) return env;
  const merged: Record<string, string | undefined> = { ...env };
  for (const [name, raw] of Object.entries(variables)) {
    if (typeof raw === 'string' && raw.startsWith(ENV_PREFIX)) {
      const resolved = env[raw.slice(ENV_PREFIX.length).trim()];
      if (resolved !== undefined) merged[name] = resolved;
    } else if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') {
      merged[name] = String(raw);
    }
  }
  return merged;
}
