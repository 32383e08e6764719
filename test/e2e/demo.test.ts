import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

test('the README demo runs unattended and reports what the hub stored', () => {
  const run = spawnSync('bash', ['deploy/scripts/demo.sh'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 180_000,
  });
  expect(run.stderr).not.toMatch(/demo: /);
  expect(run.status).toBe(0);
  expect(run.stdout).toContain('{"accepted":1,"duplicates":0,"ids":["pr-42-merged"]}');
  expect(run.stdout).toContain('{"accepted":1,"duplicates":1}');
  expect(run.stdout).toContain('"reason":"schema"');
  expect(run.stdout).toMatch(/argus_hub_stored_total\{type="dev\.cdevents\.service\.deployed\.0\.2\.0"\} 1/);
  expect(run.stdout).toMatch(/argus_hub_stored_total\{type="dev\.cdevents\.change\.merged\.0\.3\.0"\} 1/);
}, 200_000);
