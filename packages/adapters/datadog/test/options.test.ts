// Options: defaults, DD_* fallbacks, errors that name the option and the variable, the init options
// the adapter would use, and what happens when dd-trace is not initialised and nobody asked the
// adapter to do it (the hook fails, the call does not, dd-trace stays uninitialised).
// Own child process (forks pool); dd-trace is never initialised here.
import './helpers/dd-env.js';
import tracer from 'dd-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAIServer } from '@llm-callbacks/testing';
import { datadogCallback, DatadogCallbackConfigError, TracerNotInitialisedError } from '../src/index.js';
import { resolveOptions } from '../src/options.js';
import { initOptionsFor, isInitialised } from '../src/tracer.js';
import { chat, setup } from './helpers/harness.js';

describe('options', () => {
  it('a misspelt option is an error naming the closest one (a silent typo would turn redaction or a lock off)', () => {
    expect(() => resolveOptions({ redactMessage: true } as never, {})).toThrow(DatadogCallbackConfigError);
    expect(() => resolveOptions({ requred: true } as never, {})).toThrow(/unknown option "requred" \(did you mean "required"\?\)/);
  });

  it('falls back to DD_LLMOBS_ML_APP, DD_SERVICE, DD_ENV and DD_TAGS; options win', () => {
    const env = { DD_LLMOBS_ML_APP: 'env-app', DD_SERVICE: 'env-svc', DD_ENV: 'staging', DD_TAGS: 'team:core, region:eu owner:me' };
    expect(resolveOptions({}, env)).toMatchObject({
      name: 'datadog',
      mlApp: 'env-app',
      service: 'env-svc',
      env: 'staging',
      tags: { team: 'core', region: 'eu', owner: 'me' },
      flushTimeoutMs: 10_000,
      redactMessages: false,
    });
    expect(resolveOptions({ mlApp: 'opt-app', service: 'opt', env: 'prod', tags: ['a:1'] }, env)).toMatchObject({
      mlApp: 'opt-app',
      service: 'opt',
      env: 'prod',
      tags: { a: '1' },
    });
  });

  it('redactMessages is the option; the former redactContent still works as a deprecated alias', () => {
    expect(resolveOptions({ redactMessages: true }, {}).redactMessages).toBe(true);
    expect(resolveOptions({ redactContent: true }, {}).redactMessages).toBe(true);
    expect(resolveOptions({ redactContent: false }, {}).redactMessages).toBe(false);
  });

  it('refuses values the intake would refuse, naming the option and the variable', () => {
    expect(() => resolveOptions({ mlApp: 'My App' }, {})).toThrow(DatadogCallbackConfigError);
    expect(() => resolveOptions({}, { DD_LLMOBS_ML_APP: 'bad__name' })).toThrow(/mlApp \(or DD_LLMOBS_ML_APP\) "bad__name"/);
    expect(() => resolveOptions({}, { DD_TAGS: 'novalue' })).toThrow(/DD_TAGS: tag "novalue" is not "key:value"/);
    expect(() => resolveOptions({ flushTimeoutMs: 0 }, {})).toThrow(/flushTimeoutMs must be a positive number/);
    expect(() => datadogCallback({ service: '' })).toThrow(/service \(or DD_SERVICE\) must be a non-empty string/);
  });

  it('when the adapter initialises dd-trace: no automatic instrumentation, never agentless, unless the options say otherwise', () => {
    expect(initOptionsFor(resolveOptions({ mlApp: 'x', init: { url: 'http://127.0.0.1:1' } }, {}))).toMatchObject({
      url: 'http://127.0.0.1:1',
      plugins: false,
      startupLogs: false,
      llmobs: { mlApp: 'x', agentlessEnabled: false },
    });
    expect(initOptionsFor(resolveOptions({ init: { plugins: true, llmobs: { agentlessEnabled: true } } }, {}))).toMatchObject({
      plugins: true,
      llmobs: { agentlessEnabled: true },
    });
  });
});

describe('dd-trace not initialised and not asked to', () => {
  let provider: FakeOpenAIServer;
  beforeAll(async () => {
    provider = await startFakeOpenAI();
  });
  afterAll(async () => {
    await provider.close();
  });

  it('the hook fails with a message saying what to do; the call is unaffected; dd-trace stays uninitialised', async () => {
    const { manager, client, errors } = setup(provider, datadogCallback());
    const res = await client.chat.completions.create(chat('no tracer'));
    expect(res.choices[0]?.message.content).toBe('Echo: no tracer');
    await manager.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error).toBeInstanceOf(TracerNotInitialisedError);
    expect(errors[0]?.error.message).toMatch(/require\("dd-trace"\)\.init/);
    expect(isInitialised(tracer)).toBe(false);
    await manager.shutdown();
  });
});
