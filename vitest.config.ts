// Test runner configuration for the whole workspace.
// Tests import workspace packages from src/ through the "@llm-callbacks/source" export condition,
// so `vitest` needs no build; only ssr.resolve.conditions is honoured for that (TOOLCHAIN.md).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  ssr: {
    resolve: {
      conditions: ['@llm-callbacks/source', 'node'],
    },
  },
  test: {
    include: ['packages/**/test/**/*.test.ts', 'packages/**/src/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ['default', './scripts/count-reporter.ts'],
  },
});
