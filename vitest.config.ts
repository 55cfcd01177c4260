import { defineConfig } from 'vitest/config';

/** Tests that compare throughput within one run: they get the machine to themselves. */
const measuring = ['packages/stack/test/heavy-reads.e2e.test.ts'];

// One run for the whole workspace. Every test gets its own PostgreSQL database and Redis key
// prefix, so files run in parallel against the same servers; the measuring tests run after the
// rest, alone, so what else the suite is doing does not weigh on one side of their comparison.
export default defineConfig({
  test: {
    pool: 'forks',
    poolOptions: { forks: { minForks: 1, maxForks: 4 } },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    globalSetup: ['./packages/service-kit/test-support/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['{orders-app,kitchen-app,inventory-app,packages/*,infra}/test/**/*.test.{ts,tsx}'],
          exclude: [...measuring, '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: 'measuring', include: measuring, sequence: { groupOrder: 1 } } },
    ],
  },
});
