// wrapOpenAI: a view of an openai client whose four `create()` methods report every call to a
// callback manager. Everything else passes straight through to the real client.
//
// The view is a Proxy over the client and its resources, never a copy and never a patch, so the
// caller's client stays untouched, methods that use openai's #private fields still run against the
// real objects, and wrapping twice is detected instead of doubling events.
import { CallbackManager } from '../manager.js';
import { LlmCallbacksError } from '../errors.js';
import type { CallType } from '../event.js';
import { currentScopes } from '../request-scope.js';
import { SecretScrubber } from '../secrets.js';
import { splitCallOptions } from './call-options.js';
import { CallTracker } from './call-tracker.js';
import { providerOf } from './response-facts.js';
import type { OpenAILike, WrappedOpenAI } from './types.js';

/** The methods reported, by their path on the client. */
const METHODS: ReadonlyArray<{ path: readonly string[]; callType: CallType }> = [
  { path: ['chat', 'completions', 'create'], callType: 'chat.completions' },
  { path: ['responses', 'create'], callType: 'responses' },
  { path: ['embeddings', 'create'], callType: 'embeddings' },
  { path: ['completions', 'create'], callType: 'completions' },
];

const WRAPPED = Symbol.for('@llm-callbacks/core.wrapped');

interface WrapInfo {
  manager: CallbackManager;
  client: object;
}

/**
 * Returns the client with every `chat.completions.create`, `responses.create`,
 * `embeddings.create` and `completions.create` call reported to `manager`. Each of those accepts
 * `disableCallbacks` and `metadata` beside openai's own request options.
 */
export function wrapOpenAI<C extends OpenAILike>(client: C, manager: CallbackManager): WrappedOpenAI<C> {
  if (!(manager instanceof CallbackManager)) {
    throw new LlmCallbacksError('INVALID_OPTIONS', 'wrapOpenAI(client, manager): the second argument must come from createCallbackManager().');
  }
  if (typeof client !== 'object' || client === null || typeof client.chat?.completions?.create !== 'function') {
    throw new LlmCallbacksError(
      'NOT_AN_OPENAI_CLIENT',
      'wrapOpenAI(client, manager): the first argument must be an openai client (new OpenAI(...)), with chat.completions.create.',
    );
  }
  const existing = (client as { [WRAPPED]?: WrapInfo })[WRAPPED];
  if (existing) {
    if (existing.manager === manager) return client as WrappedOpenAI<C>;
    throw new LlmCallbacksError(
      'ALREADY_WRAPPED',
      'This client is already wrapped with another callback manager; wrap the original client instead, or register all callbacks on one manager.',
    );
  }
  const info: WrapInfo = { manager, client };
  const raw = client as unknown as Record<string | symbol, unknown>;
  const scrubber = new SecretScrubber([typeof raw['apiKey'] === 'string' ? raw['apiKey'] : undefined]);
  const provider = providerOf(raw['baseURL']);
  const report = (callType: CallType, original: (...args: unknown[]) => unknown, resource: object) =>
    function create(body: unknown, options?: unknown): unknown {
      return runCall(manager, { callType, provider, scrubber }, original, resource, body, options);
    };
  return view(client, [], info, report) as WrappedOpenAI<C>;
}

type Reporter = (callType: CallType, original: (...args: unknown[]) => unknown, resource: object) => (...args: unknown[]) => unknown;

/** A Proxy over `target` (the client, or a resource on the way to a reported method). */
function view(target: object, path: readonly string[], info: WrapInfo, report: Reporter): object {
  const children = new Map<string | symbol, unknown>();
  const bound = new WeakMap<object, unknown>();
  return new Proxy(target, {
    get(obj, prop) {
      if (prop === WRAPPED) return info;
      // Read with the real object as receiver: getters and #private fields then work as usual.
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof prop !== 'string') return bindTo(value, obj, bound);
      const cached = children.get(prop);
      if (cached !== undefined) return cached;
      const childPath = [...path, prop];
      const method = METHODS.find((m) => same(m.path, childPath));
      if (method && typeof value === 'function') {
        return remember(children, prop, report(method.callType, value as (...args: unknown[]) => unknown, obj));
      }
      if (typeof value === 'object' && value !== null && METHODS.some((m) => startsWith(m.path, childPath))) {
        return remember(children, prop, view(value, childPath, info, report));
      }
      if (path.length === 0 && prop === 'withOptions' && typeof value === 'function') {
        // A copy with other options must report too, or it would silently escape logging.
        return (...args: unknown[]) => wrapOpenAI((value as (...a: unknown[]) => OpenAILike).apply(obj, args), info.manager);
      }
      return bindTo(value, obj, bound);
    },
    set(obj, prop, value) {
      children.delete(prop);
      return Reflect.set(obj, prop, value, obj);
    },
  });
}

function remember<T>(cache: Map<string | symbol, unknown>, prop: string, value: T): T {
  cache.set(prop, value);
  return value;
}

/** Methods are bound to the real object so `this.#private` inside them keeps working. */
function bindTo(value: unknown, obj: object, cache: WeakMap<object, unknown>): unknown {
  if (typeof value !== 'function') return value;
  let fn = cache.get(value);
  if (!fn) {
    fn = (value as (...args: unknown[]) => unknown).bind(obj);
    cache.set(value, fn);
  }
  return fn;
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const startsWith = (full: readonly string[], prefix: readonly string[]): boolean =>
  prefix.length < full.length && prefix.every((x, i) => x === full[i]);

interface CallSite {
  callType: CallType;
  provider: string;
  scrubber: SecretScrubber;
}

/** One reported call: decide, strip, call openai, watch. Returns openai's own promise. */
function runCall(
  manager: CallbackManager,
  site: CallSite,
  original: (...args: unknown[]) => unknown,
  resource: object,
  body: unknown,
  options: unknown,
): unknown {
  const split = splitCallOptions(options, manager.disableHeaders);
  if (manager.size === 0) return original.call(resource, body, split.openaiOptions);

  const scopes = currentScopes();
  const callScrubber = split.headerSecrets.length > 0 ? site.scrubber.with(split.headerSecrets) : site.scrubber;
  const metadata: Record<string, unknown> = {};
  for (const scope of scopes) if (scope.metadata) Object.assign(metadata, scope.metadata);
  if (split.metadata) Object.assign(metadata, split.metadata);
  // The request is copied now: callers often reuse and extend the same messages array afterwards.
  const request = callScrubber.copy(body);
  const tracker = new CallTracker(manager, {
    callType: site.callType,
    provider: site.provider,
    request: typeof request === 'object' && request !== null && !Array.isArray(request) ? (request as Record<string, unknown>) : {},
    metadata: callScrubber.copy(metadata) as Record<string, unknown>,
    scrubber: callScrubber,
    disable: { option: split.disableCallbacks, headers: split.headers, scopes },
  });

  let result: unknown;
  try {
    result = original.call(resource, body, split.openaiOptions);
  } catch (error) {
    tracker.failNow(error);
    throw error;
  }
  if (result && typeof (result as PromiseLike<unknown>).then === 'function') tracker.watch(result as PromiseLike<unknown>);
  return result;
}
