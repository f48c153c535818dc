// Micro benchmarks with tinybench, in the orchestrator's process: the disable decision
// (manager.decide, as the wrapper calls it at the start of every call) and the dispatcher's fan-out
// of events to no-op callbacks.
import { randomUUID } from 'node:crypto';
import { Bench } from 'tinybench';
import { createCallbackManager, decideDisabled, defineCallback, type CallEvent, type CallbackManager } from '@llm-callbacks/core';

export interface MicroConfig {
  /** tinybench time budget per task, ms. */
  timeMs: number;
  /** tinybench's minimum number of samples per task. */
  iterations: number;
  callbackCounts: readonly number[];
  headerNameCounts: readonly number[];
  fanOutCallbackCounts: readonly number[];
  /** Events reported per fan-out sample. */
  fanOutEvents: number;
}

export interface DecideFigure {
  callbacks: number;
  /** Names in the disable header's value (0: the call has no disable header). */
  headerNames: number;
  /** manager.decide(): the policy plus its bookkeeping and events, per call. */
  nsPerCall: number;
  /** decideDisabled() alone (the pure policy), per call. */
  policyNsPerCall: number;
  rmePercent: number;
  samples: number;
}

export interface FanOutFigure {
  callbacks: number;
  /** Events reported per second, each delivered to every callback. */
  eventsPerSec: number;
  /** Hook calls per second (events x callbacks). */
  deliveriesPerSec: number;
  rmePercent: number;
  samples: number;
}

export interface MicroResult {
  decide: DecideFigure[];
  fanOut: FanOutFigure[];
}

/** Calls per tinybench sample: one decision is far below the timer's resolution. */
const INNER = 200;

const BODY = {
  model: 'gpt-4o-mini',
  temperature: 0.2,
  messages: [
    { role: 'system', content: 'You are a concise assistant for an online shop.' },
    { role: 'user', content: 'Which of our delivery options is fastest for a parcel to Lyon?' },
  ],
};

function noopManager(count: number): CallbackManager {
  const callbacks = Array.from({ length: count }, (_, i) => defineCallback({ name: `cb${i}`, onSuccess() {}, onFailure() {} }));
  return createCallbackManager({ callbacks });
}

export async function runMicro(config: MicroConfig, log: (line: string) => void): Promise<MicroResult> {
  const decide: DecideFigure[] = [];
  const bench = new Bench({ time: config.timeMs, iterations: config.iterations, warmupTime: Math.min(100, config.timeMs) });
  const cases: Array<{ callbacks: number; headerNames: number }> = [];
  for (const callbacks of config.callbackCounts) {
    for (const headerNames of config.headerNameCounts) cases.push({ callbacks, headerNames });
  }
  for (const c of cases) {
    const manager = noopManager(c.callbacks);
    // Names cb0..cb{n-1}: those beyond the registered callbacks are unknown names (reported, not applied).
    const value = Array.from({ length: c.headerNames }, (_, i) => `cb${i}`).join(', ');
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': 'req-123' };
    if (c.headerNames > 0) headers['x-litellm-disable-callbacks'] = value;
    // What the wrapper passes: the option, the call's headers, the scopes, the body and metadata.
    const request = { option: undefined, headers, scopes: [], body: BODY, metadata: undefined };
    const id = randomUUID();
    const targets = (manager as unknown as { targets: Map<string, { name: string; required: boolean }> }).targets;
    const policy = (manager as unknown as { policy: Parameters<typeof decideDisabled>[1] }).policy;
    bench.add(`decide ${c.callbacks}cb ${c.headerNames}names`, () => {
      for (let i = 0; i < INNER; i += 1) manager.decide(request, id);
    });
    bench.add(`policy ${c.callbacks}cb ${c.headerNames}names`, () => {
      for (let i = 0; i < INNER; i += 1) decideDisabled(targets, policy, request);
    });
  }
  log(`micro: disable decision, ${cases.length} cases`);
  await bench.run();
  for (const c of cases) {
    const d = bench.getTask(`decide ${c.callbacks}cb ${c.headerNames}names`)?.result;
    const p = bench.getTask(`policy ${c.callbacks}cb ${c.headerNames}names`)?.result;
    if (!d || !('latency' in d) || !p || !('latency' in p)) throw new Error(`micro task for ${c.callbacks}/${c.headerNames} did not complete`);
    decide.push({
      ...c,
      nsPerCall: (d.latency.p50 * 1e6) / INNER,
      policyNsPerCall: (p.latency.p50 * 1e6) / INNER,
      rmePercent: d.latency.rme,
      samples: d.latency.samplesCount,
    });
  }

  const fanOut: FanOutFigure[] = [];
  const fan = new Bench({ time: config.timeMs * 2, iterations: config.iterations, warmupTime: Math.min(200, config.timeMs) });
  for (const count of config.fanOutCallbackCounts) {
    let delivered = 0;
    let target = 0;
    let done: (() => void) | undefined;
    const callbacks = Array.from({ length: count }, (_, i) =>
      defineCallback({
        name: `fan${i}`,
        onSuccess() {
          delivered += 1;
          if (delivered === target) done?.();
        },
      }),
    );
    const manager = createCallbackManager({ callbacks });
    fan.add(`fanout ${count}`, async () => {
      delivered = 0;
      target = config.fanOutEvents * count;
      const finished = new Promise<void>((resolve) => (done = resolve));
      for (let i = 0; i < config.fanOutEvents; i += 1) manager.report(makeEvent());
      await finished;
    });
  }
  log(`micro: dispatcher fan-out, ${config.fanOutCallbackCounts.length} cases`);
  await fan.run();
  for (const count of config.fanOutCallbackCounts) {
    const r = fan.getTask(`fanout ${count}`)?.result;
    if (!r || !('latency' in r)) throw new Error(`fan-out task for ${count} callbacks did not complete`);
    const eventsPerSec = config.fanOutEvents / (r.latency.p50 / 1000);
    fanOut.push({ callbacks: count, eventsPerSec, deliveriesPerSec: eventsPerSec * count, rmePercent: r.latency.rme, samples: r.latency.samplesCount });
  }
  return { decide, fanOut };
}

let seq = 0;

/** A fresh event shaped like the wrapper's for a small chat completion. */
export function makeEvent(): CallEvent {
  seq += 1;
  const now = Date.now();
  return {
    id: `evt-${seq}`,
    status: 'success',
    callType: 'chat.completions',
    model: 'gpt-4o-mini-2024-07-18',
    provider: '127.0.0.1',
    stream: false,
    startTime: now - 120,
    endTime: now,
    latencyMs: 120,
    request: {
      model: 'gpt-4o-mini',
      temperature: 0.2,
      messages: [
        { role: 'system', content: 'You are a concise assistant for an online shop.' },
        { role: 'user', content: 'Which of our delivery options is fastest for a parcel to Lyon?' },
      ],
    },
    response: {
      id: `chatcmpl-${seq}`,
      object: 'chat.completion',
      model: 'gpt-4o-mini-2024-07-18',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Express delivery arrives tomorrow for 9.90 EUR.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 31, completion_tokens: 12, total_tokens: 43 },
    },
    usage: { promptTokens: 31, completionTokens: 12, totalTokens: 43 },
    metadata: { userId: 'u-42', tags: ['checkout'] },
    disabledCallbacks: [],
    ignoredDisables: [],
  };
}
