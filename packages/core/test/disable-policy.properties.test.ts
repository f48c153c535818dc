// Property-based tests of the disable policy (fast-check): generated disable requests from every
// source and in every shape (option, headers as objects / tuple lists / Headers, repeated and
// array-valued, any letter case, odd separators and whitespace, scopes, "don't log" flags in the
// body and metadata, hostile values). The parser never throws; with the lock every callback runs;
// without it, exactly the set an independent reading of the rules gives is skipped.
//
// CI runs a fast budget (300 cases per property). `pnpm test:properties:long` runs 200 000 cases per
// property (LLM_CALLBACKS_PROPERTY_RUNS=200000): 1.2 million generated requests over the six pure
// properties, plus 20 000 calls through the wrapped client.
import OpenAI from 'openai';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DISABLE_HEADER,
  createCallbackManager,
  decideDisabled,
  withCallbackContext,
  wrapOpenAI,
  type CallEvent,
  type DisableRequest,
  type PolicyConfig,
  type PolicyTarget,
} from '../src/index.js';

const RUNS = Number(process.env['LLM_CALLBACKS_PROPERTY_RUNS'] ?? 300);
const LONG = RUNS > 10_000;
const TIMEOUT = LONG ? 6 * 60 * 60 * 1000 : 60_000;
/** The end-to-end property goes through openai and the manager: fewer runs, even in the long run. */
const E2E_RUNS = Math.min(RUNS, LONG ? 20_000 : 60);

const KNOWN = ['langfuse', 'datadog', 's3', 'audit', 'Team.Sink_2', 'constructor', '__proto__'];
const HEADERS = [DEFAULT_DISABLE_HEADER, 'x-no-log-please'];

// ---- generators -----------------------------------------------------------------------------

/** A letter case variation of a name. */
const recased = (name: string) =>
  fc
    .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
    .map((flips) => [...name].map((ch, i) => (flips[i] ? ch.toUpperCase() : ch.toLowerCase())).join(''));

const padding = fc.constantFrom('', ' ', '  ', '\t', '\u00a0', '\n', '\r\n', '\ufeff', '\u200b');
const oddSeparator = fc.constantFrom(',', ', ', ' ,', ',,', ';', ' ', '|', '\t', ',\n', '\u3001', ' , , ');

/** One name as someone might type it: known (any case, padded), unknown, or junk. */
const nameish = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(padding, fc.constantFrom(...KNOWN).chain(recased), padding).map(([a, n, b]) => `${a}${n}${b}`) },
  { weight: 2, arbitrary: fc.constantFrom('unknown', 'LANGFUSE2', 'lang fuse', '*', 'all', 'toString', 'hasOwnProperty', '') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
);

/** A string value: names joined by commas or odd separators. */
const stringValue = fc.array(fc.tuple(nameish, oddSeparator), { maxLength: 5 }).map((parts) => parts.map(([n, s]) => n + s).join(''));

/** Anything a caller could pass as a disable value, well-formed or not. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: stringValue },
  { weight: 3, arbitrary: fc.array(fc.oneof(stringValue, fc.integer(), fc.constant(null)), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.array(fc.array(stringValue, { maxLength: 2 }), { maxLength: 2 }) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.object({ maxDepth: 1 })) },
  { weight: 1, arbitrary: fc.string({ minLength: 60, maxLength: 120 }) },
);

const headerName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HEADERS).chain(recased) },
  { weight: 1, arbitrary: fc.constantFrom('x-litellm-disable-callback', 'x-litellm-disable-callbacks ', 'content-type', 'authorization') },
);

/** Headers in every shape openai and node:http use, names repeated and in any case. */
const anyHeaders: fc.Arbitrary<unknown> = fc.oneof(
  fc.dictionary(headerName, anyValue, { maxKeys: 4 }),
  fc.array(fc.tuple(headerName, anyValue), { maxLength: 4 }),
  // A Headers object only holds valid values; repeated appends join with ', '.
  fc
    .array(
      fc.tuple(
        fc.constantFrom(...HEADERS).chain(recased),
        stringValue.filter((v) => !/[\r\n\0]/.test(v) && v === v.trim()),
      ),
      { maxLength: 3 },
    )
    .map((rows) => {
      const h = new Headers();
      for (const [n, v] of rows) {
        try {
          h.append(n, v);
        } catch {
          // Not a valid header value (non-Latin-1): no Headers object can carry it.
        }
      }
      return h;
    }),
  fc.oneof(fc.constant(undefined), fc.constant(null), fc.string({ maxLength: 5 }), fc.integer()),
);

