// The request scope: disable sources and metadata that apply to every wrapped call made inside a
// function, carried across awaits, timers and streams by AsyncLocalStorage.
import { AsyncLocalStorage } from 'node:async_hooks';
import { LlmCallbacksError } from './errors.js';
import { checkOptionNames } from './option-names.js';

/** Header values as a service receives them (node:http's IncomingHttpHeaders fits) or a Headers object. */
export type ScopeHeaders =
  Headers | Readonly<Record<string, string | readonly string[] | number | null | undefined>> | ReadonlyArray<readonly [string, string]>;

/** What {@link withCallbackContext} applies to every LLM call made inside its scope: disables, an incoming request's headers, metadata. */
export interface CallbackScope {
  /** Callback names to switch off for every call in the scope (string, comma-separated, or list). */
  readonly disableCallbacks?: string | readonly string[];
  /** The incoming request's headers; the manager's disable header(s) are read from them. */
  readonly headers?: ScopeHeaders;
  /** Added to every event's `metadata` (a call's own `metadata` option wins on conflicts). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

const SCOPE_FIELDS = Object.keys({ disableCallbacks: true, headers: true, metadata: true } satisfies Record<keyof CallbackScope, true>);

/** Scopes as they nest: the innermost last. Every level's disables apply (union). */
export type ScopeChain = readonly CallbackScope[];

// One store per process, kept on globalThis: when both the ESM and the CommonJS build of core are
// loaded (a dual-package setup), a scope set through one must still be seen by calls made through
// the other.
const STORE_KEY = Symbol.for('@llm-callbacks/core.request-scope');
const storage: AsyncLocalStorage<ScopeChain> = ((globalThis as Record<symbol, unknown>)[STORE_KEY] ??=
  new AsyncLocalStorage<ScopeChain>()) as AsyncLocalStorage<ScopeChain>;

/**
 * Runs `fn` with `scope` applied to every wrapped LLM call it makes, however deep and however late
 * (after awaits, in timers, while streaming). Nested scopes add up: their disables are united and
 * their metadata merged, inner over outer.
 */
export function withCallbackContext<T>(scope: CallbackScope, fn: () => T): T {
  // Checked here, where the mistake is made, so it cannot surface later inside an LLM call.
  if (typeof scope !== 'object' || scope === null || Array.isArray(scope)) {
    throw new LlmCallbacksError(
      'INVALID_OPTIONS',
      `withCallbackContext(scope, fn): scope must be an object like { headers, disableCallbacks, metadata }, got ${scope === null ? 'null' : Array.isArray(scope) ? 'an array' : typeof scope}.`,
    );
  }
  if (typeof fn !== 'function') {
    throw new LlmCallbacksError('INVALID_OPTIONS', `withCallbackContext(scope, fn): fn must be the function to run in the scope, got ${typeof fn}.`);
  }
  checkOptionNames('withCallbackContext(scope, fn)', scope, SCOPE_FIELDS);
  const outer = storage.getStore();
  return storage.run(outer ? [...outer, scope] : [scope], fn);
}

/** The scopes in force for the current async context (empty outside any). */
export function currentScopes(): ScopeChain {
  return storage.getStore() ?? [];
}
