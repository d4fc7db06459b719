import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.{ts,tsx}'],
    globalSetup: ['./vitest.global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Engine tests share one PostgreSQL server; each file gets its own database, files run in parallel.
    // Two at a time: by default vitest runs cores - 1 forks, one on this 2-core machine, and most test
    // files spend their time waiting on child processes, the database or a browser, not on a core.
    pool: 'forks',
    fileParallelism: true,
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
