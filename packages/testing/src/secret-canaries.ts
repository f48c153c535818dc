// Secret canaries: distinctive fake credentials put in every place a credential can travel with an
// LLM call (the API key, an Authorization header, custom auth headers per call and as client
// defaults, a cookie, the base URL's query and the client's default query, credential fields in the
// request body under the names providers and gateways use) plus provider errors that echo them back. Each adapter's test makes these calls and then
// checks that what its sink received (the Langfuse receiver, the fake agent, the bucket) contains
// none of the canaries.
import OpenAI from 'openai';
import { wrapOpenAI, type CallbackManager } from '@llm-callbacks/core';

export const SECRET_CANARIES = {
  apiKey: 'sk-canary-apikey-7f3a9c1e5b',
  authorization: 'canary-authz-b41d07e2aa',
  customHeader: 'canary-customhdr-9e2c55a1',
  subscriptionHeader: 'canary-subscription-6b1f0c3d',
  defaultHeader: 'canary-defaulthdr-3c8e1f00',
  defaultQuery: 'canary-defaultq-11aa22bb',
  baseUrlQuery: 'canary-baseurlq-5a7d2b19',
  bodyField: 'canary-bodyfield-c0ffee42',
  nestedBodyField: 'canary-nested-d00dfeed',
  cookieHeader: 'canary-cookie-5e55101d',
  bodyApiToken: 'canary-apitoken-a1b2c3d4',
  bodyAccessKey: 'canary-accesskey-e5f6a7b8',
  bodyAuthToken: 'canary-authtoken-c9d0e1f2',
  bodyBearerToken: 'canary-bearer-0a1b2c3d',
  bodySecretAccessKey: 'canary-secretak-4e5f6a7b',
  bodyProviderKey: 'canary-providerkey-8c9d0e1f',
  bodySessionToken: 'canary-sessiontok-2a3b4c5d',
  gatewayAuthHeader: 'canary-gatewayauth-6e7f8a9b',
  secondCookie: 'canary-cookie2-0c1d2e3f',
} as const;

/** The canaries found in `text` (empty when it is clean). */
export function findCanaries(text: string): string[] {
  return Object.values(SECRET_CANARIES).filter((canary) => text.includes(canary));
}

/** JSON of anything, BigInts included (decoded APM spans carry 64-bit ids). */
export function serializeForLeakCheck(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * Makes calls carrying every canary through `manager` against the fake OpenAI server at
 * `providerUrl`: successes, a stream, and errors that echo the credentials. Returns how many calls
 * were reported (each must reach the sink).
 */
export async function makeCanaryCalls(providerUrl: string, manager: CallbackManager): Promise<number> {
  const C = SECRET_CANARIES;
  const base = new URL(providerUrl);
  base.searchParams.set('api-key', C.baseUrlQuery);
  const client = wrapOpenAI(
    new OpenAI({
      apiKey: C.apiKey,
      baseURL: providerUrl,
      defaultHeaders: { 'x-api-key': C.defaultHeader, 'Helicone-Auth': `Bearer ${C.gatewayAuthHeader}` },
      defaultQuery: { key: C.defaultQuery },
      maxRetries: 0,
    }),
    manager,
  );
  const headers = { 'api-key': C.customHeader, 'Ocp-Apim-Subscription-Key': C.subscriptionHeader, Cookie: `sid=${C.cookieHeader}; csrf=${C.secondCookie}` };
  const body = (model: string) =>
    ({
      model,
      messages: [{ role: 'user' as const, content: 'hello' }],
      api_key: C.bodyField,
      provider_options: {
        password: C.nestedBodyField,
        api_token: C.bodyApiToken,
        'access-key': C.bodyAccessKey,
        authToken: C.bodyAuthToken,
        bearer_token: C.bodyBearerToken,
        secret_access_key: C.bodySecretAccessKey,
        openai_api_key: C.bodyProviderKey,
        aws_session_token: C.bodySessionToken,
      },
    }) as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
  const settle = (p: Promise<unknown>) =>
    p.then(
      () => 1,
      () => 1,
    );
  let calls = 0;
  calls += await settle(client.chat.completions.create(body('gpt-4o-mini'), { headers }));
  calls += await settle(client.chat.completions.create(body('echo-key'), { headers }));
  calls += await settle(client.chat.completions.create(body('echo-credentials'), { headers }));
  calls += await settle(client.chat.completions.create(body('echo-key'), { headers: { ...headers, Authorization: `Bearer ${C.authorization}` } }));
  calls += await settle(client.chat.completions.create(body('echo-credentials'), { headers: { ...headers, Authorization: `Bearer ${C.authorization}` } }));
  const stream = await client.chat.completions.create({ ...body('gpt-4o-mini'), stream: true }, { headers });
  for await (const _ of stream) void _;
  calls += 1;
  // The key in the base URL's query (Azure-style gateways), echoed back by the provider.
  const viaQuery = wrapOpenAI(new OpenAI({ apiKey: C.apiKey, baseURL: base.toString(), maxRetries: 0 }), manager);
  calls += await settle(viaQuery.chat.completions.create(body('echo-credentials')));
  return calls;
}
