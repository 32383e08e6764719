import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

test('the README demo runs unattended: every architecture, the unified stream, a timeline, DORA, exit 0', () => {
  const run = spawnSync('bash', ['deploy/scripts/demo.sh', '--duration', '0', '--play', '15s'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 240_000,
  });
  expect(run.stderr).not.toContain('FAILED');
  expect(run.status).toBe(0);
  const out = run.stdout;
  expect(out).toContain('argus demo: every check passed.');
  for (const architecture of ['hub-and-spoke', 'distributed', 'managed', 'argocd-agent'])
    expect(out).toContain(architecture);
  expect(out).toContain('podinfo across dev, edge-1, prod-ap, prod-eu, prod-us, sandbox, staging');
  expect(out).toMatch(/prod-eu\s+argo-hub\s+service\.rolledback/);
  expect(out).toMatch(/prod-eu\s+argo-hub\s+incident\.detected\s+health degraded/);
  // DORA per cluster: prod-eu had one failed deployment out of four; the rollback restored it in 10 minutes.
  expect(out).toMatch(/prod-eu\s+4\s+4\.00\s+\S+ \(4 traced\)\s+25% \(1\/4\)\s+1\s+10\.0m \(1 restored\)/);
  // `argus instances`: the webhook agent heartbeats (live), reports its architecture, source and cluster.
  expect(out).toMatch(/argo-sandbox\s+live\s+distributed\s+webhook\s+sandbox/);
  expect(out).toContain('the ingest answered "duplicates: 1"');
  expect(out).toMatch(/The hub stored\s+(\d+) events in \1 rows, with 0 dead letters/);
  expect(out).toContain('pnpm argus tail --hub 127.0.0.1:');
  expect(out).toMatch(/dashboard: http:\/\/127.0.0.1:\d+\//);
}, 260_000);
