import { expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildScenario, runScenario, simulatorFor } from '../src/index.js';

// Every step that scenarios/fidelity.yaml does not play, written as a scenario file would be.
const YAML = `
instance: { name: steps, version: '2.14', clusters: [{ name: in-cluster, server: https://kubernetes.default.svc }] }
apps:
  - name: web
    destination: { namespace: web }
    source: { repoURL: https://github.com/acme/web, path: deploy }
    retry: { limit: 1, backoff: { duration: 10s } }
  - name: copy
    destination: { namespace: copy }
    source: { repoURL: https://github.com/acme/copy, path: deploy }
    annotations: { argocd.argoproj.io/source-uid: principal-app-1 }
steps:
  - { at: 0s, sync: { app: web, revision: a1, hold: true } }
  - { at: 1s, finishSync: { app: web } }
  - { at: 2s, sync: { app: web, revision: b2, automated: true, error: 'application destination is not permitted' } }
  - { at: 12s, retrySync: { app: web, fail: 'still not permitted' } }
  - { at: 13s, syncError: { app: web, message: 'Skipping sync attempt to b2: auto-sync will wipe out all resources' } }
  - { at: 14s, clearConditions: { app: web, type: SyncError } }
  - { at: 15s, sync: { app: web, revision: c3, hold: true } }
  - { at: 16s, terminate: { app: web } }
  - { at: 17s, sync: { app: web, revision: d4, hold: true, retry: { limit: 0 } } }
  - { at: 18s, timeOut: { app: web } }
  - { at: 19s, sync: { app: web, revision: e5, resources: [{ group: apps, kind: Deployment, name: web }] } }
  - { at: 20s, failover: { app: copy, sourceUid: principal-app-2, principalUid: principal-2 } }
  - { at: 21s, recreateCopy: { app: copy } }
  - { at: 22s, replaceWithoutStatus: { app: web } }
  - { at: 23s, addCluster: { name: prod-eu, server: https://prod-eu.example:6443 } }
  - { at: 24s, renameCluster: { server: https://kubernetes.default.svc, name: control-plane } }
  - { at: 25s, startDelete: { app: web } }
  - { at: 26s, finishDelete: { app: web } }
`;

test('every step kind can be written in a scenario file', async () => {
  const scenario = buildScenario(parseYaml(YAML), 'steps.yaml');
  const target = simulatorFor(scenario, new Date(Date.UTC(2026, 0, 1)));
  const states: string[] = [];
  target.sim.subscribe((e) => {
    const op = e.app.status.operationState as { phase?: string; message?: string } | undefined;
    if (e.app.metadata.name === 'web' && op?.phase !== undefined) states.push(`${op.phase}: ${op.message}`);
  });
  await runScenario(target, scenario, { instant: true });
  expect(states).toContain(
    'Running: application destination is not permitted. Retrying attempt #1 at 12:00AM.',
  );
  expect(states).toContain('Failed: still not permitted (retried 1 times).');
  expect(states).toContain('Failed: Operation terminated');
  expect(states).toContain('Terminating: operation is terminating due to timeout');
  expect(target.sim.get('web')).toBeUndefined();
  expect(target.sim.get('copy')?.metadata.annotations).toMatchObject({
    'argocd.argoproj.io/source-uid': 'principal-app-2',
    'argocd.argoproj.io/principal-uid': 'principal-2',
  });
  expect(target.sim.clusters.map((c) => c.name)).toEqual(['control-plane', 'prod-eu']);
});
