import { describe, expect, test } from 'vitest';
import { type Application, type ArgoCdVersion, SimulatedArgoCD } from '../src/index.js';

const T0 = Date.UTC(2026, 0, 1, 15, 0, 0);
const stamp = (ms: number) => `${new Date(T0 + ms).toISOString().slice(0, 19)}Z`;

const simAt = (version: ArgoCdVersion = '3.1', limit?: number) => {
  let now = T0;
  const sim = new SimulatedArgoCD({ name: 'argo', version, clock: () => new Date(now) });
  sim.createApp({
    name: 'guestbook',
    destination: { server: 'https://kubernetes.default.svc', namespace: 'guestbook' },
    source: {
      repoURL: 'https://github.com/argoproj/argocd-example-apps',
      path: 'guestbook',
      targetRevision: 'HEAD',
    },
    ...(limit === undefined ? {} : { revisionHistoryLimit: limit }),
  });
  return { sim, advance: (ms: number) => (now += ms) };
};

type OpState = {
  phase: string;
  message: string;
  finishedAt?: string;
  retryCount?: number;
  syncResult?: unknown;
  operation: { retry: { limit?: number }; sync: Record<string, unknown> };
};
const op = (app: Application | undefined): OpState => app?.status.operationState as OpState;

const FAIL = 'one or more objects failed to apply, reason: Deployment.apps "guestbook-ui" is invalid';

describe('failed syncs and retries (controller/appcontroller.go processRequestedAppOperation)', () => {
  test('an auto-sync carries retry {limit: 5}; a failed attempt with retries left is Running with finishedAt, retryCount and "Retrying attempt #N"', () => {
    const { sim, advance } = simAt('3.0');
    const app = sim.sync('guestbook', { revision: 'a', automated: true, fail: FAIL });
    expect(op(app)).toMatchObject({
      phase: 'Running',
      finishedAt: stamp(0),
      retryCount: 1,
      // v3.0.0: "%s. Retrying attempt #%d at %s." with time.Kitchen; first wait 5 s (application_defaults.go).
      message: `${FAIL}. Retrying attempt #1 at 3:00PM.`,
      operation: { retry: { limit: 5 }, initiatedBy: { automated: true } },
    });
    // No refresh is requested for a Running state.
    expect(app.status.reconciledAt).toBe(stamp(0));
    advance(5_000);
    const updates: Application[] = [];
    const stop = sim.subscribe((e) => updates.push(e.app));
    sim.retrySync('guestbook', { fail: FAIL });
    stop();
    // The retry first clears finishedAt and syncResult, then the attempt fails again.
    expect(op(updates[0]).finishedAt).toBeUndefined();
    expect(op(updates[0]).syncResult).toBeUndefined();
    expect(op(updates[1])).toMatchObject({ phase: 'Running', retryCount: 2 });
    for (let i = 0; i < 3; i++) sim.retrySync('guestbook', { fail: FAIL });
    const last = sim.retrySync('guestbook', { fail: FAIL });
    expect(op(last)).toMatchObject({ phase: 'Failed', retryCount: 5, message: `${FAIL} (retried 5 times).` });
    expect(last.status.history).toBeUndefined();
    // autoSync then refuses the same revision: SyncError "Failed sync attempt to <rev>: <message>".
    expect(last.status.conditions).toEqual([
      {
        type: 'SyncError',
        message: `Failed sync attempt to a: ${FAIL} (retried 5 times).`,
        lastTransitionTime: stamp(5_000),
      },
    ]);
  });

  test('3.1.x words the retry as a controller sync timeout (v3.1.0 appcontroller.go; 3.2 reverted it)', () => {
    const { sim } = simAt('3.1');
    const app = sim.sync('guestbook', { revision: 'a', automated: true, fail: FAIL });
    expect(op(app).message).toBe(
      `${FAIL} due to application controller sync timeout. Retrying attempt #1 at 3:00PM.`,
    );
  });

  test('3.2+ went back to "<msg>. Retrying attempt #N" (v3.2.0 controller/appcontroller.go)', () => {
    const { sim } = simAt('3.2');
    const app = sim.sync('guestbook', { revision: 'a', automated: true, fail: FAIL });
    expect(op(app).message).toBe(`${FAIL}. Retrying attempt #1 at 3:00PM.`);
  });

  test('spec.syncPolicy.retry replaces the default, with its backoff; limit -1 retries for ever', () => {
    let now = T0;
    const sim = new SimulatedArgoCD({ name: 'argo', version: '2.8', clock: () => new Date(now) });
    sim.createApp({
      name: 'x',
      destination: { namespace: 'x' },
      source: { repoURL: 'https://github.com/x/y' },
      retry: { limit: -1, backoff: { duration: '1m', factor: 2, maxDuration: '3m' } },
    });
    sim.sync('x', { revision: 'a', automated: true, fail: 'boom' });
    for (let i = 0; i < 20; i++) {
      now += 60_000;
      sim.retrySync('x', { fail: 'boom' });
    }
    const state = op(sim.get('x'));
    expect(state).toMatchObject({ phase: 'Running', retryCount: 21, operation: { retry: { limit: -1 } } });
    // Capped at maxDuration: 3 minutes after the last attempt (15:20 + 3 min).
    expect(state.message).toBe('boom. Retrying attempt #21 at 3:23PM.');
  });

  test('a manual sync without retry fails at once (retry {})', () => {
    const { sim } = simAt();
    expect(
      op(sim.sync('guestbook', { revision: 'a', fail: FAIL, initiatedBy: { username: 'admin' } })),
    ).toMatchObject({
      phase: 'Failed',
      message: FAIL,
      operation: { retry: {} },
    });
  });

  test('Error phase, and Terminate: Terminating, then Failed "Operation terminated" (gitops-engine pkg/sync/sync_context.go)', () => {
    const { sim } = simAt();
    expect(
      op(sim.sync('guestbook', { revision: 'a', error: 'application destination is not permitted' })).phase,
    ).toBe('Error');
    sim.sync('guestbook', { revision: 'b', hold: true });
    const phases: string[] = [];
    const stop = sim.subscribe((e) => phases.push(op(e.app).phase));
    const app = sim.terminate('guestbook');
    stop();
    expect(phases.slice(0, 2)).toEqual(['Terminating', 'Failed']);
    expect(op(app).message).toBe('Operation terminated');
    sim.sync('guestbook', { revision: 'c', automated: true, fail: FAIL });
    expect(op(sim.terminate('guestbook')).message).toBe('Operation terminated (retried 1 times).');
  });
});

