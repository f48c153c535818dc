/**
 * Service integration: disable-header middleware for node:http, Express, Fastify and Hono, a /callbacks/list handler, and a LiteLLM-style config loader.
 *
 * The public surface, in one screen. No web framework is imported here (types
 * are structural), so using one entry point never loads Express, Fastify or Hono.
 *
 * @packageDocumentation
 * @module @llm-callbacks/service
 */

// Run each incoming request's handler in its callback scope (the disable header, your metadata)
export type { CallbackContextOptions, RequestMetadata, IncomingHeaders } from './incoming-scope.js';
export { callbackContextHandler, callbacksListHandler } from './node-http.js';
export type { NodeRequestHandler, NodeCallbackContextOptions, NodeCallbacksListOptions } from './node-http.js';
export { expressCallbackContext, expressCallbacksList } from './express.js';
export type { ExpressNext } from './express.js';
export { fastifyCallbackContext, fastifyCallbacksList } from './fastify.js';
export type { FastifyCallbackContextOptions, FastifyInstanceLike, FastifyReplyLike, FastifyRequestLike } from './fastify.js';
export { honoCallbackContext, honoCallbacksList } from './hono.js';
export type { HonoContextLike } from './hono.js';

// GET /callbacks/list, framework-neutral (the handlers above are thin glue over it)
export { answerCallbacksList } from './callbacks-list.js';
export type { CallbacksListOptions, CallbacksListResponse, CallbacksListError } from './callbacks-list.js';

// A LiteLLM proxy config file -> a CallbackManager
export { loadConfig, readConfig } from './config/load-config.js';
export type { AdapterContext, AdapterFactory, AdapterMap, LoadConfigOptions, ReadConfigOptions, ResolvedConfig } from './config/load-config.js';
export { ConfigError } from './config/config-error.js';
export type { ConfigIssue } from './config/config-error.js';
export { LiteLLMConfigSchema, LitellmSettingsSchema } from './config/config-schema.js';
export type { LiteLLMConfig } from './config/config-schema.js';
export type { Environment } from './config/env-references.js';
