import { deterministicId, isCDEvent } from '@argus/cdevents';
import { describe, expect, test } from 'vitest';
import { type RevisionHistory, SOURCE_UID_ANNOTATION } from '../src/argocd/types.js';
import {
  type Application,
  type AppProgress,
  type DetectorContext,
  detectTransitions,
  isPurl,
  rememberedApp,
} from '../src/index.js';
import { removalEmission } from '../src/transitions/detect.js';

const ctx: DetectorContext = {
  inClusterName: 'prod-eu',
  clusterNames: new Map([['https://10.0.0.7:6443', 'prod-us']]),
  specVersion: '0.5.1',
  healthDebounceMs: 30_000,
  emitResyncs: false,
};

const entry = (id: number, revision: string, deployedAt: string): RevisionHistory => ({
  id,
  revision,
  deployStartedAt: deployedAt,
  deployedAt,
  initiatedBy: { automated: true },
  source: {
    repoURL: 'https://github.com/cdviz-dev/demo-cluster',
    path: 'apps/podinfo',
    targetRevision: 'HEAD',
  },
});

/** An Application shaped like the real single-source fixture (fields trimmed to what matters). */
const makeApp = (
  history: RevisionHistory[],
  overrides: Partial<NonNullable<Application['status']>> = {},
): Application => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: {
    name: 'podinfo',
    namespace: 'argocd',
    uid: 'bb42b013-3ce1-4207-a409-2898419d8e74',
    resourceVersion: '1',
  },
  spec: {
    project: 'default',
    destination: { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
    source: {
      repoURL: 'https://github.com/cdviz-dev/demo-cluster',
      path: 'apps/podinfo',
      targetRevision: 'HEAD',
    },
  },
  status: {
    history,
    sync: { status: 'Synced', revision: history.at(-1)?.revision ?? '' },
    health: { status: 'Healthy', lastTransitionTime: '2025-10-02T16:00:00Z' },
    reconciledAt: '2025-10-02T17:00:00Z',
    ...overrides,
  },
});

const types = (d: ReturnType<typeof detectTransitions>) =>
  d.emissions.map((e) => e.event.context.type.split('.').slice(2, 4).join('.'));
const now = new Date('2025-10-02T18:00:00Z');

