// loadConfig() / readConfig(): a LiteLLM proxy config (YAML, JSON or an object) turned into the
// callbacks and lock of a CallbackManager. Adapters come from a map the caller passes, so neither
// core nor this package depends on any adapter.
//
// Order: read -> resolve os.environ/ references in what we read -> validate (zod) -> find every
// callback's adapter and params -> only when the whole file is valid, create the callbacks. Every
// problem is collected, so one run reports all of them.
import { createCallbackManager, defineCallback, type Callback, type CallbackManager, type CallbackManagerOptions } from '@llm-callbacks/core';
import type { z } from 'zod';
import { ConfigError, describeFound, formatPath, type ConfigIssue } from './config-error.js';
import { readConfigSource, type ConfigSource } from './config-source.js';
import { AdapterParamsSchema, CALLBACK_PARAMS_KEY, CALLBACK_SETTING_KEYS, LiteLLMConfigSchema } from './config-schema.js';
import { environmentWithOverlay, resolveEnvReferences, type EnvOrigins, type Environment, type RawIssue } from './env-references.js';
import { narrowCallback, type Role } from './narrow-callback.js';

/** What an adapter factory is told besides its params. */
export interface AdapterContext {
  /** The callback's name as written in the config (e.g. `s3_v2`). */
  readonly name: string;
  /** The environment references were resolved against: `env` overlaid by the config's `environment_variables`. */
  readonly env: Environment;
}

/**
 * Makes one callback from the params found in the config (`callback_settings.<name>` or
 * `litellm_settings.<name>_callback_params`, `{}` when there are none). The params are plain data
 * from the file, checked by the adapter itself, so the factory types them:
 * `langfuse: (params: LangfuseCallbackOptions) => langfuseCallback(params)`.
 */
// `never` lets a factory declare any params type (the adapter's own options) and still fit the map.
export type AdapterFactory = (params: never, context: AdapterContext) => Callback | Promise<Callback>;

/** Adapter factories by the name the config uses (matched case-insensitively). */
export type AdapterMap = Readonly<Record<string, AdapterFactory>>;

/** Options of {@link readConfig}: the adapters a config may name, and the environment its `os.environ/NAME` references read. */
export interface ReadConfigOptions {
  /** The adapters config names may refer to, e.g. `{ langfuse: (p) => langfuseCallback(p), s3: (p) => s3Callback(p) }`. */
  adapters: AdapterMap;
  /** Where `os.environ/NAME` references are looked up (default `process.env`). */
  env?: Environment;
}

/** Options of {@link loadConfig}: those of {@link readConfig}, plus further manager options. */
export interface LoadConfigOptions extends ReadConfigOptions {
  /** Further manager options (timeouts, queue sizes, header names). The callbacks and the lock come from the config only. */
  manager?: Omit<CallbackManagerOptions, 'callbacks' | 'allowDynamicCallbackDisabling'>;
}

/** A config turned into manager options. */
export interface ResolvedConfig {
  /** Ready for `createCallbackManager({ ...managerOptions, ...yours })`. */
  readonly managerOptions: {
    readonly callbacks: readonly Callback[];
    /** Present only when the config sets it (the manager's default is true). */
    readonly allowDynamicCallbackDisabling?: boolean;
  };
  /** Each callback as its factory made it (before narrowing to success or failure), by config name. */
  readonly adapters: ReadonlyMap<string, Callback>;
  /** Params given for callbacks the config does not list (`callback_settings.x`, `litellm_settings.x_callback_params`): likely typos. */
  readonly unusedSettings: readonly string[];
  /** The file read, when there was one. */
  readonly file: string | undefined;
}

interface Entry {
  /** As first written in the config. */
  name: string;
  factory: AdapterFactory;
  roles: Set<Role>;
  /** Where it is listed, first one first. */
  paths: PropertyKey[][];
  params: Record<string, unknown>;
}

const LISTS: ReadonlyArray<readonly [key: 'callbacks' | 'success_callback' | 'failure_callback', roles: readonly Role[]]> = [
  ['callbacks', ['success', 'failure']],
  ['success_callback', ['success']],
  ['failure_callback', ['failure']],
];

/**
 * Reads a LiteLLM-style config and returns a ready {@link CallbackManager}: `callbacks` register for
 * success and failure, `success_callback` for success only, `failure_callback` for failure only, and
 * `allow_dynamic_callback_disabling` sets the lock. Throws a {@link ConfigError} listing every
 * problem; no callback is left running when it throws.
 */
export async function loadConfig(source: string | URL | object, options: LoadConfigOptions): Promise<CallbackManager> {
  // The types leave these out; a JavaScript caller must not slip them in either (the lock is the file's).
  const extra = (options?.manager ?? {}) as CallbackManagerOptions;
  for (const key of ['callbacks', 'allowDynamicCallbackDisabling'] as const) {
    if (extra[key] !== undefined) {
      throw new TypeError(
        `loadConfig: options.manager.${key} is not accepted: the callbacks and the lock come from the config file (litellm_settings). Register further callbacks with manager.register().`,
      );
    }
  }
  const resolved = await readConfig(source, options);
  try {
    return createCallbackManager({ ...extra, ...resolved.managerOptions });
  } catch (error) {
    await shutdownQuietly([...resolved.adapters.values()]);
    throw error;
  }
}

