import { describe, expect, test } from 'vitest';
import { buildScenario, runScenario, SimulatedArgoCD, simulatorFor } from '../src/index.js';
import { ExpiredResourceVersionError } from '../src/model.js';
import { ScenarioError } from '../src/scenario.js';

const at = (ms: number) => () => new Date(Date.UTC(2026, 0, 1) + ms);

const sim = () => {
  const s = new SimulatedArgoCD({ name: 'argo', clock: at(0), historyWindow: 5 });
  s.createApp({
    name: 'podinfo',
    destination: { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
    source: { repoURL: 'https://github.com/stefanprodan/podinfo', path: 'kustomize' },
    revisionHistoryLimit: 2,
  });
  return s;
};

describe('SimulatedArgoCD', () => {
  test('a sync appends history with ids, trims to revisionHistoryLimit, and reports Synced/Healthy', () => {
    const s = sim();
    s.sync('podinfo', { revision: 'a' });
    s.sync('podinfo', { revision: 'b' });
    const app = s.sync('podinfo', { revision: 'c' });
    expect(app.status.history?.map((h) => [h.id, h.revision])).toEqual([
      [1, 'b'],
      [2, 'c'],
    ]);
    expect(app.status.sync).toMatchObject({ status: 'Synced', revision: 'c' });
    expect(app.status.health).toMatchObject({ status: 'Healthy' });
    expect(app.status.operationState).toMatchObject({ phase: 'Succeeded', syncResult: { revision: 'c' } });
  });

  test('a failed sync records the operation but no history entry', () => {
    const s = sim();
    const app = s.sync('podinfo', { revision: 'a', fail: 'boom' });
    expect(app.status.history).toBeUndefined();
    expect(app.status.operationState).toMatchObject({ phase: 'Failed', message: 'boom' });
  });

  test('rollback re-syncs an older revision; multi-source entries carry revisions and placeholders', () => {
    const s = sim();
    s.sync('podinfo', { revision: 'a' });
    s.sync('podinfo', { revision: 'b' });
    expect(s.rollback('podinfo', 0).status.history?.at(-1)?.revision).toBe('a');
    s.createApp({
      name: 'chart',
      destination: { name: 'edge', namespace: 'x' },
      sources: [{ repoURL: 'ghcr.io/charts', chart: 'podinfo', targetRevision: '6.9.0' }],
    });
    const entry = s.sync('chart', { revisions: ['6.9.2'] }).status.history?.at(-1);
    expect(entry).toMatchObject({
      revisions: ['6.9.2'],
      source: { repoURL: '' },
      // controller/state.go persistRevisionHistory keeps the spec's targetRevision in sources[].
      sources: [{ chart: 'podinfo', targetRevision: '6.9.0' }],
    });
  });

  test('delete sends MODIFIED with deletionTimestamp, then DELETED; resourceVersions increase', () => {
    const s = sim();
    const events: string[] = [];
    const rvs: number[] = [];
    s.subscribe((e) => {
      events.push(`${e.type}:${e.app.metadata.deletionTimestamp === undefined ? '' : 'deleting'}`);
      rvs.push(e.resourceVersion);
    });
    s.delete('podinfo');
    expect(events).toEqual(['MODIFIED:deleting', 'DELETED:deleting']);
    expect(rvs[1]).toBe((rvs[0] ?? 0) + 1);
    expect(s.list().items).toEqual([]);
  });

  test('a deletion can stay in its finalizer phase, with more updates, before DELETED', () => {
    const s = sim();
    const events: string[] = [];
    s.subscribe((e) => events.push(e.type));
    s.startDelete('podinfo');
    s.refresh('podinfo');
    expect(s.get('podinfo')?.metadata.deletionTimestamp).toBeDefined();
    s.finishDelete('podinfo');
    expect(events).toEqual(['MODIFIED', 'MODIFIED', 'DELETED']);
  });

  test('the watch window is bounded: older resourceVersions are expired', () => {
    const s = sim();
    for (let i = 0; i < 6; i++) s.refresh('podinfo');
    expect(() => s.eventsSince(1000)).toThrow(ExpiredResourceVersionError);
    expect(s.eventsSince(s.resourceVersion - 2)).toHaveLength(2);
  });

  test('the same scenario gives the same objects and resourceVersions', async () => {
    const scenario = buildScenario({
      instance: { name: 'argo' },
      apps: [{ name: 'a', destination: { namespace: 'n' }, source: { repoURL: 'https://github.com/x/y' } }],
      steps: [
        { at: '1s', sync: { app: 'a', revision: 'r1' } },
        { at: '2s', degrade: { app: 'a' } },
      ],
    });
    const one = simulatorFor(scenario, new Date(0));
    const two = simulatorFor(scenario, new Date(0));
    await runScenario(one, scenario, { instant: true });
    await runScenario(two, scenario, { instant: true });
    expect(one.sim.list()).toEqual(two.sim.list());
    expect(one.sim.get('a')?.status.health).toMatchObject({
      status: 'Degraded',
      lastTransitionTime: '1970-01-01T00:00:02Z',
    });
  });

  test('malformed scenarios name the offending step', () => {
    expect(() => buildScenario({ instance: { name: 'x' }, steps: [{ at: '1s', jump: {} }] })).toThrow(
      ScenarioError,
    );
    expect(() =>
      buildScenario({ instance: { name: 'x' }, steps: [{ at: 'soon', refresh: { app: 'a' } }] }),
    ).toThrow(/step 0/);
  });
});
