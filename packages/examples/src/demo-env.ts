// Settings the demo needs before any SDK loads: it is imported first so these apply to dd-trace
// and the AWS SDK too. They only quiet what a demo has no use for (telemetry, remote config, the
// AWS SDK's Node 20 notice); a service sets its own.
const defaults: Record<string, string> = {
  DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
  DD_REMOTE_CONFIGURATION_ENABLED: 'false',
  DD_TRACE_STARTUP_LOGS: 'false',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
for (const [key, value] of Object.entries(defaults)) process.env[key] ??= value;
