import { describe, expect, test } from 'vitest';
import {
  ARGOCD_VERSIONS,
  buildScenario,
  loadScenario,
  runScenario,
  SimulatedArgoCD,
  simulatorFor,
} from '../src/index.js';
import { InvalidStepError, UnknownAppError } from '../src/model.js';
import { ScenarioError } from '../src/scenario.js';

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

describe('architectures and sources of 2.5+', () => {
  test('apps in any namespace (2.5+): one name in two app namespaces, controllerNamespace the control plane', () => {
    const sim = new SimulatedArgoCD({ name: 'argo' });
    const def = {
      name: 'frontend',
      destination: { namespace: 'web' },
      source: { repoURL: 'https://github.com/x/y' },
    };
    sim.createApp({ ...def, namespace: 'team-a' });
    sim.createApp({ ...def, namespace: 'team-b' });
    sim.sync('team-b/frontend', { revision: 'r1' });
    expect(sim.get('team-a/frontend')?.status.history).toBeUndefined();
    expect(sim.get('team-b/frontend')?.status).toMatchObject({
      controllerNamespace: 'argocd',
      history: [{ revision: 'r1' }],
    });
    expect(() => sim.sync('frontend', { revision: 'r2' })).toThrow(UnknownAppError);
  });

  test('source hydrator (2.14+ types.go GetSyncSource): history has the sync source and hydrated SHA; the dry SHA only in status.sourceHydrator', () => {
    const sim = new SimulatedArgoCD({ name: 'argo', version: '2.14' });
    sim.createApp({
      name: 'cart',
      destination: { namespace: 'cart' },
      sourceHydrator: {
        drySource: {
          repoURL: 'https://github.com/acme/gitops-dry',
          targetRevision: 'HEAD',
          path: 'services/cart',
        },
        syncSource: { targetBranch: 'environments/prod', path: 'services/cart' },
      },
    });
    const app = sim.hydrate('cart', { drySha: 'dry1', hydratedSha: 'hyd1' });
    expect(app.status.history?.[0]).toMatchObject({
      revision: 'hyd1',
      source: {
        repoURL: 'https://github.com/acme/gitops-dry',
        path: 'services/cart',
        targetRevision: 'environments/prod',
      },
    });
    expect(app.status.sourceHydrator).toMatchObject({
      currentOperation: { phase: 'Hydrated', drySHA: 'dry1', hydratedSHA: 'hyd1' },
      lastSuccessfulOperation: { drySHA: 'dry1', hydratedSHA: 'hyd1' },
    });
    const failed = sim.hydrate('cart', { drySha: 'dry2', hydratedSha: '', fail: 'failed to render' });
    expect(failed.status.sourceHydrator).toMatchObject({
      currentOperation: {
        phase: 'Failed',
        message: 'Failed to hydrate revision "dry2": failed to render',
        drySHA: 'dry2',
      },
    });
    expect(failed.status.history).toHaveLength(1);
    expect(() =>
      new SimulatedArgoCD({ name: 'old', version: '2.8' }).createApp({
        name: 'cart',
        destination: { namespace: 'cart' },
        sourceHydrator: {
          drySource: { repoURL: 'r', targetRevision: 'HEAD', path: 'p' },
          syncSource: { targetBranch: 'b', path: 'p' },
        },
      }),
    ).toThrow(InvalidStepError);
  });

  test('OCI sources (3.1+ util/oci/client.go ResolveRevision): the revision is the sha256 digest, the tag stays in targetRevision', () => {
    const def = {
      name: 'oci',
      destination: { namespace: 'oci' },
      source: { repoURL: 'oci://ghcr.io/acme/manifests', path: '.', targetRevision: '1.2.0' },
    };
    expect(() => new SimulatedArgoCD({ name: 'a', version: '3.0' }).createApp(def)).toThrow(InvalidStepError);
    const sim = new SimulatedArgoCD({ name: 'a', version: '3.1' });
    sim.createApp(def);
    const entry = sim.sync('oci', { revision: '1.2.0' }).status.history?.[0];
    expect(entry?.revision).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(entry?.source).toMatchObject({ targetRevision: '1.2.0' });
  });

  test('argocd-agent: failover rewrites source-uid in place and adds principal-uid (v0.8+ agent/inbound.go); a deleted copy comes back with the same source-uid (v0.5+ agent/outbound.go)', () => {
    const sim = new SimulatedArgoCD({ name: 'spoke' });
    sim.createApp({
      name: 'podinfo',
      destination: { namespace: 'p' },
      annotations: { [SOURCE_UID]: 'old-principal-app' },
    });
    const uid = sim.get('podinfo')?.metadata.uid;
    const moved = sim.failover('podinfo', 'new-principal-app', 'principal-2');
    expect(moved.metadata.uid).toBe(uid);
    expect(moved.metadata.annotations).toMatchObject({
      [SOURCE_UID]: 'new-principal-app',
      'argocd.argoproj.io/principal-uid': 'principal-2',
    });
    const types: string[] = [];
    sim.subscribe((e) => types.push(e.type));
    const copy = sim.recreateCopy('podinfo');
    expect(types).toEqual(['MODIFIED', 'DELETED', 'ADDED']);
    expect(copy.metadata.uid).not.toBe(uid);
    expect(copy.metadata.annotations?.[SOURCE_UID]).toBe('new-principal-app');
  });

  test('scenarios/fidelity.yaml plays every new step on each profile', async () => {
    for (const version of ARGOCD_VERSIONS) {
      const scenario = await loadScenario(new URL('../scenarios/fidelity.yaml', import.meta.url).pathname);
      const withVersion = { ...scenario, instance: { ...scenario.instance, version } };
      if (version === '2.8') {
        // 2.8 has no source hydrator: the scenario refuses the app.
        await expect(runScenario(simulatorFor(withVersion), withVersion, { instant: true })).rejects.toThrow(
          InvalidStepError,
        );
        continue;
      }
      const target = simulatorFor(withVersion);
      await runScenario(target, withVersion, { instant: true });
      const a = target.sim.get('team-a/frontend');
      expect(a?.status.history?.map((h) => h.revision)).toEqual(['53e28ff2', '0d521c6e']);
      expect(target.sim.get('team-b/frontend')?.status.history).toEqual([]);
      expect(target.sim.get('podinfo')?.status.history).toHaveLength(2);
    }
    expect(() => buildScenario({ instance: { name: 'x', version: '9.9' } })).toThrow(/known: 2.8/);
  });
});
