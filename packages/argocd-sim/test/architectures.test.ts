import { describe, expect, test } from 'vitest';
import { buildScenario, runScenario, ScenarioError, simulatorFor } from '../src/index.js';

const SOURCE_UID = 'argocd.argoproj.io/source-uid';

describe('scenarios for the architectures the agent supports', () => {
  test('an Argo CD Agent copy: a fixed uid on one side, the source-uid annotation on the other', async () => {
    const app = {
      name: 'podinfo',
      destination: { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
    };
    const principal = buildScenario({
      instance: { name: 'principal', namespace: 'spoke-1' },
      apps: [{ ...app, uid: 'principal-uid' }],
    });
    const spoke = buildScenario({
      instance: { name: 'spoke-1' },
      apps: [{ ...app, annotations: { [SOURCE_UID]: 'principal-uid' } }],
    });
    const p = simulatorFor(principal);
    const s = simulatorFor(spoke);
    await runScenario(p, principal, { instant: true });
    await runScenario(s, spoke, { instant: true });
    const original = p.sim.get('podinfo');
    const copy = s.sim.get('podinfo');
    expect(original?.metadata).toMatchObject({ uid: 'principal-uid', namespace: 'spoke-1' });
    expect(copy?.metadata.uid).not.toBe('principal-uid');
    // The tracking annotation Argo CD sets stays beside the copy's own.
    expect(copy?.metadata.annotations).toMatchObject({
      [SOURCE_UID]: 'principal-uid',
      'argocd.argoproj.io/tracking-id': 'podinfo:argoproj.io/Application:argocd/podinfo',
    });
  });

  test('generate: n apps spread over the clusters, each synced once', async () => {
    const clusters = [
      { name: 'in-cluster', server: 'https://kubernetes.default.svc' },
      { name: 'prod-eu', server: 'https://prod-eu.example.com' },
    ];
    const scenario = buildScenario({
      instance: { name: 'load', clusters },
      apps: [{ name: 'own', destination: { namespace: 'own' } }],
      steps: [{ at: '1s', sync: { app: 'own', revision: 'a' } }],
      generate: { apps: 4, revision: 'abc123' },
    });
    expect(scenario.apps.map((a) => a.name)).toEqual(['own', 'app-0', 'app-1', 'app-2', 'app-3']);
    expect(scenario.apps[2]?.destination.server).toBe('https://prod-eu.example.com');
    expect(scenario.steps.map((s) => s.at)).toEqual([0, 0, 0, 0, 1000]);
    const target = simulatorFor(scenario);
    await runScenario(target, scenario, { instant: true });
    const { items } = target.sim.list();
    expect(items).toHaveLength(5);
    expect(items.every((a) => a.status.history?.length === 1)).toBe(true);
    expect(target.sim.get('app-3')?.status.history?.[0]?.revision).toBe('abc123');
    expect(() => buildScenario({ instance: { name: 'x' }, generate: { apps: 0 } })).toThrow(ScenarioError);
  });
});
