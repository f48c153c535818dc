// wrapOpenAI: a view of an openai client whose four `create()` methods report every call to a
// callback manager. Everything else passes straight through to the real client.
//
// The view is a Proxy over the client and its resources, never a copy, so the caller's client keeps
// its state, methods that use openai's #private fields still run against the real objects, and
// wrapping twice is detected instead of doubling events. Two things reach further than the view:
// - the client's transport (transport.ts), so the disable header is removed from every request,
//   whichever method sends it, and events can be scrubbed of every credential that was sent;
// - the helpers on a reported resource (`chat.completions.parse`, `.stream`, `.runTools`,
//   `responses.stream`, `.parse`, ...) run with the view as `this`, so the `create()` they call
//   internally is the reported one: they are one call, and one event, each.
import type { CallbackManager } from '../manager.js';
import { LlmCallbacksError } from '../errors.js';
import type { CallType } from '../event.js';
import { currentScopes } from '../request-scope.js';
import { SecretScrubber, assignOwn } from '../secrets.js';
import { forEachHeader } from '../disable-policy.js';
import { splitCallOptions } from './call-options.js';
import { CallTracker } from './call-tracker.js';
import { providerOf } from './response-facts.js';
import { CALL_HEADER, transportOf, type Transport } from './transport.js';
import type { OpenAILike, WrappedOpenAI } from './types.js';

/** The methods reported, by their path on the client. */
const METHODS: ReadonlyArray<{ path: readonly string[]; callType: CallType }> = [
  { path: ['chat', 'completions', 'create'], callType: 'chat.completions' },
  { path: ['responses', 'create'], callType: 'responses' },
  { path: ['embeddings', 'create'], callType: 'embeddings' },
  { path: ['completions', 'create'], callType: 'completions' },
];

const WRAPPED = Symbol.for('@llm-callbacks/core.wrapped');

/** What every view of one wrapped client shares. */
interface WrapContext {
  manager: CallbackManager;
  raw: Record<string | symbol, unknown>;
  transport: Transport | undefined;
  provider: string;
  /** The disable header value(s) set in the client's defaultHeaders: a source for every call. */
  defaultDisable: Array<[string, unknown]>;
  /** The root view, which helpers see as their `_client`. */
  root?: object;
  /** The last scrubber built without per-call secrets, and what it was built from. */
  scrubber?: { key: unknown; version: number; scrubber: SecretScrubber };
}

/**
 * Returns the client with every `chat.completions.create`, `responses.create`,
 * `embeddings.create` and `completions.create` call reported to `manager` (also when made by
 * openai's helpers such as `chat.completions.parse` or `.stream`). Each of those accepts
 * `disableCallbacks` and `metadata` beside openai's own request options.
 */
export function wrapOpenAI<C extends OpenAILike>(client: C, manager: CallbackManager): WrappedOpenAI<C> {
  if (!isManager(manager)) {
    throw new LlmCallbacksError('INVALID_OPTIONS', 'wrapOpenAI(client, manager): the second argument must come from createCallbackManager().');
  }
  if (typeof client !== 'object' || client === null || typeof client.chat?.completions?.create !== 'function') {
    throw new LlmCallbacksError(
      'NOT_AN_OPENAI_CLIENT',
      'wrapOpenAI(client, manager): the first argument must be an openai client (new OpenAI(...)), with chat.completions.create.',
    );
  }
  const existing = (client as { [WRAPPED]?: WrapContext })[WRAPPED];
  if (existing) {
    if (existing.manager === manager) return client as WrappedOpenAI<C>;
    throw new LlmCallbacksError(
      'ALREADY_WRAPPED',
      'This client is already wrapped with another callback manager; wrap the original client instead, or register all callbacks on one manager.',
    );
  }
  const raw = client as unknown as Record<string | symbol, unknown>;
  const transport = transportOf(raw);
  transport?.stripHeaders(manager.disableHeaders);
  const context: WrapContext = {
    manager,
    raw,
    transport,
    provider: providerOf(raw['baseURL']),
    defaultDisable: defaultDisableHeaders(raw, manager.disableHeaders),
  };
  context.root = view(client, [], context);
  return context.root as WrappedOpenAI<C>;
}

/** Duck-typed, not instanceof: the ESM and CommonJS builds of core may both be loaded. */
function isManager(value: unknown): value is CallbackManager {
  const m = value as Partial<CallbackManager> | null;
  return typeof m === 'object' && m !== null && typeof m.decide === 'function' && typeof m.report === 'function' && typeof m.track === 'function';
}

/** Disable header values in the client's defaultHeaders (openai keeps them in `_options`). */
function defaultDisableHeaders(raw: Record<string | symbol, unknown>, names: readonly string[]): Array<[string, unknown]> {
  const defaults = (raw['_options'] as { defaultHeaders?: unknown } | undefined)?.defaultHeaders;
  const found: Array<[string, unknown]> = [];
  if (typeof defaults === 'object' && defaults !== null) {
    forEachHeader(defaults, (name, value) => {
      if (names.includes(name.toLowerCase())) found.push([name, value]);
    });
  }
  return found;
}

