// The disable policy: parsing every source, the locks, the reports, and failing closed.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DISABLE_HEADER,
  MAX_DISABLE_VALUE_LENGTH,
  createCallbackManager,
  decideDisabled,
  type Callback,
  type CallbackManager,
  type CallbackManagerOptions,
  type CallbacksDisabledInfo,
  type DisableIgnoredInfo,
  type DisableRequest,
  type InternalErrorInfo,
  type PolicyConfig,
  type PolicyTarget,
} from '../src/index.js';

const noop = (): void => {};

function targetsOf(...specs: Array<string | [string, boolean]>): Map<string, PolicyTarget> {
  const map = new Map<string, PolicyTarget>();
  for (const spec of specs) {
    const [name, required] = typeof spec === 'string' ? [spec, false] : spec;
    map.set(name.toLowerCase(), { name, required });
  }
  return map;
}

const CONFIG: PolicyConfig = {
  allowDynamicCallbackDisabling: true,
  headerNames: [DEFAULT_DISABLE_HEADER],
  maxValueLength: MAX_DISABLE_VALUE_LENGTH,
};

const TARGETS = targetsOf('Langfuse', 'datadog', 's3', 'audit');
const decide = (request: DisableRequest, config: PolicyConfig = CONFIG) => decideDisabled(TARGETS, config, request);

interface Recorded {
  disabled: CallbacksDisabledInfo[];
  ignored: DisableIgnoredInfo[];
  refused: DisableIgnoredInfo[];
  internal: InternalErrorInfo[];
}

function managerWith(names: Array<string | Callback>, options: Omit<CallbackManagerOptions, 'callbacks'> = {}) {
  const manager = createCallbackManager({
    ...options,
    callbacks: names.map((n) => (typeof n === 'string' ? { name: n, onSuccess: noop, onFailure: noop } : n)),
  });
  const seen: Recorded = { disabled: [], ignored: [], refused: [], internal: [] };
  manager.on('callbacksDisabled', (i) => seen.disabled.push(i));
  manager.on('disableIgnored', (i) => seen.ignored.push(i));
  manager.on('disableRefused', (i) => seen.refused.push(i));
  manager.on('internalError', (i) => seen.internal.push(i));
  return { manager, seen };
}

