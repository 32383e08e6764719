import { describe, expect, test } from 'vitest';
import { type ArgoCdVersion, SimulatedArgoCD } from '../src/index.js';
import { UnknownVersionError } from '../src/profiles.js';

const T0 = Date.UTC(2026, 0, 1);
const stamp = (ms: number) => `${new Date(T0 + ms).toISOString().slice(0, 19)}Z`;

/** A simulator whose clock the test moves. */
const simAt = (version: ArgoCdVersion) => {
  let now = T0;
  const sim = new SimulatedArgoCD({ name: 'argo', version, clock: () => new Date(now) });
  return { sim, advance: (ms: number) => (now += ms) };
};

const app = {
  name: 'podinfo',
  destination: { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
  source: { repoURL: 'https://github.com/stefanprodan/podinfo', path: 'kustomize' },
};

type Health = { status: string; lastTransitionTime?: string; message?: string };
const health = (sim: SimulatedArgoCD): Health => sim.get('podinfo')?.status.health as Health;

describe('status.health.lastTransitionTime per profile', () => {
  test('2.8: absent (v2.8.0 pkg/apis/application/v1alpha1/types.go HealthStatus has status and message only)', () => {
    const { sim, advance } = simAt('2.8');
    sim.createApp(app);
    sim.sync('podinfo', { revision: 'a' });
    advance(1000);
    sim.degrade('podinfo', 'Deployment "podinfo" exceeded its progress deadline');
    expect(health(sim)).toEqual({ status: 'Degraded' });
  });

  test('2.14.0-2.14.11 and 3.0.0-3.0.2: stamped on every reconcile, kept while unchanged (controller/health.go setApplicationHealth)', () => {
    for (const version of ['2.14', '3.0'] as const) {
      const { sim, advance } = simAt(version);
      sim.createApp(app);
      sim.sync('podinfo', { revision: 'a' });
      expect(health(sim)).toEqual({ status: 'Healthy', lastTransitionTime: stamp(0) });
      advance(60_000);
      sim.refresh('podinfo');
      expect(health(sim).lastTransitionTime).toBe(stamp(0));
      // An app last written by a <=2.13 controller gets a value at its next reconcile.
      sim.createApp({ ...app, name: 'legacy', upgradedFromLegacy: true });
      expect(sim.get('legacy')?.status.health).toEqual({ status: 'Healthy' });
      sim.refresh('legacy');
      expect(sim.get('legacy')?.status.health).toEqual({
        status: 'Healthy',
        lastTransitionTime: stamp(60_000),
      });
    }
  });

  test('3.1+: set only when the status changes; an upgraded app keeps none until then (controller/appcontroller.go persistAppStatus, 45a8c68f2a)', () => {
    const { sim, advance } = simAt('3.1');
    const before = sim.createApp({ ...app, upgradedFromLegacy: true });
    // Still as the old controller wrote it: resource health inline, no resourceHealthSource.
    expect(before.status.resourceHealthSource).toBeUndefined();
    expect(before.status.resources).toContainEqual(
      expect.objectContaining({ health: { status: 'Healthy' } }),
    );
    advance(60_000);
    const after = sim.refresh('podinfo');
    expect(health(sim)).toEqual({ status: 'Healthy' });
    expect(after.status.resourceHealthSource).toBe('appTree');
    advance(60_000);
    sim.degrade('podinfo');
    expect(health(sim)).toEqual({ status: 'Degraded', lastTransitionTime: stamp(120_000) });
    advance(60_000);
    sim.refresh('podinfo');
    expect(health(sim).lastTransitionTime).toBe(stamp(120_000));
  });

  test('no profile writes an app-level health message (setApplicationHealth sets only the status)', () => {
    for (const version of ['2.8', '2.14', '3.0', '3.1'] as const) {
      const { sim } = simAt(version);
      sim.createApp(app);
      sim.sync('podinfo', { revision: 'a' });
      sim.degrade('podinfo', 'Deployment "podinfo" exceeded its progress deadline');
      expect(health(sim).message).toBeUndefined();
    }
  });
});

describe('resource health per profile', () => {
  const degraded = (version: ArgoCdVersion) => {
    const { sim } = simAt(version);
    sim.createApp(app);
    sim.sync('podinfo', { revision: 'a' });
    return sim.degrade('podinfo', 'unused', [
      { group: 'apps', kind: 'Deployment', name: 'podinfo', message: 'exceeded its progress deadline' },
    ]);
  };

  test('<=2.14: the degraded resource and its message in status.resources[].health, no resourceHealthSource', () => {
    for (const version of ['2.8', '2.14'] as const) {
      const stored = degraded(version);
      expect(stored.status.resourceHealthSource).toBeUndefined();
      expect(stored.status.resources).toContainEqual(
        expect.objectContaining({
          kind: 'Deployment',
          name: 'podinfo',
          health: { status: 'Degraded', message: 'exceeded its progress deadline' },
        }),
      );
    }
  });

  test('3.0+: resourceHealthSource appTree and no resource health stored; the Watch view re-inflates it (server/application/application.go inferResourcesStatusHealth)', () => {
    for (const version of ['3.0', '3.1'] as const) {
      const { sim } = simAt(version);
      sim.createApp(app);
      sim.sync('podinfo', { revision: 'a' });
      const stored = sim.degrade('podinfo', 'exceeded its progress deadline');
      expect(stored.status.resourceHealthSource).toBe('appTree');
      for (const r of stored.status.resources as { health?: unknown }[]) expect(r.health).toBeUndefined();
      expect(sim.withTreeHealth(stored).status.resources).toContainEqual(
        expect.objectContaining({
          kind: 'Deployment',
          health: { status: 'Degraded', message: 'exceeded its progress deadline' },
        }),
      );
    }
  });

  test('status.sourceHydrator is serialised as {} from 2.14 only (types.go SourceHydratorStatus)', () => {
    expect(simAt('2.8').sim.createApp(app).status.sourceHydrator).toBeUndefined();
    expect(simAt('2.14').sim.createApp(app).status.sourceHydrator).toEqual({});
  });

  test('an unknown version is refused with the known ones', () => {
    expect(() => new SimulatedArgoCD({ name: 'x', version: '2.9' as ArgoCdVersion })).toThrow(
      UnknownVersionError,
    );
  });
});
