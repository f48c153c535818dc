// SecretScrubber.mayAffect: the check that lets a JSON response skip the copying walk. Whenever it
// says "nothing to scrub", parsing the text again must give exactly what copy() would have given.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretScrubber, isSecretKey } from '../src/secrets.js';

const SECRET = 'sk-live-canary-0123456789';
const scrubber = new SecretScrubber([SECRET, 'Bearer tok-abcdefgh1234', 'Digest username="ops", response="9f8e7d"', 'key/with+slash=1234']);

describe('SecretScrubber.mayAffect', () => {
  it.each([
    ['{"api_key":"x"}'],
    ['{"X-Api-Key" : 1}'],
    ['{"Authorization":"Basic abc"}'],
    ['{"nested":{"_client_secret_":{"a":1}}}'],
    ['{"PASSWORD":null}'],
    [`{"content":"echo ${SECRET}"}`],
    ['{"content":"tok-abcdefgh1234"}'],
    ['{"api\\u005fkey":"x"}'],
    ['{"content":"Digest username=\\"ops\\", response=\\"9f8e7d\\""}'],
    ['{"content":"key\\/with+slash=1234"}'],
  ])('says yes for %s', (json) => {
    expect(scrubber.mayAffect(json)).toBe(true);
  });

  it.each([['{"content":"the key is under the mat"}'], ['{"keys":["apikey"]}'], ['{"usage":{"total_tokens":3}}'], ['{"secretive":true}']])(
    'says no for %s',
    (json) => {
      expect(scrubber.mayAffect(json)).toBe(false);
    },
  );

  it('whenever it says no, a fresh parse equals the scrubbed copy (and when copy() would change something, it says yes)', () => {
    const keyNames = ['content', 'role', 'api_key', 'apiKey', 'Api-Key', 'token', 'access_token', 'secret', 'name', 'Authorization', 'keys', 'passwd'];
    const text = fc.oneof(
      fc.string(),
      fc.constant(SECRET),
      fc.constant(`x ${SECRET} y`),
      fc.constant('tok-abcdefgh1234'),
      fc.constant('Digest username="ops", response="9f8e7d"'),
    );
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('value'), { maxLength: 3 }), tie('object')),
      object: fc.dictionary(fc.oneof(fc.constantFrom(...keyNames), fc.string()), tie('value'), { maxKeys: 4 }),
    })).object;
    fc.assert(
      fc.property(json, (value) => {
        const serialized = JSON.stringify(value);
        const copied = scrubber.copy(value);
        if (!scrubber.mayAffect(serialized)) expect(JSON.parse(serialized)).toEqual(copied);
        else if (JSON.stringify(copied) !== serialized) expect(scrubber.mayAffect(serialized)).toBe(true);
      }),
      { numRuns: Number(process.env['LLM_CALLBACKS_PROPERTY_RUNS'] ?? 500) },
    );
  });

  it('keeps content-like names: a bare token (logprobs), token counts, cache keys', () => {
    for (const name of ['token', 'Token', 'max_tokens', 'prompt_tokens', 'cached_tokens', 'prompt_cache_key', 'author', 'access_key_id', 'content']) {
      expect(isSecretKey(name), name).toBe(false);
    }
  });

  it('matches isSecretKey on every credential-looking name', () => {
    for (const name of [
      'apikey',
      'API_KEY',
      'x-api-key',
      'proxy-authorization',
      'aws_secret_access_key',
      'Session-Token',
      'client_secret',
      'openai_api_key',
      'anthropic_api_key',
      'aws_session_token',
      'azure_ad_token',
      'vertex_credentials',
      'api_secret',
      'hf_token',
      'x-api-token',
      'jwt',
      'Helicone-Auth',
      'cookie',
      'Set-Cookie',
    ]) {
      expect(isSecretKey(name), name).toBe(true);
      expect(scrubber.mayAffect(JSON.stringify({ [name]: 'v' })), name).toBe(true);
    }
  });
});
