// The adapter contract: one vitest suite every sink adapter (Langfuse, Datadog, S3, ...) runs, so
// they all keep the same promises: success and failure events land, a disabled adapter receives
// nothing while the others still do, a lock wins, flush() waits for real delivery, shutdown() is
// bounded, and a sink that is down never reaches the caller.
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createCallbackManager,
  defineCallback,
  wrapOpenAI,
  type CallEvent,
  type Callback,
  type CallbackErrorInfo,
  type CallbackManager,
  type WrappedOpenAI,
} from '@llm-callbacks/core';
import { startFakeOpenAI, type FakeOpenAIServer } from './fake-openai.js';

/** A running sink (a fake service speaking the real protocol) as the contract sees it. */
export interface ContractSink {
  /** Ids of the CallEvents the sink has received and accepted so far. */
  receivedEventIds(): Promise<string[]> | string[];
  /** Forget what was received (between tests). */
  reset(): Promise<void> | void;
  /** Stop the sink; later deliveries fail as against a service that is down. */
  close(): Promise<void>;
}

export interface AdapterContract {
  /** The adapter's callback name, e.g. 'langfuse'. */
  name: string;
  startSink(): Promise<ContractSink>;
  /**
   * A new adapter callback pointed at `sink`, tuned for tests (few, short retries) so that a sink
   * that is down is given up on within `downFlushBoundMs`.
   */
  createCallback(sink: ContractSink): Callback;
  /** Upper bound for flush() + shutdown() against a sink that is down (default 15 000 ms). */
  downFlushBoundMs?: number;
}

const HEADER = 'x-litellm-disable-callbacks';
const body = (content: string, model = 'gpt-contract') => ({ model, messages: [{ role: 'user' as const, content }] });