/** A Proxy over `target`: the client (path []) or a resource on the way to a reported method. */
function view(target: object, path: readonly string[], context: WrapContext): object {
  const children = new Map<string | symbol, unknown>();
  const bound = new WeakMap<object, unknown>();
  const isResource = path.length > 0;
  const proxy: object = new Proxy(target, {
    get(obj, prop) {
      if (prop === WRAPPED) return context;
      // Helpers reach the client through `this._client`: give them the wrapped one.
      if (isResource && prop === '_client') return context.root;
      // Read with the real object as receiver: getters and #private fields then work as usual.
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof prop !== 'string') return bindTo(value, obj, bound);
      const cached = children.get(prop);
      if (cached !== undefined) return cached;
      const childPath = [...path, prop];
      const method = METHODS.find((m) => same(m.path, childPath));
      if (method && typeof value === 'function') {
        return remember(children, prop, reportedMethod(method.callType, value as AnyFunction, obj, context));
      }
      if (typeof value === 'object' && value !== null && METHODS.some((m) => startsWith(m.path, childPath))) {
        return remember(children, prop, view(value, childPath, context));
      }
      if (!isResource && prop === 'withOptions' && typeof value === 'function') {
        // A copy with other options must report too, or it would silently escape logging.
        return (...args: unknown[]) => wrapOpenAI((value as (...a: unknown[]) => OpenAILike).apply(obj, args), context.manager);
      }
      // Resource methods (parse, stream, runTools, ...) run with the view as `this`, so the create()
      // they call is the reported one; openai's resources keep no #private state that this would break.
      if (isResource && typeof value === 'function') {
        return remember(children, prop, (...args: unknown[]) => (value as AnyFunction).apply(proxy, args));
      }
      return bindTo(value, obj, bound);
    },
    set(obj, prop, value) {
      children.delete(prop);
      return Reflect.set(obj, prop, value, obj);
    },
  });
  return proxy;
}

type AnyFunction = (...args: unknown[]) => unknown;

function remember<T>(cache: Map<string | symbol, unknown>, prop: string, value: T): T {
  cache.set(prop, value);
  return value;
}

/** Client methods are bound to the real client so `this.#private` inside them keeps working. */
function bindTo(value: unknown, obj: object, cache: WeakMap<object, unknown>): unknown {
  if (typeof value !== 'function') return value;
  let fn = cache.get(value);
  if (!fn) {
    fn = (value as AnyFunction).bind(obj);
    cache.set(value, fn);
  }
  return fn;
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const startsWith = (full: readonly string[], prefix: readonly string[]): boolean => prefix.length < full.length && prefix.every((x, i) => x === full[i]);

function reportedMethod(callType: CallType, original: AnyFunction, resource: object, context: WrapContext) {
  return function create(body: unknown, options?: unknown): unknown {
    return runCall(context, callType, original, resource, body, options);
  };
}

/**
 * The secrets known right now: the client's current key, and every credential sent so far. The
 * common case (no per-call credential headers, same key, nothing new learned) reuses one scrubber.
 */
function scrubberFor(context: WrapContext, extra: readonly string[]): SecretScrubber {
  const key = context.raw['apiKey'];
  const version = context.transport?.version ?? 0;
  const cached = context.scrubber;
  if (extra.length === 0 && cached && cached.key === key && cached.version === version) return cached.scrubber;
  const scrubber = new SecretScrubber([typeof key === 'string' ? key : undefined, ...(context.transport?.secrets ?? []), ...extra]);
  if (extra.length === 0) context.scrubber = { key, version, scrubber };
  return scrubber;
}

/** One reported call: decide, strip, call openai, watch. Returns openai's own promise. */
function runCall(context: WrapContext, callType: CallType, original: AnyFunction, resource: object, body: unknown, options: unknown): unknown {
  const { manager } = context;
  const split = splitCallOptions(options, manager.disableHeaders);
  if (manager.size === 0) return original.call(resource, body, split.openaiOptions);

  const scopes = currentScopes();
  const scrubber = scrubberFor(context, split.headerSecrets);
  const metadata: Record<string, unknown> = {};
  for (const scope of scopes) if (scope?.metadata) assignOwn(metadata, scope.metadata);
  if (split.metadata) assignOwn(metadata, split.metadata);
  // The request is copied now: callers often reuse and extend the same messages array afterwards.
  const request = scrubber.copy(body);
  // Client defaultHeaders count as the call's own headers (both apply: disables are a union).
  const headers = context.defaultDisable.length > 0 ? [...context.defaultDisable, ...headerRows(split.headers)] : split.headers;
  const tracker = new CallTracker(manager, {
    callType,
    provider: context.provider,
    request: typeof request === 'object' && request !== null && !Array.isArray(request) ? (request as Record<string, unknown>) : {},
    metadata: scrubber.copy(metadata) as Record<string, unknown>,
    scrubber,
    // Credentials learned while the call ran (an apiKey function's token, say) are scrubbed too.
    finalScrubber: () => scrubberFor(context, split.headerSecrets),
    transport: context.transport,
    disable: { option: split.disableCallbacks, headers, scopes, body, metadata: split.metadata },
  });
  (split.openaiOptions['headers'] as unknown[]).push([CALL_HEADER, tracker.id]);

  let result: unknown;
  try {
    result = original.call(resource, body, split.openaiOptions);
  } catch (error) {
    tracker.failNow(error);
    throw error;
  }
  if (result && typeof (result as PromiseLike<unknown>).then === 'function') tracker.watch(result as PromiseLike<unknown>);
  else tracker.failNow(new Error('openai returned no promise for this call; it was not reported further.'));
  return result;
}

function headerRows(headers: unknown): Array<[string, unknown]> {
  const rows: Array<[string, unknown]> = [];
  if (typeof headers === 'object' && headers !== null) forEachHeader(headers, (name, value) => rows.push([name, value]));
  return rows;
}