describe('parsing a value', () => {
  it('splits on commas, trims, ignores empties and duplicates, matches case-insensitively', () => {
    const d = decide({ option: ' langfuse , ,DATADOG,,  LangFuse ,datadog ' });
    expect(d.disabled).toEqual(['Langfuse', 'datadog']);
    expect(d.ignored).toEqual([]);
    expect(d.sources).toEqual({ Langfuse: ['option'], datadog: ['option'] });
    expect(d.internalError).toBeUndefined();
  });

  it('accepts a string[] option, each element itself comma-separated', () => {
    const d = decide({ option: ['s3', 'AUDIT, langfuse', ''] });
    expect(d.disabled).toEqual(['Langfuse', 's3', 'audit']);
  });

  it('returns canonical names in registration order, whatever the request order', () => {
    const d = decide({ option: 'AUDIT,s3,DataDog,langfuse' });
    expect(d.disabled).toEqual(['Langfuse', 'datadog', 's3', 'audit']);
  });

  it('disables nothing for empty, whitespace-only or comma-only values', () => {
    for (const option of [undefined, null, '', '   ', ',,, ,', [], ['', ' ']]) {
      const d = decide({ option });
      expect(d.disabled).toEqual([]);
      expect(d.ignored).toEqual([]);
      expect(d.sources).toEqual({});
    }
  });

  it('reports unknown names as unknown-callback (once each), never throws', () => {
    const d = decide({ option: 'langfuse,nope,NOPE,nope , other' });
    expect(d.disabled).toEqual(['Langfuse']);
    expect(d.ignored).toEqual([
      { name: 'nope', source: 'option', reason: 'unknown-callback' },
      { name: 'other', source: 'option', reason: 'unknown-callback' },
    ]);
  });

  it('reports non-string values as invalid-value and still applies the good ones', () => {
    const number = decide({ option: 5 });
    expect(number.disabled).toEqual([]);
    expect(number.ignored).toEqual([{ name: expect.stringContaining('number') as string, source: 'option', reason: 'invalid-value' }]);
    const object = decide({ option: { langfuse: true } });
    expect(object.disabled).toEqual([]);
    expect(object.ignored).toMatchObject([{ source: 'option', reason: 'invalid-value' }]);
    const mixed = decide({ option: ['langfuse', 7, true, 's3'] });
    expect(mixed.disabled).toEqual(['Langfuse', 's3']);
    expect(mixed.ignored.map((i) => i.reason)).toEqual(['invalid-value', 'invalid-value']);
    const header = decide({ headers: { [DEFAULT_DISABLE_HEADER]: 12 } });
    expect(header.ignored).toMatchObject([{ source: 'header', reason: 'invalid-value' }]);
  });

  it('ignores a value longer than the limit (value-too-long), accepts one exactly at it', () => {
    const atLimit = `langfuse,${'x'.repeat(MAX_DISABLE_VALUE_LENGTH - 'langfuse,'.length)}`;
    expect(atLimit).toHaveLength(MAX_DISABLE_VALUE_LENGTH);
    expect(decide({ option: atLimit }).disabled).toEqual(['Langfuse']);
    const tooLong = `${atLimit}x`;
    const d = decide({ option: tooLong });
    expect(d.disabled).toEqual([]);
    expect(d.ignored).toHaveLength(1);
    expect(d.ignored[0]).toMatchObject({ source: 'option', reason: 'value-too-long' });
    // The report gives its size only: none of the value's text reaches the event.
    expect(d.ignored[0]!.name).toBe(`(a value of ${tooLong.length} characters)`);
    expect(MAX_DISABLE_VALUE_LENGTH).toBe(8192);
  });

  it('bounds an array value by its total length too', () => {
    const parts = Array.from({ length: 10 }, () => `langfuse,${'y'.repeat(1000)}`);
    const d = decide({ headers: { [DEFAULT_DISABLE_HEADER]: parts } });
    expect(d.disabled).toEqual([]);
    expect(d.ignored).toMatchObject([{ source: 'header', reason: 'value-too-long' }]);
  });

  it('bounds a list exactly like the same names joined with commas', () => {
    const config = { ...CONFIG, maxValueLength: 8 };
    expect(decide({ option: 'langfuse' }, config).disabled).toEqual(['Langfuse']);
    expect(decide({ option: ['langfuse'] }, config).disabled).toEqual(['Langfuse']);
    const eleven = { ...CONFIG, maxValueLength: 11 };
    expect(decide({ option: ['langfuse', 's3'] }, eleven).disabled).toEqual(['Langfuse', 's3']); // 'langfuse,s3'
    expect(decide({ headers: { [DEFAULT_DISABLE_HEADER]: ['langfuse', 's3'] } }, eleven).disabled).toEqual(['Langfuse', 's3']);
    const ten = { ...CONFIG, maxValueLength: 10 };
    expect(decide({ option: ['langfuse', 's3'] }, ten).disabled).toEqual([]);
    expect(decide({ option: ['langfuse', 's3'] }, ten).ignored).toMatchObject([{ source: 'option', reason: 'value-too-long' }]);
  });

  it('honours a configured maxValueLength', () => {
    const config = { ...CONFIG, maxValueLength: 10 };
    expect(decide({ option: 'langfuse,s3' }, config).disabled).toEqual([]); // 11 characters
    expect(decide({ option: 'langfuse,s3' }, config).ignored).toMatchObject([{ reason: 'value-too-long' }]);
    expect(decide({ option: 'datadog,s3' }, config).disabled).toEqual(['datadog', 's3']); // 10 characters
  });
});

describe('headers', () => {
  it('reads the header from a plain object whatever its case', () => {
    expect(decide({ headers: { 'X-LiteLLM-Disable-Callbacks': 'langfuse' } }).disabled).toEqual(['Langfuse']);
    expect(decide({ headers: { 'X-LITELLM-DISABLE-CALLBACKS': 's3' } }).disabled).toEqual(['s3']);
  });

  it('reads a Headers instance', () => {
    const headers = new Headers({ 'X-LiteLLM-Disable-Callbacks': 'Langfuse, audit', 'content-type': 'application/json' });
    const d = decide({ headers });
    expect(d.disabled).toEqual(['Langfuse', 'audit']);
    expect(d.sources).toEqual({ Langfuse: ['header'], audit: ['header'] });
  });

  it('reads tuple arrays', () => {
    const d = decide({
      headers: [
        ['Accept', 'x'],
        ['X-LiteLLM-Disable-Callbacks', 'datadog'],
        ['x-litellm-disable-callbacks', 's3'],
      ],
    });
    expect(d.disabled).toEqual(['datadog', 's3']);
  });

  it('reads array-valued headers (node:http style)', () => {
    const d = decide({ headers: { 'X-LiteLLM-Disable-Callbacks': ['langfuse', 'datadog,s3'] } });
    expect(d.disabled).toEqual(['Langfuse', 'datadog', 's3']);
  });

  it('ignores other headers, null values and non-object header containers', () => {
    expect(decide({ headers: { 'x-other': 'langfuse', 'x-litellm-disable-callbacks-2': 's3' } }).disabled).toEqual([]);
    expect(decide({ headers: { [DEFAULT_DISABLE_HEADER]: null } })).toMatchObject({ disabled: [], ignored: [] });
    expect(decide({ headers: 'x-litellm-disable-callbacks: langfuse' })).toMatchObject({ disabled: [], ignored: [] });
  });

  it('reads only the configured header names', () => {
    const config = { ...CONFIG, headerNames: ['x-no-log'] };
    expect(decide({ headers: { 'X-No-Log': 'langfuse' } }, config).disabled).toEqual(['Langfuse']);
    expect(decide({ headers: { [DEFAULT_DISABLE_HEADER]: 'langfuse' } }, config).disabled).toEqual([]);
  });
});

