// The one build recipe every published package uses: src/index.ts to dist/ as ESM (.js) and
// CommonJS (.cjs), each with its own .d.ts, leaving peers (core, openai) to the consumer.
import { defineConfig, type Options } from 'tsup';

export function libraryBuild(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    external: [/^@llm-callbacks\//, 'openai'],
    ...overrides,
  });
}