/** Registers the contract suite for one adapter. Call it at the top level of a test file. */
export function runAdapterContract(contract: AdapterContract): void {
  describe(`adapter contract: ${contract.name}`, () => {
    let provider: FakeOpenAIServer;
    let sink: ContractSink;
    let manager: CallbackManager;
    let others: CallEvent[];
    let errors: CallbackErrorInfo[];
    let client: WrappedOpenAI<OpenAI>;

    const setup = (options: { allowDynamicCallbackDisabling?: boolean } = {}) => {
      others = [];
      errors = [];
      const other = defineCallback({ name: 'contract-other', onSuccess: (e) => void others.push(e), onFailure: (e) => void others.push(e) });
      manager = createCallbackManager({ ...options, callbacks: [contract.createCallback(sink), other] });
      manager.on('callbackError', (info) => errors.push(info));
      return wrapOpenAI(new OpenAI({ apiKey: 'sk-contract-0123456789', baseURL: provider.url, maxRetries: 0 }), manager);
    };

    beforeAll(async () => {
      provider = await startFakeOpenAI();
      sink = await contract.startSink();
    });
    afterAll(async () => {
      await sink.close();
      await provider.close();
    });
    beforeEach(async () => {
      await sink.reset();
      client = setup();
    });
    afterEach(async () => {
      await manager.shutdown({ timeoutMs: 5_000 });
    });

    it('delivers a success event, and flush() resolves only after the sink has it', async () => {
      await client.chat.completions.create(body('contract success'));
      await manager.flush();
      expect(others).toHaveLength(1);
      expect(await sink.receivedEventIds()).toContain(others[0]?.id);
      expect(errors).toEqual([]);
    });

    it('delivers a failure event', async () => {
      await client.chat.completions.create(body('x', 'error-400')).catch(() => undefined);
      await manager.flush();
      expect(others[0]?.status).toBe('failure');
      expect(await sink.receivedEventIds()).toContain(others[0]?.id);
    });

    it('delivers a streamed call once', async () => {
      const stream = await client.chat.completions.create({ ...body('contract stream'), stream: true, stream_options: { include_usage: true } });
      for await (const _ of stream) void _;
      await manager.flush();
      const ids = await sink.receivedEventIds();
      expect(ids.filter((id) => id === others[0]?.id)).toHaveLength(1);
    });

    it('flush() waits for every queued event: 20 calls, all at the sink when it resolves', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => client.chat.completions.create(body(`burst ${i}`))));
      await manager.flush();
      const ids = new Set(await sink.receivedEventIds());
      expect(others).toHaveLength(20);
      expect(others.filter((e) => ids.has(e.id))).toHaveLength(20);
      // The sink's own confirmation (CallbackReporter.delivered), not just 20 hook calls that returned.
      expect(manager.stats().callbacks[contract.name]?.confirmed).toBe(20);
    });

    it('disabled by header or option (any letter case): nothing at the sink, the others still fire', async () => {
      await client.chat.completions.create(body('by header'), { headers: { [HEADER]: contract.name.toUpperCase() } });
      await client.chat.completions.create(body('by option'), { disableCallbacks: [` ${contract.name} `] });
      await manager.flush();
      expect(others).toHaveLength(2);
      expect(others.every((e) => e.disabledCallbacks.includes(contract.name))).toBe(true);
      const ids = await sink.receivedEventIds();
      expect(ids.filter((id) => others.some((e) => e.id === id))).toEqual([]);
      // The sink was live all along: a call that disables nothing does arrive.
      await client.chat.completions.create(body('not disabled'));
      await manager.flush();
      expect(others).toHaveLength(3);
      expect(await sink.receivedEventIds()).toContain(others[2]?.id);
    });

    it('a locked manager delivers despite the header', async () => {
      await manager.shutdown();
      client = setup({ allowDynamicCallbackDisabling: false });
      await client.chat.completions.create(body('locked'), { headers: { [HEADER]: contract.name }, disableCallbacks: contract.name });
      await manager.flush();
      expect(await sink.receivedEventIds()).toContain(others[0]?.id);
    });

    it('survives a spread: { ...callback, required: true } keeps its hooks, flush included, and cannot be disabled', async () => {
      await manager.shutdown();
      others = [];
      const other = defineCallback({ name: 'contract-other', onSuccess: (e) => void others.push(e) });
      // Users configure adapters this way; a class instance would lose flush/shutdown/onRegister here.
      manager = createCallbackManager({ callbacks: [{ ...contract.createCallback(sink), required: true }, other] });
      client = wrapOpenAI(new OpenAI({ apiKey: 'sk-contract-0123456789', baseURL: provider.url, maxRetries: 0 }), manager);
      await client.chat.completions.create(body('spread'), { disableCallbacks: contract.name });
      await manager.flush();
      expect(await sink.receivedEventIds()).toContain(others[0]?.id);
    });

    it('shutdown() delivers what is queued and is bounded', async () => {
      await client.chat.completions.create(body('before shutdown'));
      const started = Date.now();
      const report = await manager.shutdown({ timeoutMs: 10_000 });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(report.pending).toBe(0);
      expect(await sink.receivedEventIds()).toContain(others[0]?.id);
    });

    it('a sink that is down never reaches the caller: callbackError, and flush/shutdown return within a bound', async () => {
      const down = await contract.startSink();
      await down.close();
      await manager.shutdown();
      others = [];
      errors = [];
      manager = createCallbackManager({ callbacks: [contract.createCallback(down)], timeoutMs: 20_000 });
      manager.on('callbackError', (info) => errors.push(info));
      const downClient = wrapOpenAI(new OpenAI({ apiKey: 'sk-contract-0123456789', baseURL: provider.url, maxRetries: 0 }), manager);
      const res = await downClient.chat.completions.create(body('sink down'));
      expect(res.choices[0]?.message.content).toBe('Echo: sink down');
      const bound = contract.downFlushBoundMs ?? 15_000;
      const started = Date.now();
      await manager.flush({ timeoutMs: bound });
      await manager.shutdown({ timeoutMs: bound });
      expect(Date.now() - started).toBeLessThan(bound * 2);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((e) => e.callback === contract.name)).toBe(true);
    }, 60_000);
  });
}