describe('sources', () => {
  it('unites option, header and scopes, and says where each came from', () => {
    const d = decide({
      option: ['langfuse'],
      headers: { 'x-litellm-disable-callbacks': 'Langfuse,datadog' },
      scopes: [
        { disableCallbacks: 's3' },
        { headers: new Headers({ 'x-litellm-disable-callbacks': 'LANGFUSE' }) },
        { disableCallbacks: ['audit'], headers: { 'X-LiteLLM-Disable-Callbacks': ['s3'] } },
      ],
    });
    expect(d.disabled).toEqual(['Langfuse', 'datadog', 's3', 'audit']);
    expect(d.sources).toEqual({
      Langfuse: ['option', 'header', 'scope'],
      datadog: ['header'],
      s3: ['scope'],
      audit: ['scope'],
    });
    expect(d.ignored).toEqual([]);
  });

  it('reports the same unknown name once per source', () => {
    const d = decide({
      option: 'ghost',
      headers: { [DEFAULT_DISABLE_HEADER]: 'GHOST' },
      scopes: [{ disableCallbacks: 'ghost' }, { disableCallbacks: 'ghost' }],
    });
    expect(d.ignored).toEqual([
      { name: 'ghost', source: 'option', reason: 'unknown-callback' },
      { name: 'GHOST', source: 'header', reason: 'unknown-callback' },
      { name: 'ghost', source: 'scope', reason: 'unknown-callback' },
    ]);
  });

  it('sources lists only the callbacks actually disabled, whatever their names', () => {
    // Names that are also Object.prototype members must not be mistaken for requested ones.
    const targets = targetsOf('constructor', 'toString', 'langfuse', 'hasOwnProperty', 'valueOf');
    const d = decideDisabled(targets, CONFIG, { option: 'langfuse' });
    expect(d.disabled).toEqual(['langfuse']);
    expect(d.internalError).toBeUndefined();
    const e = decideDisabled(targets, CONFIG, { option: 'CONSTRUCTOR,tostring' });
    expect(e.disabled).toEqual(['constructor', 'toString']);
    expect(e.internalError).toBeUndefined();
    expect(e.sources).toEqual({ constructor: ['option'], toString: ['option'] });
    expect(Object.keys(e.sources)).toEqual(['constructor', 'toString']);
  });
});

describe('locks', () => {
  it('allowDynamicCallbackDisabling: false disables nothing from any source and reports locked', () => {
    const d = decide(
      {
        option: 'langfuse',
        headers: { [DEFAULT_DISABLE_HEADER]: 'datadog' },
        scopes: [{ disableCallbacks: 's3', headers: { [DEFAULT_DISABLE_HEADER]: 'audit' } }],
      },
      { ...CONFIG, allowDynamicCallbackDisabling: false },
    );
    expect(d.disabled).toEqual([]);
    expect(d.sources).toEqual({});
    expect(d.ignored).toEqual([
      { name: 'Langfuse', source: 'option', reason: 'locked' },
      { name: 'datadog', source: 'header', reason: 'locked' },
      { name: 's3', source: 'scope', reason: 'locked' },
      { name: 'audit', source: 'scope', reason: 'locked' },
    ]);
  });

  it('a required callback cannot be disabled while others can', () => {
    const targets = targetsOf(['compliance', true], 'langfuse');
    const d = decideDisabled(targets, CONFIG, { option: 'COMPLIANCE,langfuse', headers: { [DEFAULT_DISABLE_HEADER]: 'compliance' } });
    expect(d.disabled).toEqual(['langfuse']);
    expect(d.ignored).toEqual([
      { name: 'compliance', source: 'option', reason: 'required' },
      { name: 'compliance', source: 'header', reason: 'required' },
    ]);
  });
});

