// Public entry of @llm-callbacks/testing: in-process servers that speak real protocols, for tests and the demo.
export { startFakeOpenAI, FAKE_OPENAI_SCENARIOS } from './fake-openai.js';
export type {
  FakeOpenAIOptions,
  FakeOpenAIScenario,
  FakeOpenAIServer,
  RecordedRequest,
} from './fake-openai.js';
export { runAdapterContract } from './adapter-contract.js';
export type { AdapterContract, ContractSink } from './adapter-contract.js';