/** "Don't log" flags of other tools, in the body or in metadata. */
const flags = fc.dictionary(
  fc.constantFrom(
    'no-log',
    'no_log',
    'NO-LOG',
    'noLog',
    'disable_callbacks',
    'disableCallbacks',
    'litellm_disabled_callbacks',
    'disabled_callbacks',
    'temperature',
  ),
  fc.oneof(fc.boolean(), stringValue, fc.array(stringValue, { maxLength: 2 })),
  { maxKeys: 3 },
);

const scope = fc.record({ disableCallbacks: anyValue, headers: anyHeaders, metadata: flags }, { requiredKeys: [] });

// Scopes are typed for well-behaved callers; the policy must cope with anything, so cast.
const request = fc.record(
  {
    option: anyValue,
    headers: anyHeaders,
    scopes: fc.array(scope, { maxLength: 3 }),
    body: fc.tuple(flags, flags).map(([top, metadata]) => ({ model: 'm', ...top, metadata })),
    metadata: flags,
  },
  { requiredKeys: [] },
) as fc.Arbitrary<DisableRequest>;

const targets = fc
  .subarray(KNOWN, { minLength: 0 })
  .chain((names) => fc.tuple(fc.constant(names), fc.array(fc.boolean(), { minLength: names.length, maxLength: names.length })))
  .map(([names, required]) => {
    const map = new Map<string, PolicyTarget>();
    names.forEach((name, i) => map.set(name.toLowerCase(), { name, required: required[i] === true }));
    return map;
  });

const config = (allow: fc.Arbitrary<boolean>) =>
  fc.record({
    allowDynamicCallbackDisabling: allow,
    headerNames: fc.subarray(HEADERS, { minLength: 1 }),
    maxValueLength: fc.oneof(fc.constant(8192), fc.integer({ min: 1, max: 40 })),
  }) as fc.Arbitrary<PolicyConfig>;

// ---- an independent reading of the rules (DESIGN.md "Disable semantics") ---------------------

function headerRows(h: Headers): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  h.forEach((value, name) => rows.push([name, value]));
  return rows;
}

function expectedDisabled(t: ReadonlyMap<string, PolicyTarget>, c: PolicyConfig, r: DisableRequest): string[] {
  if (!c.allowDynamicCallbackDisabling) return [];
  const asked = new Set<string>();
  const value = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.length > c.maxValueLength) return;
      for (const part of v.split(',')) if (part.trim()) asked.add(part.trim().toLowerCase());
    } else if (Array.isArray(v)) {
      const joined = v.filter((x): x is string => typeof x === 'string').join(',');
      if (joined.length > c.maxValueLength) return;
      v.forEach(value);
    }
  };
  const headers = (h: unknown): void => {
    if (typeof h !== 'object' || h === null) return;
    const rows: Array<[string, unknown]> =
      h instanceof Headers ? headerRows(h) : Array.isArray(h) ? h.filter((e) => Array.isArray(e) && typeof e[0] === 'string') : Object.entries(h);
    for (const [name, v] of rows) if (c.headerNames.includes(name.toLowerCase())) value(v);
  };
  value(r.option);
  headers(r.headers);
  for (const s of r.scopes ?? []) {
    value(s.disableCallbacks);
    headers(s.headers);
  }
  return [...t.values()].filter((target) => !target.required && asked.has(target.name.toLowerCase())).map((target) => target.name);
}

const params = { numRuns: RUNS };

