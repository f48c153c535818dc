// Types of the wrapped client: the caller's own client type, plus `disableCallbacks` and `metadata`
// accepted in the options of the four reported `create()` methods.
import type OpenAI from 'openai';
import type { APIPromise } from 'openai';
import type { Stream } from 'openai/streaming';
import type { CallOptions } from './call-options.js';

/** The least wrapOpenAI needs: an object with `chat.completions.create` (openai 5, 6 or 7). */
export interface OpenAILike {
  chat: { completions: { create: (...args: never[]) => unknown } };
}

/** openai's per-request options (headers, timeout, maxRetries, signal, ...). */
export type OpenAIRequestOptions = NonNullable<Parameters<OpenAI['embeddings']['create']>[1]>;

/** openai's request options plus llm-callbacks' {@link CallOptions}. */
export type WrappedRequestOptions = OpenAIRequestOptions & CallOptions;

/** `chat.completions.create` overloads with the extra options. */
export interface ChatCompletionsCreate {
  create(body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming, options?: WrappedRequestOptions): APIPromise<OpenAI.Chat.ChatCompletion>;
  create(body: OpenAI.Chat.ChatCompletionCreateParamsStreaming, options?: WrappedRequestOptions): APIPromise<Stream<OpenAI.Chat.ChatCompletionChunk>>;
  create(
    body: OpenAI.Chat.ChatCompletionCreateParams,
    options?: WrappedRequestOptions,
  ): APIPromise<Stream<OpenAI.Chat.ChatCompletionChunk> | OpenAI.Chat.ChatCompletion>;
}

/** `responses.create` overloads with the extra options. */
export interface ResponsesCreate {
  create(body: OpenAI.Responses.ResponseCreateParamsNonStreaming, options?: WrappedRequestOptions): APIPromise<OpenAI.Responses.Response>;
  create(body: OpenAI.Responses.ResponseCreateParamsStreaming, options?: WrappedRequestOptions): APIPromise<Stream<OpenAI.Responses.ResponseStreamEvent>>;
  create(
    body: OpenAI.Responses.ResponseCreateParams,
    options?: WrappedRequestOptions,
  ): APIPromise<Stream<OpenAI.Responses.ResponseStreamEvent> | OpenAI.Responses.Response>;
}

/** `embeddings.create` with the extra options. */
export interface EmbeddingsCreate {
  create(body: OpenAI.EmbeddingCreateParams, options?: WrappedRequestOptions): APIPromise<OpenAI.CreateEmbeddingResponse>;
}

/** Legacy `completions.create` overloads with the extra options. */
export interface CompletionsCreate {
  create(body: OpenAI.CompletionCreateParamsNonStreaming, options?: WrappedRequestOptions): APIPromise<OpenAI.Completion>;
  create(body: OpenAI.CompletionCreateParamsStreaming, options?: WrappedRequestOptions): APIPromise<Stream<OpenAI.Completion>>;
  create(body: OpenAI.CompletionCreateParams, options?: WrappedRequestOptions): APIPromise<Stream<OpenAI.Completion> | OpenAI.Completion>;
}

/**
 * The wrapped client: still the caller's client type (assignable wherever `C` is expected), with the
 * extra call options accepted by the four reported methods.
 */
export type WrappedOpenAI<C> = C & {
  chat: { completions: ChatCompletionsCreate };
  responses: ResponsesCreate;
  embeddings: EmbeddingsCreate;
  completions: CompletionsCreate;
};
