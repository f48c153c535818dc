// The shared adapter contract, run against the Langfuse callback and the fake Langfuse server.
import { runAdapterContract, startFakeLangfuse, type FakeLangfuseServer } from '@llm-callbacks/testing';
import { fastLangfuse } from './helpers.js';

runAdapterContract({
  name: 'langfuse',
  startSink: () => startFakeLangfuse(),
  createCallback: (sink) => fastLangfuse(sink as FakeLangfuseServer),
  downFlushBoundMs: 5_000,
});
