// success_callback / failure_callback: a view of an adapter's callback with only one of its hooks,
// so that the manager (and `list()`) treat it as success-only or failure-only, as LiteLLM does;
// and the view that carries a config's `required: true` lock when the adapter did not set it.
import type { Callback, CallbackReporter, CallEvent } from '@llm-callbacks/core';

export type Role = 'success' | 'failure';

/**
 * Returns `callback` itself when it already has exactly the hooks of `roles`, otherwise a view that
 * forwards the kept hook and the lifecycle (flush, shutdown, onRegister) to it.
 */
export function narrowCallback(callback: Callback, roles: ReadonlySet<Role>, lock: { required?: boolean } = {}): Callback {
  const keepSuccess = roles.has('success');
  const keepFailure = roles.has('failure');
  const hasSuccess = typeof callback.onSuccess === 'function';
  const hasFailure = typeof callback.onFailure === 'function';
  // The config's `required: true` holds even when the adapter's factory ignored that param: the
  // view then carries the lock (a lock must never depend on every factory passing it on).
  const mustLock = lock.required === true && callback.required !== true;
  if (keepSuccess === hasSuccess && keepFailure === hasFailure && !mustLock) return callback;

  const view: {
    -readonly [K in keyof Callback]: Callback[K];
  } = { name: callback.name };
  // Called as methods of the original, so adapters written as classes keep their `this`.
  if (keepSuccess) view.onSuccess = (event: CallEvent) => callback.onSuccess?.(event);
  if (keepFailure) view.onFailure = (event: CallEvent) => callback.onFailure?.(event);
  if (typeof callback.flush === 'function') view.flush = () => callback.flush?.();
  if (typeof callback.shutdown === 'function') view.shutdown = () => callback.shutdown?.();
  if (typeof callback.onRegister === 'function') view.onRegister = (reporter: CallbackReporter) => callback.onRegister?.(reporter);
  if (callback.required !== undefined) view.required = callback.required;
  if (mustLock) view.required = true;
  if (callback.timeoutMs !== undefined) view.timeoutMs = callback.timeoutMs;
  if (callback.maxQueueSize !== undefined) view.maxQueueSize = callback.maxQueueSize;
  if (callback.overflow !== undefined) view.overflow = callback.overflow;
  return view;
}