describe('detectTransitions: history', () => {
  test('first entry deployed, new revision upgraded, old revision rolled back, same revision nothing', () => {
    const history = [
      entry(0, 'aaa', '2025-10-02T10:00:00Z'),
      entry(1, 'bbb', '2025-10-02T11:00:00Z'),
      entry(2, 'bbb', '2025-10-02T12:00:00Z'),
      entry(3, 'aaa', '2025-10-02T13:00:00Z'),
    ];
    const d = detectTransitions(makeApp(history), undefined, ctx, now);
    expect(types(d)).toEqual(['service.deployed', 'service.upgraded', 'service.rolledback']);
    expect(d.emissions.map((e) => e.event.context.timestamp)).toEqual([
      '2025-10-02T10:00:00Z',
      '2025-10-02T11:00:00Z',
      '2025-10-02T13:00:00Z',
    ]);
    expect(d.progress.lastHistoryId).toBe(3);
    for (const e of d.emissions) {
      expect(isCDEvent(e.event)).toBe(true);
      expect(e.cluster).toBe('prod-eu');
      expect(e.event.context.source).toBe('/argocd/prod-eu/podinfo/podinfo');
    }
  });

  test('progress makes detection incremental: nothing is emitted twice, nothing skipped', () => {
    const first = detectTransitions(makeApp([entry(0, 'aaa', '2025-10-02T10:00:00Z')]), undefined, ctx, now);
    const again = detectTransitions(
      makeApp([entry(0, 'aaa', '2025-10-02T10:00:00Z')]),
      first.progress,
      ctx,
      now,
    );
    expect(again.emissions).toHaveLength(0);
    const next = detectTransitions(
      makeApp([entry(0, 'aaa', '2025-10-02T10:00:00Z'), entry(1, 'ccc', '2025-10-02T11:00:00Z')]),
      first.progress,
      ctx,
      now,
    );
    expect(types(next)).toEqual(['service.upgraded']);
  });

  test('a rollback is recognised after the older entry was trimmed from history', () => {
    let progress: AppProgress | undefined;
    progress = detectTransitions(
      makeApp([entry(0, 'v1', '2025-10-02T10:00:00Z')]),
      progress,
      ctx,
      now,
    ).progress;
    progress = detectTransitions(
      makeApp([entry(1, 'v2', '2025-10-02T11:00:00Z')]),
      progress,
      ctx,
      now,
    ).progress;
    const d = detectTransitions(makeApp([entry(2, 'v1', '2025-10-02T12:00:00Z')]), progress, ctx, now);
    expect(types(d)).toEqual(['service.rolledback']);
  });

  test('ids and sources do not depend on who observes: two copies of one app give the same events', () => {
    const principal = makeApp([entry(0, 'aaa', '2025-10-02T10:00:00Z')]);
    const spoke: Application = {
      ...principal,
      metadata: {
        ...principal.metadata,
        uid: 'other-uid',
        annotations: { [SOURCE_UID_ANNOTATION]: principal.metadata.uid ?? '' },
      },
    };
    const a = detectTransitions(principal, undefined, ctx, now).emissions[0]?.event;
    const b = detectTransitions(spoke, undefined, ctx, new Date()).emissions[0]?.event;
    expect(a?.context.id).toBeDefined();
    expect(b?.context.id).toBe(a?.context.id);
    expect(b?.context.source).toBe(a?.context.source);
    expect(b?.context.timestamp).toBe(a?.context.timestamp);
  });

  test('artifactId is a purl, never pkg:git; customData carries the Argo CD facts', () => {
    const d = detectTransitions(makeApp([entry(7, '224f6a2d', '2025-10-02T10:00:00Z')]), undefined, ctx, now);
    const event = d.emissions[0]?.event;
    const content = event?.subject.content as { artifactId: string };
    expect(content.artifactId).toBe('pkg:github/cdviz-dev/demo-cluster@224f6a2d#apps/podinfo');
    expect(isPurl(content.artifactId)).toBe(true);
    expect(event?.customData).toMatchObject({
      argocd: {
        app: 'podinfo',
        project: 'default',
        historyId: 7,
        revision: '224f6a2d',
        syncStatus: 'Synced',
        healthStatus: 'Healthy',
      },
    });
  });

  test('multi-source entries use their revisions; a chart gives a helm purl', () => {
    const multi: RevisionHistory = {
      id: 1,
      revisions: ['6.9.2'],
      deployedAt: '2025-10-02T16:53:20Z',
      source: { repoURL: '' },
      sources: [{ chart: 'podinfo', repoURL: 'ghcr.io/stefanprodan/charts', targetRevision: '6.9.2' }],
    };
    const d = detectTransitions(makeApp([multi]), undefined, ctx, now);
    expect((d.emissions[0]?.event.subject.content as { artifactId: string } | undefined)?.artifactId).toBe(
      'pkg:helm/podinfo@6.9.2?repository_url=ghcr.io%2Fstefanprodan%2Fcharts',
    );
  });

  test('destinations map to cluster names: in-cluster, by server, by name', () => {
    const app = makeApp([entry(0, 'a', '2025-10-02T10:00:00Z')]);
    const remote: Application = {
      ...app,
      spec: { ...app.spec, destination: { server: 'https://10.0.0.7:6443', namespace: 'x' } },
    };
    expect(detectTransitions(remote, undefined, ctx, now).emissions[0]?.cluster).toBe('prod-us');
    const named: Application = {
      ...app,
      spec: { ...app.spec, destination: { name: 'edge-1', namespace: 'x' } },
    };
    expect(detectTransitions(named, undefined, ctx, now).emissions[0]?.cluster).toBe('edge-1');
  });

  test('0.4.1 output when asked', () => {
    const d = detectTransitions(
      makeApp([entry(0, 'a', '2025-10-02T10:00:00Z')]),
      undefined,
      { ...ctx, specVersion: '0.4.1' },
      now,
    );
    expect(d.emissions[0]?.event.context.type).toBe('dev.cdevents.service.deployed.0.2.0');
  });
});

