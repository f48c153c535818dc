// The zod schema of the parts of a LiteLLM proxy config that llm-callbacks reads. Everything else in
// such a file (model_list, general_settings, router_settings, other litellm_settings) is left alone,
// so a team can point loadConfig() at the file its proxy used. Each `error` text is the "expected"
// half of a ConfigError message.
import { z } from 'zod';

const callbackNames = (key: string) =>
  z
    .array(z.string({ error: 'a callback name (a string such as "langfuse")' }).min(1, { error: 'a callback name, not an empty string' }), {
      error: `a list of callback names, e.g. ${key}: ["langfuse"]`,
    })
    .nullish();

/** `litellm_settings`: the callback lists and the compliance lock. */
export const LitellmSettingsSchema = z
  .object(
    {
      /** Callbacks run on success and on failure. */
      callbacks: callbackNames('callbacks'),
      /** Callbacks run on success only. */
      success_callback: callbackNames('success_callback'),
      /** Callbacks run on failure only. */
      failure_callback: callbackNames('failure_callback'),
      /** false: no request can disable any callback. Only a real boolean: a lock is never guessed from "false" or 0. */
      allow_dynamic_callback_disabling: z
        .boolean({ error: 'true or false (a YAML/JSON boolean, unquoted), since this is the compliance lock and is never guessed' })
        .optional(),
    },
    { error: 'a mapping of LiteLLM settings, e.g. litellm_settings: { callbacks: ["langfuse"] }' },
  )
  .loose();

/**
 * Parameters for one adapter: a mapping, handed to its factory. `required` is the per-callback
 * compliance lock, read by llm-callbacks itself, so like the global lock it must be a real boolean.
 */
export const AdapterParamsSchema = z
  .object(
    {
      required: z.boolean({ error: 'true or false (a YAML/JSON boolean, unquoted), since required is a compliance lock and is never guessed' }).optional(),
    },
    { error: 'a mapping of parameters for this callback (key: value lines), or nothing' },
  )
  .catchall(z.unknown());

/** The whole file, as far as llm-callbacks reads it. */
export const LiteLLMConfigSchema = z
  .object(
    {
      litellm_settings: LitellmSettingsSchema.nullish(),
      /**
       * Per-callback parameters by callback name (LiteLLM's top-level `callback_settings`). Each
       * entry is checked with AdapterParamsSchema only when a list names its callback: settings for
       * callbacks this service does not use are left alone.
       */
      callback_settings: z.record(z.string(), z.unknown(), { error: 'a mapping from callback name to its parameters' }).nullish(),
      /** Variables for `os.environ/NAME` references (and handed to adapter factories); never written to process.env. */
      environment_variables: z
        .record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: 'a string, number or boolean value' }), {
          error: 'a mapping from variable name to value',
        })
        .nullish(),
    },
    { error: 'a mapping with litellm_settings (a LiteLLM proxy config), e.g. litellm_settings: { callbacks: ["langfuse"] }' },
  )
  .loose();

/** A LiteLLM proxy config file as parsed (the parts llm-callbacks reads; other keys are kept as they are). */
export type LiteLLMConfig = z.infer<typeof LiteLLMConfigSchema>;

/** The litellm_settings keys whose values may be `os.environ/NAME` references resolved before validation. */
export const CALLBACK_SETTING_KEYS = ['callbacks', 'success_callback', 'failure_callback', 'allow_dynamic_callback_disabling'] as const;

/** LiteLLM's older per-integration params key in litellm_settings, such as `s3_callback_params`. */
export const CALLBACK_PARAMS_KEY = /^(.+)_callback_params$/;
