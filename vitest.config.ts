import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Tests import workspace packages from source through the `argus-source` export condition,
// so `pnpm test` needs no build step and stack traces point at .ts files.
const conditions = ['argus-source', ...defaultServerConditions];

const packageProject = (name: string, extra: { testTimeout?: number } = {}) => ({
  extends: true as const,
  test: {
    name,
    root: `packages/${name}`,
    include: ['test/**/*.test.ts'],
    ...extra,
  },
});

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    // chdb crashes at exit when loaded in a worker thread: every test file gets its own process.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    passWithNoTests: false,
    projects: [
      packageProject('cdevents'),
      packageProject('testkit', { testTimeout: 60_000 }),
      packageProject('cli'),
      packageProject('runtime'),
      packageProject('bus'),
      packageProject('store'),
      packageProject('query-api'),
      packageProject('hub', { testTimeout: 60_000 }),
      packageProject('agent', { testTimeout: 60_000 }),
      packageProject('argocd-sim'),
      packageProject('demo'),
      {
        extends: true,
        test: { name: 'examples', root: 'examples', include: ['test/**/*.test.ts'], testTimeout: 60_000 },
      },
      // `pnpm chaos`: the soak-size chaos suite, only when asked for.
      ...(process.env.ARGUS_SOAK === '1'
        ? [
            {
              extends: true as const,
              test: {
                name: 'soak',
                root: 'test',
                include: ['chaos/**/*.soak.test.ts'],
                testTimeout: 900_000,
                fileParallelism: false,
              },
            },
          ]
        : []),
      {
        extends: true,
        test: {
          name: 'e2e',
          root: 'test',
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**', 'bench/**', 'chaos/**/*.soak.test.ts'],
          testTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