/** Like {@link loadConfig}, but returns the manager options (and the adapters' callbacks) instead of a manager. */
export async function readConfig(source: string | URL | object, options: ReadConfigOptions): Promise<ResolvedConfig> {
  const adapters = options?.adapters;
  if (typeof adapters !== 'object' || adapters === null) {
    throw new TypeError('readConfig/loadConfig: options.adapters is required, e.g. { adapters: { langfuse: (params) => langfuseCallback(params) } }.');
  }
  const input = await readConfigSource(source);
  const issues: RawIssue[] = [];
  const origins: EnvOrigins = new Map();
  const fail: () => never = () => {
    throw new ConfigError(locateAll(issues, input), input.file);
  };

  // 1. The environment, and references in the keys we read, resolved before validation, so that an
  //    `os.environ/` value is checked like a literal one.
  const raw = input.data;
  const root = isMapping(raw) ? raw : undefined;
  const env = environmentWithOverlay(options.env ?? process.env, root?.['environment_variables']);
  const settings = root?.['litellm_settings'];
  let document: unknown = raw;
  if (root && isMapping(settings)) {
    const resolvedSettings: Record<string, unknown> = { ...settings };
    for (const key of CALLBACK_SETTING_KEYS) {
      if (key in settings) resolvedSettings[key] = resolveEnvReferences(settings[key], ['litellm_settings', key], env, origins, issues);
    }
    document = { ...root, litellm_settings: resolvedSettings };
  }

  // 2. Shapes and types. Later steps go on with what is usable, so one run reports everything.
  const parsed = LiteLLMConfigSchema.safeParse(document, { reportInput: true });
  if (!parsed.success) issues.push(...parsed.error.issues.map((issue) => fromZod(issue, origins)));
  const documentRoot = isMapping(document) ? document : {};
  const litellm = isMapping(documentRoot['litellm_settings']) ? documentRoot['litellm_settings'] : {};
  const callbackSettings = isMapping(documentRoot['callback_settings']) ? documentRoot['callback_settings'] : {};

  // 3. Which adapter each name is, and in which roles.
  const known = new Map(Object.entries(adapters).map(([name, factory]) => [name.toLowerCase(), { name, factory }]));
  const entries = new Map<string, Entry>();
  for (const [key, roles] of LISTS) {
    const list = litellm[key];
    if (!Array.isArray(list)) continue;
    list.forEach((name: unknown, index) => {
      // Not a name: already reported by the schema.
      if (typeof name !== 'string' || name === '') return;
      const path = ['litellm_settings', key, index];
      const adapter = known.get(name.toLowerCase());
      if (!adapter || typeof adapter.factory !== 'function') {
        issues.push({
          path,
          expected: `the name of a known callback: ${
            [...known.values()]
              .map((a) => a.name)
              .sort()
              .join(', ') || '(none: the adapters map passed to loadConfig is empty)'
          }`,
          found: `the name ${JSON.stringify(name)}${originNote(path, origins)}`,
          hint: `${suggest(
            name,
            [...known.values()].map((a) => a.name),
          )}add it to the adapters map passed to loadConfig, or remove it from the config`,
        });
        return;
      }
      let entry = entries.get(name.toLowerCase());
      if (!entry) entries.set(name.toLowerCase(), (entry = { name, factory: adapter.factory, roles: new Set(), paths: [], params: {} }));
      for (const role of roles) entry.roles.add(role);
      entry.paths.push(path);
    });
  }

  // 4. Params: callback_settings.<name> or litellm_settings.<name>_callback_params, one of them.
  const unusedSettings: string[] = [];
  const settingsParams = new Map<string, { path: PropertyKey[]; value: unknown }>();
  for (const [key, value] of Object.entries(callbackSettings)) {
    const target = key.toLowerCase();
    if (entries.has(target)) settingsParams.set(target, { path: ['callback_settings', key], value });
    else unusedSettings.push(`callback_settings.${key}`);
  }
  for (const [key, value] of Object.entries(litellm)) {
    const match = CALLBACK_PARAMS_KEY.exec(key);
    if (!match?.[1]) continue;
    const target = match[1].toLowerCase();
    if (!entries.has(target)) {
      unusedSettings.push(`litellm_settings.${key}`);
      continue;
    }
    const other = settingsParams.get(target);
    const path = ['litellm_settings', key];
    if (other) {
      issues.push({
        path,
        expected: `the params of "${match[1]}" in one place only`,
        found: `them also at ${formatPath(other.path)}`,
        hint: 'merge them under callback_settings and remove the other',
      });
      continue;
    }
    settingsParams.set(target, { path, value });
  }
  for (const [target, { path, value }] of settingsParams) {
    const checked = AdapterParamsSchema.nullable().safeParse(value, { reportInput: true });
    if (!checked.success) {
      issues.push(...checked.error.issues.map((issue) => fromZod({ ...issue, path: [...path, ...issue.path] }, origins)));
      continue;
    }
    const params = resolveEnvReferences(checked.data ?? {}, path, env, origins, issues);
    const entry = entries.get(target);
    if (entry) entry.params = params as Record<string, unknown>;
  }
  if (issues.length > 0) fail();

  // 5. Create the callbacks; on any failure, shut down the ones already made.
  const created = new Map<string, Callback>();
  const callbacks: Callback[] = [];
  const byName = new Map<string, Entry>();
  for (const entry of entries.values()) {
    const where = entry.paths[0] ?? [];
    let made: unknown;
    try {
      made = await entry.factory(entry.params as never, { name: entry.name, env });
    } catch (error) {
      issues.push({
        path: where,
        expected: `the adapter "${entry.name}" to start with the params given`,
        found: `an error: ${errorMessage(error)}`,
      });
      continue;
    }
    let callback: Callback;
    try {
      callback = defineCallback(made as Callback);
    } catch (error) {
      issues.push({
        path: where,
        expected: `the adapter "${entry.name}" to return a callback ({ name, onSuccess and/or onFailure })`,
        found: `one that is not usable: ${errorMessage(error)}`,
        hint: 'check the factory in the adapters map',
      });
      continue;
    }
    created.set(entry.name, callback);
    const problem = missingHook(callback, entry.roles);
    if (problem) {
      issues.push({ path: where, expected: problem.expected, found: problem.found, hint: 'use the list that matches the hooks it has' });
      continue;
    }
    const previous = byName.get(callback.name.toLowerCase());
    if (previous) {
      issues.push({
        path: where,
        expected: 'callback names that are unique (case-insensitively)',
        found: `"${entry.name}" and "${previous.name}" both make a callback named "${callback.name}"`,
        hint: 'give one of them another name in its params (e.g. name: ...)',
      });
      continue;
    }
    byName.set(callback.name.toLowerCase(), entry);
    callbacks.push(narrowCallback(callback, entry.roles, { required: entry.params['required'] === true }));
  }
  if (issues.length > 0) {
    await shutdownQuietly([...created.values()]);
    fail();
  }

  // Only reached when the schema accepted the document, so the lock is a boolean or absent.
  const lock = parsed.data?.litellm_settings?.allow_dynamic_callback_disabling;
  return {
    managerOptions: { callbacks, ...(lock === undefined ? {} : { allowDynamicCallbackDisabling: lock }) },
    adapters: created,
    unusedSettings,
    file: input.file,
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function missingHook(callback: Callback, roles: ReadonlySet<Role>): { expected: string; found: string } | undefined {
  const has = (hook: 'onSuccess' | 'onFailure'): boolean => typeof callback[hook] === 'function';
  const only = has('onSuccess') ? 'onSuccess' : 'onFailure';
  if (roles.has('success') && !has('onSuccess')) {
    return { expected: `a callback with an onSuccess hook for a success list (callbacks or success_callback)`, found: `"${callback.name}" has only ${only}` };
  }
  if (roles.has('failure') && !has('onFailure')) {
    return { expected: `a callback with an onFailure hook for a failure list (callbacks or failure_callback)`, found: `"${callback.name}" has only ${only}` };
  }
  return undefined;
}

function fromZod(issue: z.core.$ZodIssue, origins: EnvOrigins): RawIssue {
  const path = issue.path as PropertyKey[];
  const input = (issue as { input?: unknown }).input;
  return { path, expected: issue.message, found: `${describeFound(input)}${originNote(path, origins)}` };
}

function originNote(path: readonly PropertyKey[], origins: EnvOrigins): string {
  const origin = origins.get(formatPath(path));
  return origin ? ` (from ${origin})` : '';
}

/** Issues with their place in the file, in file order (those without a place keep theirs, last). */
function locateAll(issues: readonly RawIssue[], input: ConfigSource): ConfigIssue[] {
  const located = issues.map((issue): ConfigIssue => {
    const position = input.locate(issue.path);
    return {
      path: formatPath(issue.path),
      expected: issue.expected,
      found: issue.found,
      ...(issue.hint ? { hint: issue.hint } : {}),
      ...(position ? { line: position.line, column: position.column } : {}),
    };
  });
  const order = (issue: ConfigIssue): number => (issue.line ?? Number.MAX_SAFE_INTEGER) * 100_000 + (issue.column ?? 0);
  return located.sort((a, b) => order(a) - order(b));
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "did you mean "langfuse"? " for a name within two edits of a known one. */
function suggest(name: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best ? `did you mean "${best}"? Otherwise ` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Shuts callbacks down without waiting long or throwing: they were never registered with a manager. */
async function shutdownQuietly(callbacks: readonly Callback[]): Promise<void> {
  await Promise.race([
    Promise.allSettled(callbacks.map(async (callback) => callback.shutdown?.())),
    new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref()),
  ]);
}