describe('detectTransitions: incidents', () => {
  const failed = (startedAt: string) => ({
    phase: 'Failed',
    message: 'one or more objects failed to apply',
    startedAt,
    finishedAt: startedAt,
  });

  test('a failed sync opens an incident; retries keep it open; the next success resolves it', () => {
    const base = [entry(0, 'a', '2025-10-02T10:00:00Z')];
    const d1 = detectTransitions(
      makeApp(base, { operationState: failed('2025-10-02T11:00:00Z') }),
      undefined,
      ctx,
      now,
    );
    expect(types(d1)).toEqual(['service.deployed', 'incident.detected']);
    const incidentId = d1.emissions[1]?.event.subject.id;
    const d2 = detectTransitions(
      makeApp(base, { operationState: failed('2025-10-02T11:05:00Z') }),
      d1.progress,
      ctx,
      now,
    );
    expect(d2.emissions).toHaveLength(0);
    const ok = { phase: 'Succeeded', startedAt: '2025-10-02T11:10:00Z', finishedAt: '2025-10-02T11:10:05Z' };
    const d3 = detectTransitions(
      makeApp([...base, entry(1, 'b', '2025-10-02T11:10:05Z')], { operationState: ok }),
      d2.progress,
      ctx,
      now,
    );
    expect(types(d3)).toEqual(['service.upgraded', 'incident.resolved']);
    expect(d3.emissions[1]?.event.subject.id).toBe(incidentId);
    expect(d3.emissions[1]?.event.context.timestamp).toBe('2025-10-02T11:10:05Z');
  });

  test('a failed sync that starts in the second the previous operation started is still an incident', () => {
    // Argo CD records startedAt to the second: a success, then a failure, both started at 11:00:00.
    const base = [entry(0, 'a', '2025-10-02T10:00:00Z'), entry(1, 'b', '2025-10-02T11:00:00Z')];
    const ok = {
      phase: 'Succeeded',
      message: 'successfully synced (all tasks run)',
      startedAt: '2025-10-02T11:00:00Z',
      finishedAt: '2025-10-02T11:00:00Z',
      syncResult: { revision: 'b' },
    };
    const d1 = detectTransitions(makeApp(base, { operationState: ok }), undefined, ctx, now);
    expect(types(d1)).toEqual(['service.deployed', 'service.upgraded']);
    // The same state seen again (a relist, another observer's progress): nothing.
    expect(detectTransitions(makeApp(base, { operationState: ok }), d1.progress, ctx, now).emissions).toEqual(
      [],
    );
    const failedNow = {
      phase: 'Failed',
      message: 'one or more objects failed to apply',
      startedAt: '2025-10-02T11:00:00Z',
      finishedAt: '2025-10-02T11:00:00Z',
      syncResult: { revision: 'c' },
    };
    const d2 = detectTransitions(makeApp(base, { operationState: failedNow }), d1.progress, ctx, now);
    expect(types(d2)).toEqual(['incident.detected']);
    // The id is the app's address and startedAt, as the Notifications templates compute it.
    expect(d2.emissions[0]?.event.subject.id).toBe(
      deterministicId(['/argocd/prod-eu/podinfo/podinfo', 'sync-failure', '2025-10-02T11:00:00Z']),
    );
    expect(
      detectTransitions(makeApp(base, { operationState: failedNow }), d2.progress, ctx, now).emissions,
    ).toEqual([]);
    // And a success started in that same second resolves it.
    const fixed = { ...ok, syncResult: { revision: 'd' } };
    const history = [...base, entry(2, 'd', '2025-10-02T11:00:00Z')];
    const d3 = detectTransitions(makeApp(history, { operationState: fixed }), d2.progress, ctx, now);
    expect(types(d3)).toEqual(['service.upgraded', 'incident.resolved']);
    expect(d3.emissions[1]?.event.subject.id).toBe(d2.emissions[0]?.event.subject.id);
  });

  test('progress from an agent that keyed operations by startedAt alone does not repeat the incident', () => {
    const base = [entry(0, 'a', '2025-10-02T10:00:00Z')];
    const op = failed('2025-10-02T11:00:00Z');
    const d1 = detectTransitions(makeApp(base, { operationState: op }), undefined, ctx, now);
    expect(types(d1)).toEqual(['service.deployed', 'incident.detected']);
    const legacy: AppProgress = { ...d1.progress, lastOperation: '2025-10-02T11:00:00Z', syncIncident: null };
    expect(detectTransitions(makeApp(base, { operationState: op }), legacy, ctx, now).emissions).toEqual([]);
  });

  test('an operation newer than reconciledAt waits for the controller', () => {
    const op = { phase: 'Failed', startedAt: '2025-10-02T17:30:00Z', finishedAt: '2025-10-02T17:30:01Z' };
    const stale = makeApp([entry(0, 'a', '2025-10-02T10:00:00Z')], {
      operationState: op,
      reconciledAt: '2025-10-02T17:00:00Z',
    });
    expect(types(detectTransitions(stale, undefined, ctx, now))).toEqual(['service.deployed']);
    const fresh = makeApp([entry(0, 'a', '2025-10-02T10:00:00Z')], {
      operationState: op,
      reconciledAt: '2025-10-02T17:31:00Z',
    });
    expect(types(detectTransitions(fresh, undefined, ctx, now))).toEqual([
      'service.deployed',
      'incident.detected',
    ]);
  });

  test('Degraded becomes an incident only after the debounce; Healthy resolves it', () => {
    const degraded = makeApp([entry(0, 'a', '2025-10-02T10:00:00Z')], {
      health: {
        status: 'Degraded',
        message: 'Deployment exceeded its progress deadline',
        lastTransitionTime: '2025-10-02T17:59:50Z',
      },
    });
    const early = detectTransitions(degraded, undefined, ctx, now);
    expect(types(early)).toEqual(['service.deployed']);
    expect(early.recheckAt?.toISOString()).toBe('2025-10-02T18:00:20.000Z');
    const late = detectTransitions(degraded, early.progress, ctx, new Date('2025-10-02T18:00:21Z'));
    expect(types(late)).toEqual(['incident.detected']);
    expect(late.emissions[0]?.event.context.timestamp).toBe('2025-10-02T17:59:50Z');
    const healthy = makeApp([entry(0, 'a', '2025-10-02T10:00:00Z')], {
      health: { status: 'Healthy', lastTransitionTime: '2025-10-02T18:05:00Z' },
    });
    const resolved = detectTransitions(healthy, late.progress, ctx, new Date('2025-10-02T18:06:00Z'));
    expect(types(resolved)).toEqual(['incident.resolved']);
    expect(resolved.emissions[0]?.event.subject.id).toBe(late.emissions[0]?.event.subject.id);
  });

  test('what the agent remembers of an app gives the same recheck and removal as the whole app', () => {
    const degraded = makeApp([entry(0, 'a', '2025-10-02T10:00:00Z'), entry(1, 'b', '2025-10-02T11:00:00Z')], {
      health: { status: 'Degraded', message: 'CrashLoopBackOff', lastTransitionTime: '2025-10-02T17:59:50Z' },
      operationState: {
        phase: 'Failed',
        message: 'one or more objects failed to apply',
        startedAt: '2025-10-02T17:59:00Z',
        finishedAt: '2025-10-02T17:59:05Z',
      },
      reconciledAt: '2025-10-02T17:59:30Z',
    });
    const app: Application = {
      ...degraded,
      metadata: {
        ...degraded.metadata,
        annotations: {
          [SOURCE_UID_ANNOTATION]: 'origin-uid',
          'argus.dev/service': 'podinfo-svc',
          other: 'x',
        },
      },
    };
    const early = detectTransitions(app, undefined, ctx, now);
    expect(types(early)).toEqual(['service.deployed', 'service.upgraded', 'incident.detected']);
    const remembered = rememberedApp(app);
    expect(JSON.stringify(remembered).length).toBeLessThan(JSON.stringify(app).length / 2);
    const later = new Date('2025-10-02T18:00:21Z');
    const whole = detectTransitions(app, early.progress, ctx, later);
    const kept = detectTransitions(remembered, early.progress, ctx, later);
    expect(types(whole)).toEqual(['incident.detected']);
    expect(kept.emissions.map((e) => e.event)).toEqual(whole.emissions.map((e) => e.event));
    expect(kept.progress).toEqual(whole.progress);
    expect(removalEmission(remembered, kept.progress, ctx, later)).toEqual(
      removalEmission(app, whole.progress, ctx, later),
    );
  });

  test('Progressing, Missing and Unknown are not incidents', () => {
    for (const status of ['Progressing', 'Missing', 'Unknown', 'Suspended']) {
      const app = makeApp([], { health: { status, lastTransitionTime: '2025-10-01T00:00:00Z' } });
      expect(detectTransitions(app, undefined, ctx, now).emissions).toHaveLength(0);
    }
  });

  test('a deletion timestamp removes the service once', () => {
    const app = makeApp([entry(0, 'a', '2025-10-02T10:00:00Z')]);
    const deleting: Application = {
      ...app,
      metadata: { ...app.metadata, deletionTimestamp: '2025-10-02T17:05:10Z' },
    };
    const d = detectTransitions(deleting, undefined, ctx, now);
    expect(types(d)).toEqual(['service.deployed', 'service.removed']);
    expect(d.emissions[1]?.event.context.timestamp).toBe('2025-10-02T17:05:10Z');
    expect(detectTransitions(deleting, d.progress, ctx, now).emissions).toHaveLength(0);
  });
});
