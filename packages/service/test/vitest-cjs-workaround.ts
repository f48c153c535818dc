// Workaround, for tests only: the root vitest.config.ts lists 'import' in ssr.resolve.conditions,
// and vitest hands that list to its workers as `node --conditions ...`. Node's own require() then
// also matches "import" in a package's exports, so Express's router, which does
// `require('is-promise')`, gets is-promise's ES module namespace instead of its function and every
// route fails with "isPromise is not a function". Until the root config drops 'import' (and
// 'default') from that list, this puts the CommonJS build in require's cache under the path the
// "import" condition resolves to. Import this module before 'express'.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const requireFromRouter = createRequire(require.resolve('router', { paths: [require.resolve('express')] }));
const resolved = requireFromRouter.resolve('is-promise');
if (resolved.endsWith('.mjs')) {
  const cjsPath = resolved.replace(/\.mjs$/, '.js');
  requireFromRouter(cjsPath);
  const cached = require.cache[cjsPath];
  if (cached) require.cache[resolved] = cached;
}