describe('failing closed', () => {
  it('a targets map whose get throws: nothing disabled, internalError set, no throw', () => {
    const broken = new Map<string, PolicyTarget>([['langfuse', { name: 'langfuse', required: false }]]);
    broken.get = () => {
      throw new Error('boom');
    };
    const d = decideDisabled(broken, CONFIG, { option: 'langfuse' });
    expect(d.disabled).toEqual([]);
    expect(d.ignored).toEqual([]);
    expect(d.sources).toEqual({});
    expect(d.internalError).toBeInstanceOf(Error);
    expect(d.internalError?.message).toBe('boom');
  });

  it('a header object that throws while read: nothing disabled (even from the good option), internalError set', () => {
    const hostile = {
      get: () => null,
      forEach() {
        throw new TypeError('hostile headers');
      },
    };
    const d = decide({ option: 'langfuse', headers: hostile });
    expect(d.disabled).toEqual([]);
    expect(d.internalError?.message).toBe('hostile headers');
  });

  it('a non-Error thrown is wrapped in an Error', () => {
    const broken = new Map<string, PolicyTarget>();
    broken.get = () => {
      throw 'string thrown';
    };
    const d = decideDisabled(broken, CONFIG, { option: 'x' });
    expect(d.internalError).toBeInstanceOf(Error);
    expect(d.internalError?.message).toContain('string thrown');
  });
});

