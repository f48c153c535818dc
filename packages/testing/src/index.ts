// Public entry of @llm-callbacks/testing: in-process servers that speak real protocols, for tests and the demo.
export { startFakeOpenAI, FAKE_OPENAI_SCENARIOS } from './fake-openai.js';
export type { FakeOpenAIOptions, FakeOpenAIScenario, FakeOpenAIServer, RecordedRequest } from './fake-openai.js';
export { runAdapterContract } from './adapter-contract.js';
export { SECRET_CANARIES, findCanaries, makeCanaryCalls, serializeForLeakCheck } from './secret-canaries.js';
export { runSoak } from './soak.js';
export type { SoakOptions, SoakReport, SoakSink } from './soak.js';
export type { AdapterContract, ContractSink } from './adapter-contract.js';
export { startS3Server } from './s3-server.js';
export type { S3Server, S3ServerOptions, S3ObjectInfo, S3StoredObject, S3RejectedRequest, S3ReceivedRequest } from './s3-server.js';
export { startFaultProxy } from './fault-proxy.js';
export type { Fault, FaultCounts, FaultProxy, FaultProxyOptions, ProxiedRequest, RandomFaults } from './fault-proxy.js';
export { startFakeLangfuse } from './fake-langfuse.js';
export type {
  FakeLangfuseFailure,
  FakeLangfuseOptions,
  FakeLangfuseServer,
  FakeLangfuseSummary,
  MergedLangfuseObject,
  RecordedLangfuseRequest,
  RejectedLangfuseItem,
} from './fake-langfuse.js';
export { validateIngestionEvent, validateIngestionRequest, LANGFUSE_INGESTION_EVENT_TYPES } from './langfuse-ingestion-schema.js';
export type { LangfuseIngestionEvent, LangfuseIngestionEventType } from './langfuse-ingestion-schema.js';
export { startFakeDatadogAgent, validateLlmObsSpan, validateLlmObsPayload, decodeTraces, mlAppProblems } from './fake-datadog-agent.js';
export type {
  AgentRequest,
  ApmSpan,
  FakeDatadogAgent,
  FakeDatadogAgentOptions,
  FakeDatadogAgentSummary,
  LlmObsSpan,
  ReceivedLlmObsSpan,
  RejectedPayload,
} from './fake-datadog-agent.js';
