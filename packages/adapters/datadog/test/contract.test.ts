// The shared adapter contract, run against the real dd-trace and the fake Datadog agent. dd-trace
// has one tracer per process, initialised once (by the first adapter, with `init`): every sink the
// contract starts is therefore a view of the same agent, and closing one closes that agent, which
// is what the contract's last case ("a sink that is down") needs. Own child process (forks pool).
import './helpers/dd-env.js';
import { runAdapterContract, startFakeDatadogAgent, type FakeDatadogAgent } from '@llm-callbacks/testing';
import { datadogCallback } from '../src/index.js';

let agent: FakeDatadogAgent | undefined;

runAdapterContract({
  name: 'datadog',
  async startSink() {
    agent ??= await startFakeDatadogAgent();
    const shared = agent;
    return { receivedEventIds: () => shared.eventIds(), reset: () => shared.reset(), close: () => shared.close() };
  },
  createCallback: () => datadogCallback({ init: { url: (agent as FakeDatadogAgent).url, flushInterval: 0 }, mlApp: 'contract-app', flushTimeoutMs: 2_000 }),
  downFlushBoundMs: 6_000,
});
