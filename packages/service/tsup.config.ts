// Builds @llm-callbacks/service to dist/ as ESM (.js) and CommonJS (.cjs), each with its own .d.ts.
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: ['@llm-callbacks/core'],
});
