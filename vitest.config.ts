import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    globalSetup: ['./vitest.global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Engine tests share one PostgreSQL server; each file gets its own database, files run in parallel.
    pool: 'forks',
    fileParallelism: true,
  },
});
