import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { CONFIGURATION_FILE, configurationMarkdown } from './configuration.js';

test('docs/configuration.md lists every hub and agent option as the code defines it', () => {
  const written = readFileSync(CONFIGURATION_FILE, 'utf8');
  expect(written, 'docs/configuration.md is stale: run pnpm docs:config').toBe(configurationMarkdown());
  expect(written).toContain('`--grpc-listen <host:port>` | `ARGUS_GRPC_LISTEN` | 127.0.0.1:50051 |');
  expect(written).toContain('`--source api\\|kubernetes\\|webhook` | `ARGUS_SOURCE` | required |');
});