describe('manager.decide()', () => {
  it('uses registered names, and emits callbacksDisabled with callId, names and sources', () => {
    const { manager, seen } = managerWith(['Langfuse', 'datadog', 's3']);
    const d = manager.decide({ option: 's3', headers: { 'X-LiteLLM-Disable-Callbacks': 'LANGFUSE,s3' } }, 'call-7');
    expect(d.disabled).toEqual(['Langfuse', 's3']);
    expect(seen.disabled).toEqual([{ callId: 'call-7', disabled: ['Langfuse', 's3'], sources: { Langfuse: ['header'], s3: ['option', 'header'] } }]);
    expect(seen.ignored).toEqual([]);
    expect(seen.refused).toEqual([]);
    expect(seen.internal).toEqual([]);
  });

  it('emits nothing when nothing is asked', () => {
    const { manager, seen } = managerWith(['a']);
    expect(manager.decide({}, 'c').disabled).toEqual([]);
    expect(manager.decide({ headers: { accept: 'x' }, scopes: [{}] }, 'c').disabled).toEqual([]);
    expect(seen).toEqual({ disabled: [], ignored: [], refused: [], internal: [] });
  });

  it('unknown names and bad values go to disableIgnored, never a throw', () => {
    const { manager, seen } = managerWith(['a', 'b']);
    const d = manager.decide({ option: ['a', 'zzz'], headers: { [DEFAULT_DISABLE_HEADER]: 3 } }, 'call-1');
    expect(d.disabled).toEqual(['a']);
    expect(seen.ignored).toEqual([
      {
        callId: 'call-1',
        ignored: [
          { name: expect.any(String) as string, source: 'header', reason: 'invalid-value' },
          { name: 'zzz', source: 'option', reason: 'unknown-callback' },
        ],
      },
    ]);
    expect(seen.refused).toEqual([]);
    expect(seen.disabled).toHaveLength(1);
  });

  it('value-too-long at the manager-configured maxDisableValueLength', () => {
    const { manager, seen } = managerWith(['a', 'b'], { maxDisableValueLength: 3 });
    expect(manager.decide({ option: 'a,b' }, 'ok').disabled).toEqual(['a', 'b']);
    expect(manager.decide({ option: 'a, b' }, 'long').disabled).toEqual([]);
    expect(seen.ignored).toMatchObject([{ callId: 'long', ignored: [{ source: 'option', reason: 'value-too-long' }] }]);
  });

  it('with the default limit, a header value over 8192 characters is ignored', () => {
    const { manager, seen } = managerWith(['a']);
    const d = manager.decide({ headers: { [DEFAULT_DISABLE_HEADER]: `a,${' '.repeat(8191)}` } }, 'c');
    expect(d.disabled).toEqual([]);
    expect(seen.ignored[0]?.ignored).toMatchObject([{ source: 'header', reason: 'value-too-long' }]);
  });

  it('allowDynamicCallbackDisabling: false reports locked through disableRefused, and disables nothing', () => {
    const { manager, seen } = managerWith(['langfuse', 'datadog'], { allowDynamicCallbackDisabling: false });
    const d = manager.decide(
      {
        option: 'langfuse',
        headers: new Headers({ [DEFAULT_DISABLE_HEADER]: 'datadog' }),
        scopes: [{ disableCallbacks: ['langfuse', 'datadog'] }],
      },
      'call-9',
    );
    expect(d.disabled).toEqual([]);
    expect(seen.disabled).toEqual([]);
    expect(seen.refused).toEqual([
      {
        callId: 'call-9',
        ignored: [
          { name: 'langfuse', source: 'option', reason: 'locked' },
          { name: 'datadog', source: 'header', reason: 'locked' },
          { name: 'langfuse', source: 'scope', reason: 'locked' },
          { name: 'datadog', source: 'scope', reason: 'locked' },
        ],
      },
    ]);
    expect(seen.ignored).toEqual([]);
  });

  it('when locked, an unknown name still goes to disableIgnored and a known one to disableRefused', () => {
    const { manager, seen } = managerWith(['langfuse'], { allowDynamicCallbackDisabling: false });
    manager.decide({ option: 'langfuse,ghost' }, 'c');
    expect(seen.refused).toEqual([{ callId: 'c', ignored: [{ name: 'langfuse', source: 'option', reason: 'locked' }] }]);
    expect(seen.ignored).toEqual([{ callId: 'c', ignored: [{ name: 'ghost', source: 'option', reason: 'unknown-callback' }] }]);
  });

  it('a required callback is refused (reason required) while the others are disabled', () => {
    const { manager, seen } = managerWith([{ name: 'Compliance', required: true, onSuccess: noop }, 'langfuse']);
    const d = manager.decide({ headers: [[DEFAULT_DISABLE_HEADER, 'compliance,LANGFUSE']] }, 'c');
    expect(d.disabled).toEqual(['langfuse']);
    expect(seen.refused).toEqual([{ callId: 'c', ignored: [{ name: 'Compliance', source: 'header', reason: 'required' }] }]);
    expect(seen.disabled).toEqual([{ callId: 'c', disabled: ['langfuse'], sources: { langfuse: ['header'] } }]);
  });

  it('custom disableHeaders replace the default header name', () => {
    const { manager } = managerWith(['langfuse', 'datadog'], { disableHeaders: ['X-No-Log', 'x-skip'] });
    expect(manager.decide({ headers: { [DEFAULT_DISABLE_HEADER]: 'langfuse' } }, 'c').disabled).toEqual([]);
    expect(manager.decide({ headers: { 'x-no-log': 'langfuse' } }, 'c').disabled).toEqual(['langfuse']);
    expect(manager.decide({ headers: new Headers({ 'X-Skip': 'datadog' }), scopes: [{ headers: { 'X-NO-LOG': 'langfuse' } }] }, 'c').disabled).toEqual([
      'langfuse',
      'datadog',
    ]);
  });

  it('an internal error fails closed and is reported through internalError', () => {
    const { manager, seen } = managerWith(['langfuse']);
    const hostile = {
      get: () => null,
      forEach() {
        throw new Error('cannot read');
      },
    };
    const d = manager.decide({ option: 'langfuse', headers: hostile }, 'c');
    expect(d.disabled).toEqual([]);
    expect(d.internalError?.message).toBe('cannot read');
    expect(seen.internal).toHaveLength(1);
    expect(seen.internal[0]?.error.message).toBe('cannot read');
    expect(seen.internal[0]?.where).toMatch(/failed closed/);
    expect(seen.internal[0]?.eventId).toBe('c');
    expect(seen.disabled).toEqual([]);
  });

  it('a throwing listener does not turn decide() into a throw', () => {
    const manager: CallbackManager = createCallbackManager({ callbacks: [{ name: 'a', onSuccess: noop }] });
    manager.on('disableIgnored', () => {
      throw new Error('listener bug');
    });
    manager.on('callbacksDisabled', () => {
      throw new Error('listener bug 2');
    });
    const warn = console.warn;
    console.warn = noop;
    try {
      expect(manager.decide({ option: 'a,ghost' }, 'c').disabled).toEqual(['a']);
    } finally {
      console.warn = warn;
    }
  });
});
