import { defineConfig } from 'vitest/config';

// One run for the whole workspace. Every test gets its own PostgreSQL database and Redis key
// prefix, so files run in parallel against the same servers.
export default defineConfig({
  test: {
    include: ['{orders-app,kitchen-app,inventory-app,packages/*,infra}/test/**/*.test.{ts,tsx}'],
    pool: 'forks',
    poolOptions: { forks: { minForks: 1, maxForks: 4 } },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    globalSetup: ['./packages/service-kit/test-support/global-setup.ts'],
  },
});