test('--sync-timeout (2.14+): Terminating "operation is terminating due to timeout", then a failed attempt that is retried (appcontroller.go, #20816)', () => {
  const { sim } = simAt('3.1');
  sim.sync('guestbook', { revision: 'a', automated: true, hold: true });
  const states: OpState[] = [];
  sim.subscribe((e) => states.push(op(e.app)));
  sim.timeOut('guestbook');
  expect(states.map((s) => [s.phase, s.message])).toEqual([
    ['Terminating', 'operation is terminating due to timeout'],
    [
      'Running',
      'Operation terminated due to application controller sync timeout. Retrying attempt #1 at 3:00PM.',
    ],
  ]);
  const old = simAt('2.8').sim;
  old.sync('guestbook', { revision: 'a', hold: true });
  expect(() => old.timeOut('guestbook')).toThrow(/2\.14\+/);
});

describe('history (controller/state.go persistRevisionHistory, controller/sync.go SyncAppState)', () => {
  test('a sync is the request (operation set, operationState dropped: util/argo/argo.go SetAppOperation), Running, the history patch (still Running), Succeeded (operation cleared), then the refresh', () => {
    const { sim } = simAt();
    sim.sync('guestbook', { revision: 'a', dryRun: true });
    const updates: Application[] = [];
    sim.subscribe((e) => updates.push(e.app));
    sim.sync('guestbook', { revision: 'a' });
    expect(
      updates.map((u) => [
        u.operation === undefined ? '-' : 'operation',
        op(u)?.phase ?? '-',
        u.status.history?.length ?? 0,
        (u.status.sync as { status: string }).status,
      ]),
    ).toEqual([
      ['operation', '-', 0, 'OutOfSync'],
      ['operation', 'Running', 0, 'OutOfSync'],
      ['operation', 'Running', 1, 'OutOfSync'],
      ['-', 'Succeeded', 1, 'OutOfSync'],
      ['-', 'Succeeded', 1, 'Synced'],
    ]);
  });

  test('revisionHistoryLimit 0 leaves the history empty (Trunc(0)); ids restart at 0 once it is empty', () => {
    const { sim } = simAt('3.1', 0);
    sim.sync('guestbook', { revision: 'a' });
    expect(sim.sync('guestbook', { revision: 'b' }).status.history).toEqual([]);
    const other = simAt('3.1', 2).sim;
    for (const r of ['a', 'b', 'c']) other.sync('guestbook', { revision: r });
    expect(other.get('guestbook')?.status.history?.map((h) => h.id)).toEqual([1, 2]);
    other.replaceWithoutStatus('guestbook');
    expect(other.sync('guestbook', { revision: 'd' }).status.history?.map((h) => h.id)).toEqual([0]);
  });

  test('dry-run and partial syncs end Succeeded with no history entry', () => {
    const { sim } = simAt();
    const dry = sim.sync('guestbook', { revision: 'a', dryRun: true });
    expect(op(dry)).toMatchObject({ phase: 'Succeeded', operation: { sync: { dryRun: true } } });
    const partial = sim.sync('guestbook', {
      revision: 'a',
      resources: [{ group: 'apps', kind: 'Deployment', name: 'guestbook-ui' }],
    });
    expect(op(partial).phase).toBe('Succeeded');
    expect(partial.status.history).toBeUndefined();
  });

  test('initiatedBy in history only from 2.11 (upgrading/2.10-2.11.md)', () => {
    expect(
      simAt('2.8').sim.sync('guestbook', { revision: 'a' }).status.history?.[0]?.initiatedBy,
    ).toBeUndefined();
    expect(simAt('2.14').sim.sync('guestbook', { revision: 'a' }).status.history?.[0]?.initiatedBy).toEqual({
      automated: true,
    });
  });

  test('same revision, changed Helm values: a new entry with the same revision and the new source (as fixture 017)', () => {
    const { sim } = simAt();
    sim.createApp({
      name: 'podinfo',
      destination: { namespace: 'podinfo' },
      sources: [{ repoURL: 'ghcr.io/stefanprodan/charts', chart: 'podinfo', targetRevision: '6.9.0' }],
    });
    sim.sync('podinfo', { revisions: ['6.9.0'] });
    sim.updateSource('podinfo', { helm: { valuesObject: { image: { tag: '6.9.1' } } } });
    const history = sim.sync('podinfo', { revisions: ['6.9.0'] }).status.history ?? [];
    expect(history.map((h) => h.revisions)).toEqual([['6.9.0'], ['6.9.0']]);
    expect(history[0]?.sources?.[0]?.helm).toBeUndefined();
    expect(history[1]).toMatchObject({
      source: { repoURL: '' },
      sources: [{ targetRevision: '6.9.0', helm: { valuesObject: { image: { tag: '6.9.1' } } } }],
    });
  });

  test('multi-source history keeps the spec targetRevision (HEAD), not the resolved revision', () => {
    const { sim } = simAt();
    sim.createApp({
      name: 'multi',
      destination: { namespace: 'm' },
      sources: [{ repoURL: 'https://github.com/x/values', targetRevision: 'HEAD' }],
    });
    expect(
      sim.sync('multi', { revisions: ['0d521c6e'] }).status.history?.[0]?.sources?.[0]?.targetRevision,
    ).toBe('HEAD');
  });
});

describe('conditions (types.go SetConditions)', () => {
  test('ComparisonError: sync Unknown, no operation, time kept while the message is the same; cleared by a fix', () => {
    const { sim, advance } = simAt();
    sim.sync('guestbook', { revision: 'a' });
    const broken = sim.comparisonError('guestbook');
    expect((broken.status.sync as { status: string }).status).toBe('Unknown');
    expect(op(broken).phase).toBe('Succeeded');
    advance(60_000);
    const again = sim.comparisonError('guestbook');
    expect(again.status.conditions).toEqual(broken.status.conditions);
    expect((again.status.conditions as { lastTransitionTime: string }[])[0]?.lastTransitionTime).toBe(
      stamp(0),
    );
    const fixed = sim.clearConditions('guestbook');
    expect(fixed.status.conditions).toBeUndefined();
    expect((fixed.status.sync as { status: string }).status).toBe('OutOfSync');
  });
});