describe('disable policy properties', () => {
  it('never throws, and returns a well-formed decision', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(targets, config(fc.boolean()), request, (t, c, r) => {
        const d = decideDisabled(t, c, r);
        expect(d.internalError).toBeUndefined();
        const names = new Set([...t.values()].map((x) => x.name));
        expect(d.disabled.every((n) => names.has(n))).toBe(true);
        expect(Object.keys(d.sources).sort()).toEqual([...d.disabled].sort());
      }),
      params,
    );
  });

  it('with the manager-wide lock, every callback runs, whatever the request', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(targets, config(fc.constant(false)), request, (t, c, r) => {
        const d = decideDisabled(t, c, r);
        expect(d.disabled).toEqual([]);
        expect(d.ignored.every((i) => i.reason !== 'required')).toBe(true);
      }),
      params,
    );
  });

  it('a required callback is never disabled, even while disabling is allowed', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(targets, config(fc.constant(true)), request, (t, c, r) => {
        const required = new Set([...t.values()].filter((x) => x.required).map((x) => x.name));
        expect(decideDisabled(t, c, r).disabled.filter((n) => required.has(n))).toEqual([]);
      }),
      params,
    );
  });

  it('without the lock, exactly the parsed set is skipped', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(targets, config(fc.constant(true)), request, (t, c, r) => {
        expect(decideDisabled(t, c, r).disabled).toEqual(expectedDisabled(t, c, r));
      }),
      params,
    );
  });

  it('"don\'t log" flags in the body or metadata never disable anything and are always reported', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(targets, config(fc.boolean()), request, flags, (t, c, r, extra) => {
        const withFlags: DisableRequest = {
          ...r,
          body: { ...(r.body as object), ...extra, 'no-log': true },
          metadata: { ...(r.metadata as object), disable_callbacks: KNOWN },
        };
        const d = decideDisabled(t, c, withFlags);
        expect(d.disabled).toEqual(
          decideDisabled(t, c, { ...r, body: undefined, metadata: undefined, scopes: r.scopes?.map((s) => ({ ...s, metadata: undefined })) }).disabled,
        );
        expect(d.ignored).toContainEqual({ name: 'no-log=true', source: 'body', reason: 'not-a-disable-source' });
        expect(d.ignored.some((i) => i.source === 'metadata' && i.name.startsWith('disable_callbacks='))).toBe(true);
      }),
      params,
    );
  });

  it('a hostile request (throwing getters, proxies) fails closed: nothing disabled, never a throw', { timeout: TIMEOUT }, () => {
    const hostile = (where: 'option' | 'headers' | 'scopes' | 'body') => {
      const trap = new Proxy(
        {},
        {
          ownKeys: () => {
            throw new Error('hostile');
          },
          get: () => {
            throw new Error('hostile');
          },
        },
      );
      return where === 'scopes' ? [trap] : trap;
    };
    fc.assert(
      fc.property(targets, config(fc.boolean()), request, fc.constantFrom('option', 'headers', 'scopes', 'body'), (t, c, r, where) => {
        const d = decideDisabled(t, c, { ...r, [where]: hostile(where as 'option') });
        // option: a Proxy over {} is an object value (reported invalid); the others throw inside.
        if (where !== 'option') expect(d.disabled).toEqual([]);
        else expect(d.disabled).toEqual(expectedDisabled(t, c, { ...r, option: undefined }));
      }),
      params,
    );
  });
});

describe('end to end through the wrapped client', () => {
  it('locked: every callback receives every call, and no disable header reaches the provider', { timeout: TIMEOUT }, async () => {
    const sent: Headers[] = [];
    const fetch = async (_url: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      sent.push(new Headers(init?.headers));
      return new Response(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [] }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    };
    const received = new Map<string, number>();
    const count = (e: CallEvent): void => void received.set(e.id, (received.get(e.id) ?? 0) + 1);
    const manager = createCallbackManager({
      allowDynamicCallbackDisabling: false,
      disableHeaders: HEADERS,
      callbacks: KNOWN.slice(0, 5).map((name) => ({ name, onSuccess: count, onFailure: count })),
    });
    manager.on('disableRefused', () => undefined);
    manager.on('disableIgnored', () => undefined);
    const client = wrapOpenAI(new OpenAI({ apiKey: 'sk-prop-0123456789', baseURL: 'http://provider.invalid/v1', fetch, maxRetries: 0 }), manager);
    const ids: string[] = [];
    manager.on('callbacksDisabled', (i) => ids.push(i.callId));
    const callHeaders = anyHeaders.filter((h) => {
      // openai itself refuses header values it cannot send; only what it accepts is a route.
      try {
        new Headers(h instanceof Headers ? h : Array.isArray(h) ? (h.filter((e) => typeof e[1] === 'string') as [string, string][]) : {});
        return true;
      } catch {
        return false;
      }
    });
    let calls = 0;
    await fc.assert(
      fc.asyncProperty(anyValue, callHeaders, fc.array(scope, { maxLength: 2 }), flags, async (option, headers, scopes, bodyFlags) => {
        const run = () =>
          client.chat.completions
            .create({ model: 'm', messages: [{ role: 'user', content: 'x' }], ...bodyFlags } as never, {
              disableCallbacks: option as string,
              headers: headers as Record<string, string>,
              metadata: { no_log: true, disable_callbacks: KNOWN },
            })
            .then(
              () => undefined,
              () => undefined,
            );
        const nest = (i: number): Promise<void> => (i >= scopes.length ? run() : withCallbackContext(scopes[i] as never, () => nest(i + 1)));
        await nest(0);
        calls += 1;
      }),
      { numRuns: E2E_RUNS },
    );
    await manager.flush();
    expect(ids).toEqual([]);
    expect(received.size).toBe(calls);
    expect([...received.values()].every((n) => n === 5)).toBe(true);
    for (const h of sent) for (const name of HEADERS) expect(h.has(name)).toBe(false);
  });
});
