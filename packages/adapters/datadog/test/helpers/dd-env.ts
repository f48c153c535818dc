// Imported first by every dd-trace test file (each runs in its own child process under vitest's
// forks pool): keeps dd-trace quiet and local. No telemetry, no remote configuration, never
// agentless (its intake cannot point at loopback), no startup logs.
process.env['DD_INSTRUMENTATION_TELEMETRY_ENABLED'] = 'false';
process.env['DD_REMOTE_CONFIGURATION_ENABLED'] = 'false';
process.env['DD_LLMOBS_AGENTLESS_ENABLED'] = 'false';
process.env['DD_TRACE_STARTUP_LOGS'] = 'false';
process.env['DD_RUNTIME_METRICS_ENABLED'] = 'false';
process.env['DD_CRASHTRACKING_ENABLED'] = 'false';
delete process.env['DD_API_KEY'];
delete process.env['DD_LLMOBS_ML_APP'];
delete process.env['DD_SERVICE'];
delete process.env['DD_ENV'];
delete process.env['DD_TAGS'];
