/**
 * The detector against the shapes real Argo CD releases write (../shared/argocd-fidelity.md, read in
 * Argo CD's source at the tags named per test), not against our simulator's.
 */
import { isCDEvent } from '@argus/cdevents';
import { describe, expect, test } from 'vitest';
import { compareResourceVersion } from '../src/argocd/resource-version.js';
import { type OperationState, type RevisionHistory, SOURCE_UID_ANNOTATION } from '../src/argocd/types.js';
import {
  type Application,
  type AppProgress,
  type DetectorContext,
  detectTransitions,
  isPurl,
  logicalUid,
  rememberedApp,
} from '../src/index.js';
import { syncStatusRefreshed } from '../src/transitions/detect.js';
import { queryEscape } from '../src/transitions/identity.js';
import { operationOutcome } from '../src/transitions/operations.js';
import { readProgress } from '../src/transitions/progress.js';

const ctx: DetectorContext = {
  inClusterName: 'prod-eu',
  clusterNames: new Map(),
  specVersion: '0.5.1',
  healthDebounceMs: 30_000,
  emitResyncs: false,
};

const REPO = 'https://github.com/acme/deploy';

const entry = (
  id: number,
  revision: string,
  at: string,
  extra: Partial<RevisionHistory> = {},
): RevisionHistory => ({
  id,
  revision,
  deployStartedAt: at,
  deployedAt: at,
  source: { repoURL: REPO, path: 'cart', targetRevision: 'HEAD' },
  ...extra,
});

type Status = NonNullable<Application['status']>;

/**
 * An Application as a 2.4-2.13 controller stores it: no `health.lastTransitionTime`, no app-level
 * health message, resource health in `status.resources`.
 */
const app = (status: Partial<Status> = {}, overrides: Partial<Application> = {}): Application => ({
  metadata: { name: 'cart', namespace: 'argocd', uid: 'uid-cart', resourceVersion: '100' },
  spec: {
    project: 'shop',
    destination: { server: 'https://kubernetes.default.svc', namespace: 'shop' },
    source: { repoURL: REPO, path: 'cart', targetRevision: 'HEAD' },
  },
  status: {
    history: [entry(0, 'aaa', '2026-01-01T10:00:00Z')],
    sync: { status: 'Synced', revision: 'aaa' },
    health: { status: 'Healthy' },
    reconciledAt: '2026-01-01T10:00:05Z',
    ...status,
  },
  ...overrides,
});

const kinds = (d: { emissions: readonly { event: { context: { type: string } } }[] }) =>
  d.emissions.map((e) => e.event.context.type.split('.').slice(2, 4).join('.'));

const at = (iso: string) => new Date(iso);

/** Degraded `deployment` resource health, as 2.4-2.14 store it (3.0+ only on the API stream). */
const DEGRADED_RESOURCES = [
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    namespace: 'shop',
    name: 'cart',
    status: 'Synced',
    health: { status: 'Degraded', message: 'Deployment "cart" exceeded its progress deadline' },
  },
  {
    version: 'v1',
    kind: 'Service',
    namespace: 'shop',
    name: 'cart',
    status: 'Synced',
    health: { status: 'Healthy' },
  },
];

describe('health without lastTransitionTime (2.4-2.13; 2.14.12+, 3.0.3+, 3.1+ until health changes)', () => {
  test('Degraded becomes one incident after the debounce, counted from when the agent first saw it', () => {
    const degraded = app({ health: { status: 'Degraded' }, resources: DEGRADED_RESOURCES });
    const base = detectTransitions(app(), undefined, ctx, at('2026-01-01T10:01:00Z')).progress;
    const first = detectTransitions(degraded, base, ctx, at('2026-01-01T11:00:00Z'));
    expect(kinds(first)).toEqual([]);
    expect(first.progress.degradedSince).toBe('2026-01-01T11:00:00.000Z');
    expect(first.recheckAt?.toISOString()).toBe('2026-01-01T11:00:30.000Z');
    // The recheck, from what the agent remembers of the app, and after a restart (progress as saved):
    const saved = readProgress(JSON.parse(JSON.stringify(first.progress)));
    const early = detectTransitions(rememberedApp(degraded), saved, ctx, at('2026-01-01T11:00:20Z'));
    expect(kinds(early)).toEqual([]);
    expect(early.recheckAt?.toISOString()).toBe('2026-01-01T11:00:30.000Z');
    const due = detectTransitions(rememberedApp(degraded), saved, ctx, at('2026-01-01T11:00:30Z'));
    expect(kinds(due)).toEqual(['incident.detected']);
    const incident = due.emissions[0]?.event;
    expect(incident?.context.timestamp).toBe('2026-01-01T11:00:00.000Z');
    const content = incident?.subject.content as { description?: string };
    expect(content.description).toBe(
      'health degraded: apps/Deployment shop/cart: Deployment "cart" exceeded its progress deadline',
    );
    expect(due.progress.degradedSince).toBeNull();
    // Seen again: nothing more; Healthy resolves the same incident.
    expect(kinds(detectTransitions(degraded, due.progress, ctx, at('2026-01-01T11:05:00Z')))).toEqual([]);
    const healed = detectTransitions(app(), due.progress, ctx, at('2026-01-01T11:10:00Z'));
    expect(kinds(healed)).toEqual(['incident.resolved']);
    expect(healed.emissions[0]?.event.subject.id).toBe(incident?.subject.id);
  });

  test('a Degraded spell shorter than the debounce is forgotten, and the next one starts anew', () => {
    const degraded = app({ health: { status: 'Degraded' } });
    const first = detectTransitions(degraded, undefined, ctx, at('2026-01-01T11:00:00Z'));
    const progressing = detectTransitions(
      app({ health: { status: 'Progressing' } }),
      first.progress,
      ctx,
      at('2026-01-01T11:00:10Z'),
    );
    expect(progressing.progress.degradedSince).toBeNull();
    const again = detectTransitions(degraded, progressing.progress, ctx, at('2026-01-01T11:00:40Z'));
    expect(kinds(again)).toEqual([]);
    expect(again.progress.degradedSince).toBe('2026-01-01T11:00:40.000Z');
  });

  test('with lastTransitionTime (2.14+), two observers started apart give the same incident id', () => {
    const degraded = app({
      health: { status: 'Degraded', lastTransitionTime: '2026-01-01T11:00:00Z' },
      resources: DEGRADED_RESOURCES,
    });
    const a = detectTransitions(degraded, undefined, ctx, at('2026-01-01T11:01:00Z'));
    const b = detectTransitions(degraded, undefined, ctx, at('2026-01-01T15:00:00Z'));
    const incident = (d: typeof a) =>
      d.emissions.find((e) => e.event.context.type.includes('incident'))?.event;
    expect(incident(a)?.context.id).toBeDefined();
    expect(incident(a)?.context.id).toBe(incident(b)?.context.id);
    expect(incident(a)?.context.timestamp).toBe('2026-01-01T11:00:00Z');
  });

  test('3.0+ keeps resource health out of the Application: the description says so instead of "no message"', () => {
    const degraded = app({
      health: { status: 'Degraded', lastTransitionTime: '2026-01-01T11:00:00Z' },
      resources: [{ group: 'apps', kind: 'Deployment', namespace: 'shop', name: 'cart', status: 'Synced' }],
    });
    const d = detectTransitions(degraded, undefined, ctx, at('2026-01-01T12:00:00Z'));
    const content = d.emissions.at(-1)?.event.subject.content as { description?: string };
    expect(content.description).toMatch(/^health degraded \(Argo CD did not say which resource/);
  });
});

/** A sync operation as controller/appcontroller.go `processRequestedAppOperation` writes it. */
const operation = (fields: Record<string, unknown>): OperationState =>
  ({
    operation: { sync: { revision: 'bbb' }, initiatedBy: { automated: true }, retry: { limit: 5 } },
    startedAt: '2026-01-01T12:00:00Z',
    ...fields,
  }) as OperationState;

describe('sync failures and retries (every release)', () => {
  const attempt = (n: number, finishedAt: string) =>
    operation({
      phase: 'Running',
      finishedAt,
      retryCount: n,
      message: `one or more objects failed to apply. Retrying attempt #${n} at 12:0${n}PM.`,
    });

  test('the first failed attempt opens the incident, later attempts do not, the success resolves it', () => {
    let progress = detectTransitions(app(), undefined, ctx, at('2026-01-01T11:00:00Z')).progress;
    const first = detectTransitions(
      app({ operationState: attempt(1, '2026-01-01T12:00:05Z') }),
      progress,
      ctx,
      at('2026-01-01T12:00:06Z'),
    );
    expect(kinds(first)).toEqual(['incident.detected']);
    const incident = first.emissions[0]?.event;
    expect(incident?.context.timestamp).toBe('2026-01-01T12:00:05Z');
    expect(((incident?.subject.content ?? {}) as { description?: string }).description).toMatch(
      /^sync attempt failed: /,
    );
    progress = first.progress;
    // The retry clears finishedAt (Running, nothing happened yet), then fails again: limit -1 retries for ever.
    for (let n = 2; n < 30; n++) {
      const running = operation({
        phase: 'Running',
        retryCount: n - 1,
        message: 'one or more tasks are running',
      });
      progress = detectTransitions(
        app({ operationState: running }),
        progress,
        ctx,
        at('2026-01-01T12:10:00Z'),
      ).progress;
      const failed = detectTransitions(
        app({ operationState: attempt(n, `2026-01-01T12:${String(n).padStart(2, '0')}:00Z`) }),
        progress,
        ctx,
        at('2026-01-01T13:00:00Z'),
      );
      expect(kinds(failed)).toEqual([]);
      progress = failed.progress;
    }
    const success = app({
      history: [entry(0, 'aaa', '2026-01-01T10:00:00Z'), entry(1, 'bbb', '2026-01-01T12:00:00Z')],
      operationState: operation({
        phase: 'Succeeded',
        finishedAt: '2026-01-01T12:40:00Z',
        retryCount: 29,
        message: 'successfully synced (all tasks run)',
      }),
      reconciledAt: '2026-01-01T12:40:01Z',
    });
    const done = detectTransitions(success, progress, ctx, at('2026-01-01T12:40:02Z'));
    expect(kinds(done)).toEqual(['service.upgraded', 'incident.resolved']);
    expect(done.emissions[1]?.event.subject.id).toBe(incident?.subject.id);
  });

  test('health is evaluated while a retry is pending', () => {
    const degraded = app({
      health: { status: 'Degraded', lastTransitionTime: '2026-01-01T12:00:10Z' },
      operationState: attempt(1, '2026-01-01T12:00:05Z'),
      reconciledAt: '2026-01-01T11:59:00Z',
    });
    expect(syncStatusRefreshed(degraded)).toBe(true);
    const d = detectTransitions(degraded, undefined, ctx, at('2026-01-01T12:05:00Z'));
    expect(kinds(d)).toEqual(['service.deployed', 'incident.detected', 'incident.detected']);
    const causes = d.emissions
      .slice(1)
      .map((e) => (e.event.customData as { argocd: { cause: string } }).argocd.cause);
    expect(causes).toEqual(['sync', 'health']);
  });

  test('a dry run or a partial sync neither resolves nor deploys; a Terminate is no incident', () => {
    const failed = operation({
      phase: 'Failed',
      finishedAt: '2026-01-01T12:00:05Z',
      message: 'one or more objects failed to apply (retried 5 times).',
    });
    const open = detectTransitions(
      app({ operationState: failed, reconciledAt: '2026-01-01T12:00:06Z' }),
      undefined,
      ctx,
      at('2026-01-01T12:01:00Z'),
    );
    expect(kinds(open)).toEqual(['service.deployed', 'incident.detected']);
    const dryRun = operation({
      phase: 'Succeeded',
      startedAt: '2026-01-01T12:10:00Z',
      finishedAt: '2026-01-01T12:10:01Z',
      operation: { sync: { revision: 'ccc', dryRun: true } },
    });
    const partial = operation({
      phase: 'Succeeded',
      startedAt: '2026-01-01T12:20:00Z',
      finishedAt: '2026-01-01T12:20:01Z',
      operation: {
        sync: { revision: 'ccc', resources: [{ group: 'apps', kind: 'Deployment', name: 'cart' }] },
      },
    });
    let progress = open.progress;
    for (const op of [dryRun, partial]) {
      const d = detectTransitions(
        app({ operationState: op, reconciledAt: '2026-01-01T13:00:00Z' }),
        progress,
        ctx,
        at('2026-01-01T13:00:00Z'),
      );
      expect(kinds(d)).toEqual([]);
      expect(d.progress.syncIncident).not.toBeNull();
      progress = d.progress;
    }
    expect(operationOutcome(dryRun)).toBe('dry-run');
    expect(operationOutcome(partial)).toBe('partial-success');
    const terminated = operation({
      phase: 'Failed',
      finishedAt: '2026-01-01T12:30:01Z',
      message: 'Operation terminated',
    });
    expect(operationOutcome(terminated)).toBe('terminated');
    const fresh = detectTransitions(
      app({ operationState: terminated, reconciledAt: '2026-01-01T12:30:02Z' }),
      undefined,
      ctx,
      at('2026-01-01T13:00:00Z'),
    );
    expect(kinds(fresh)).toEqual(['service.deployed']);
  });

  test('the Notifications guard, exactly: only a completed phase finished after reconciledAt and observedAt waits', () => {
    const done = (fields: Partial<Status>) => app(fields);
    const finished = operation({ phase: 'Succeeded', finishedAt: '2026-01-01T12:00:10Z' });
    expect(
      syncStatusRefreshed(done({ operationState: finished, reconciledAt: '2026-01-01T12:00:05Z' })),
    ).toBe(false);
    expect(
      syncStatusRefreshed(done({ operationState: finished, reconciledAt: '2026-01-01T12:00:10Z' })),
    ).toBe(true);
    expect(
      syncStatusRefreshed(
        done({
          operationState: finished,
          reconciledAt: '2026-01-01T12:00:05Z',
          observedAt: '2026-01-01T12:00:20Z',
        }),
      ),
    ).toBe(true);
    const noReconcile = app({ operationState: finished });
    delete noReconcile.status?.reconciledAt;
    expect(syncStatusRefreshed(noReconcile)).toBe(false);
    expect(syncStatusRefreshed(done({ operationState: operation({ phase: 'Failed' }) }))).toBe(false);
    expect(
      syncStatusRefreshed(
        done({ operationState: operation({ phase: 'Terminating', finishedAt: '2026-01-01T12:00:10Z' }) }),
      ),
    ).toBe(true);
  });
});

describe('errors outside operations: status.conditions, hydration', () => {
  const comparisonError = {
    type: 'ComparisonError',
    message:
      'Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: helm template . failed',
    lastTransitionTime: '2026-01-01T12:00:00Z',
  };

  test('a ComparisonError lasting the debounce is an incident; its clearing resolves it; warnings are not', () => {
    const broken = app({
      conditions: [comparisonError, { type: 'OrphanedResourceWarning', message: 'x' }],
      sync: { status: 'Unknown' },
    });
    const early = detectTransitions(broken, undefined, ctx, at('2026-01-01T12:00:10Z'));
    expect(kinds(early)).toEqual(['service.deployed']);
    expect(early.recheckAt?.toISOString()).toBe('2026-01-01T12:00:30.000Z');
    const due = detectTransitions(broken, early.progress, ctx, at('2026-01-01T12:00:31Z'));
    expect(kinds(due)).toEqual(['incident.detected']);
    expect(((due.emissions[0]?.event.subject.content ?? {}) as { description: string }).description).toMatch(
      /^ComparisonError: Failed to load target state/,
    );
    const fixed = detectTransitions(
      app({ reconciledAt: '2026-01-01T12:05:00Z' }),
      due.progress,
      ctx,
      at('2026-01-01T12:05:01Z'),
    );
    expect(kinds(fixed)).toEqual(['incident.resolved']);
    expect(fixed.emissions[0]?.event.context.timestamp).toBe('2026-01-01T12:05:00Z');
    expect(fixed.emissions[0]?.event.subject.id).toBe(due.emissions[0]?.event.subject.id);
    expect(
      kinds(
        detectTransitions(
          app({ conditions: [{ type: 'SharedResourceWarning', message: 'x' }] }),
          fixed.progress,
          ctx,
          at('2026-01-01T13:00:00Z'),
        ),
      ),
    ).toEqual([]);
  });

  test("auto-sync's SyncError about a failed attempt repeats the failed operation: one incident, not two", () => {
    const failed = operation({
      phase: 'Failed',
      finishedAt: '2026-01-01T12:00:05Z',
      message: 'one or more objects failed to apply',
    });
    const echo = {
      type: 'SyncError',
      message: 'Failed sync attempt to bbb: one or more objects failed to apply',
      lastTransitionTime: '2026-01-01T12:00:06Z',
    };
    const d = detectTransitions(
      app({ operationState: failed, conditions: [echo], reconciledAt: '2026-01-01T12:00:06Z' }),
      undefined,
      ctx,
      at('2026-01-01T13:00:00Z'),
    );
    expect(kinds(d)).toEqual(['service.deployed', 'incident.detected']);
    const wipe = { ...echo, message: 'Skipping sync attempt to bbb: auto-sync will wipe out all resources' };
    expect(
      kinds(detectTransitions(app({ conditions: [wipe] }), d.progress, ctx, at('2026-01-01T13:00:00Z'))),
    ).toEqual(['incident.detected']);
  });

  test('a failed source hydration (2.14+) is an incident though no operation ran', () => {
    const failing = app({
      sourceHydrator: {
        currentOperation: {
          phase: 'Failed',
          message: 'failed to hydrate: kustomize build failed',
          startedAt: '2026-01-01T12:00:00Z',
          finishedAt: '2026-01-01T12:00:02Z',
          drySHA: 'dry2',
        },
      },
    });
    const d = detectTransitions(failing, undefined, ctx, at('2026-01-01T12:10:00Z'));
    expect(kinds(d)).toEqual(['service.deployed', 'incident.detected']);
    expect(((d.emissions[1]?.event.subject.content ?? {}) as { description: string }).description).toBe(
      'HydrationError: failed to hydrate: kustomize build failed',
    );
  });
});

describe('deployments', () => {
  test('revisionHistoryLimit 0 keeps no history: a complete successful sync is the deployment', () => {
    const spec = { ...app().spec, revisionHistoryLimit: 0 };
    const synced = (rev: string, startedAt: string) =>
      app(
        {
          history: [],
          operationState: operation({
            phase: 'Succeeded',
            startedAt,
            finishedAt: startedAt.replace(':00Z', ':09Z'),
            operation: { sync: { revision: rev } },
            syncResult: { revision: rev, source: { repoURL: REPO, path: 'cart', targetRevision: 'HEAD' } },
          }),
          reconciledAt: '2026-01-02T00:00:00Z',
        },
        { spec },
      );
    const first = detectTransitions(
      synced('aaa', '2026-01-01T10:00:00Z'),
      undefined,
      ctx,
      at('2026-01-01T10:01:00Z'),
    );
    expect(kinds(first)).toEqual(['service.deployed']);
    expect(first.emissions[0]?.event.context.timestamp).toBe('2026-01-01T10:00:09Z');
    const resync = detectTransitions(
      synced('aaa', '2026-01-01T11:00:00Z'),
      first.progress,
      ctx,
      at('2026-01-01T11:01:00Z'),
    );
    expect(kinds(resync)).toEqual([]);
    const next = detectTransitions(
      synced('bbb', '2026-01-01T12:00:00Z'),
      resync.progress,
      ctx,
      at('2026-01-01T12:01:00Z'),
    );
    expect(kinds(next)).toEqual(['service.upgraded']);
    const back = detectTransitions(
      synced('aaa', '2026-01-01T13:00:00Z'),
      next.progress,
      ctx,
      at('2026-01-01T13:01:00Z'),
    );
    expect(kinds(back)).toEqual(['service.rolledback']);
  });

  test('one revision with new Helm values is a deployment whose artifact shows the change (Image Updater write-back)', () => {
    // The shape of argocd-fixtures/cdviz-notifications-captured/017: ids 0 and 1 both 6.9.0, id 1 with valuesObject.
    const chart = { repoURL: 'ghcr.io/stefanprodan/charts', chart: 'podinfo', targetRevision: '6.9.0' };
    const h0 = entry(0, '', '2025-10-02T16:21:00Z', {
      revisions: ['6.9.0'],
      source: { repoURL: '' },
      sources: [chart],
    });
    const h1 = entry(1, '', '2025-10-02T16:53:19Z', {
      revisions: ['6.9.0'],
      source: { repoURL: '' },
      sources: [{ ...chart, helm: { valuesObject: { securityContext: { runAsUser: 100 } } } }],
    });
    const first = detectTransitions(app({ history: [h0] }), undefined, ctx, at('2025-10-02T16:30:00Z'));
    const d = detectTransitions(app({ history: [h0, h1] }), first.progress, ctx, at('2025-10-02T17:00:00Z'));
    expect(kinds(d)).toEqual(['service.upgraded']);
    const artifact = (e: (typeof d.emissions)[number] | undefined) =>
      ((e?.event.subject.content ?? {}) as { artifactId: string }).artifactId;
    expect(artifact(first.emissions[0])).toBe(
      'pkg:helm/podinfo@6.9.0?repository_url=ghcr.io%2Fstefanprodan%2Fcharts',
    );
    expect(artifact(d.emissions[0])).toMatch(
      /^pkg:helm\/podinfo@6\.9\.0\?argocd_rendering=[0-9a-f]{16}&repository_url=/,
    );
    expect(isPurl(artifact(d.emissions[0]))).toBe(true);
    // The same values synced again is a re-sync.
    const h2 = { ...h1, id: 2, deployStartedAt: '2025-10-02T17:10:00Z', deployedAt: '2025-10-02T17:10:01Z' };
    expect(
      kinds(detectTransitions(app({ history: [h0, h1, h2] }), d.progress, ctx, at('2025-10-02T17:20:00Z'))),
    ).toEqual([]);
  });

  test('entries trimmed before the agent saw them are counted; a history that restarts at 0 is followed again', () => {
    const history = (ids: number[], prefix = 'r') =>
      ids.map((id) =>
        entry(
          id,
          `${prefix}${id}`,
          `2026-01-0${1 + Math.floor(id / 24)}T${String(id % 24).padStart(2, '0')}:00:00Z`,
        ),
      );
    const seen = detectTransitions(
      app({ history: history([25, 26, 27]) }),
      undefined,
      ctx,
      at('2026-01-03T00:00:00Z'),
    );
    const later = detectTransitions(
      app({ history: history([31, 32, 33, 34, 35, 36, 37, 38, 39, 40]) }),
      seen.progress,
      ctx,
      at('2026-01-03T00:00:00Z'),
    );
    expect(later.notes.trimmedUnseen).toBe(3);
    expect(kinds(later)).toHaveLength(10);
    // Status lost by a replace (the CRD has no status subresource): the history restarts at id 0.
    const restarted = detectTransitions(
      app({ history: [entry(0, 'new0', '2026-02-01T00:00:00Z')] }),
      later.progress,
      ctx,
      at('2026-02-01T00:01:00Z'),
    );
    expect(restarted.notes.historyRestarted).toBe(true);
    expect(kinds(restarted)).toEqual(['service.deployed']);
    expect(restarted.emissions[0]?.event.context.id).not.toBe(
      detectTransitions(
        app({ history: [entry(0, 'new0', '2025-01-01T00:00:00Z')] }),
        undefined,
        ctx,
        at('2026-02-01T00:01:00Z'),
      ).emissions[0]?.event.context.id,
    );
  });
});

describe('one identity per occurrence, whoever observes it', () => {
  // A history of 12 syncs, default limit 10: an observer that started early saw every append.
  const all = ['a', 'b', 'a', 'c', 'c', 'd', 'b', 'e', 'f', 'e', 'g', 'a'].map((rev, id) =>
    entry(id, rev, `2026-01-01T${String(id).padStart(2, '0')}:00:00Z`),
  );
  const window = (upTo: number) => all.slice(Math.max(0, upTo - 9), upTo + 1);

  test('an observer from the start and one started late give each entry the same kind and id', () => {
    let progress: AppProgress | undefined;
    const continuous = new Map<number, { type: string; id: string }>();
    for (let upTo = 0; upTo < all.length; upTo++) {
      const d = detectTransitions(app({ history: window(upTo) }), progress, ctx, at('2026-01-02T00:00:00Z'));
      for (const e of d.emissions) {
        const id = (e.event.customData as { argocd: { historyId: number } }).argocd.historyId;
        continuous.set(id, { type: e.event.context.type, id: e.event.context.id });
      }
      progress = d.progress;
    }
    expect([...continuous.keys()]).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11]);
    expect(continuous.get(2)?.type).toMatch(/rolledback/);
    for (let upTo = 0; upTo < all.length; upTo++) {
      const late = detectTransitions(
        app({ history: window(upTo) }),
        undefined,
        ctx,
        at('2026-01-02T00:00:00Z'),
      );
      for (const e of late.emissions) {
        const id = (e.event.customData as { argocd: { historyId: number } }).argocd.historyId;
        expect(continuous.get(id), `entry ${id} seen first at ${upTo}`).toEqual({
          type: e.event.context.type,
          id: e.event.context.id,
        });
      }
      // The newest is always reported: it says what runs now (unless it is a re-sync).
      if (upTo !== 4) expect(late.emissions.length).toBeGreaterThan(0);
    }
  });

  test('principal and spoke copies (argocd-agent) give one event, failover or not', () => {
    const principal = app(
      {},
      { metadata: { name: 'cart', namespace: 'agent-eu', uid: 'p1', resourceVersion: '1' } },
    );
    const spoke = app(
      {},
      {
        metadata: {
          name: 'cart',
          namespace: 'argocd',
          uid: 's1',
          resourceVersion: '9',
          annotations: { [SOURCE_UID_ANNOTATION]: 'p1' },
        },
      },
    );
    const failedOver = app(
      {},
      {
        metadata: {
          name: 'cart',
          namespace: 'argocd',
          uid: 's1',
          resourceVersion: '12',
          annotations: { [SOURCE_UID_ANNOTATION]: 'p2', 'argocd.argoproj.io/principal-uid': 'x' },
        },
      },
    );
    const agentCtx = { ...ctx, argocdAgent: true };
    const ids = [principal, spoke, failedOver].map(
      (a) =>
        detectTransitions(
          { ...a, status: { ...a.status, controllerNamespace: 'argocd' } },
          undefined,
          agentCtx,
          at('2026-01-02T00:00:00Z'),
        ).emissions[0]?.event.context.id,
    );
    expect(new Set(ids).size).toBe(1);
  });

  test('two apps of one name in two app namespaces (2.5+) are two services with two sources', () => {
    const inNs = (ns: string) =>
      app(
        { controllerNamespace: 'argocd' },
        { metadata: { name: 'frontend', namespace: ns, uid: `uid-${ns}`, resourceVersion: '1' } },
      );
    const events = ['team-a', 'team-b', 'argocd'].map(
      (ns) => detectTransitions(inNs(ns), undefined, ctx, at('2026-01-02T00:00:00Z')).emissions[0]?.event,
    );
    expect(events.map((e) => e?.context.source)).toEqual([
      '/argocd/prod-eu/shop/team-a/frontend',
      '/argocd/prod-eu/shop/team-b/frontend',
      '/argocd/prod-eu/shop/frontend',
    ]);
    expect(events.map((e) => e?.subject.id)).toEqual(['team-a/frontend', 'team-b/frontend', 'frontend']);
    for (const e of events) expect(e !== undefined && isCDEvent(e)).toBe(true);
  });

  test("sources escape as Go's urlquery does; an empty source-uid annotation counts as absent", () => {
    expect(queryEscape('prod eu/1')).toBe('prod+eu%2F1');
    expect(queryEscape('a.b-c_d~é')).toBe('a.b-c_d~%C3%A9');
    const named = app({}, { spec: { ...app().spec, destination: { name: 'prod eu', namespace: 'shop' } } });
    expect(
      detectTransitions(named, undefined, ctx, at('2026-01-02T00:00:00Z')).emissions[0]?.event.context.source,
    ).toBe('/argocd/prod+eu/shop/cart');
    expect(
      logicalUid(
        app({}, { metadata: { name: 'cart', uid: 'u1', annotations: { [SOURCE_UID_ANNOTATION]: '' } } }),
      ),
    ).toBe('u1');
  });
});

describe('artifacts of hydrator and OCI apps', () => {
  test('a source hydrator app deploys its dry commit, not the hydrated one (2.14+)', () => {
    const hydrated = app(
      {
        history: [
          entry(0, 'hyd1', '2026-01-01T10:00:00Z', {
            source: { repoURL: REPO, path: 'env/prod/cart', targetRevision: 'environments/prod' },
          }),
        ],
        sourceHydrator: { lastSuccessfulOperation: { drySHA: 'dry1', hydratedSHA: 'hyd1' } },
      },
      {
        spec: {
          ...app().spec,
          sourceHydrator: {
            drySource: {
              repoURL: 'https://github.com/acme/gitops-dry',
              path: 'services/cart',
              targetRevision: 'HEAD',
            },
          },
        },
      },
    );
    const d = detectTransitions(hydrated, undefined, ctx, at('2026-01-02T00:00:00Z'));
    expect(((d.emissions[0]?.event.subject.content ?? {}) as { artifactId: string }).artifactId).toBe(
      'pkg:github/acme/gitops-dry@dry1#services/cart',
    );
  });

  test('an OCI source (3.1+) gets a pkg:oci purl with its digest and tag', () => {
    const source = { repoURL: 'oci://ghcr.io/acme/manifests/cart', path: '.', targetRevision: '1.4.2' };
    const oci = app(
      { history: [entry(0, 'sha256:0123abcd', '2026-01-01T10:00:00Z', { source })] },
      { spec: { ...app().spec, source } },
    );
    const purl = (
      (detectTransitions(oci, undefined, ctx, at('2026-01-02T00:00:00Z')).emissions[0]?.event.subject
        .content ?? {}) as { artifactId: string }
    ).artifactId;
    expect(purl).toBe(
      'pkg:oci/cart@sha256%3A0123abcd?repository_url=ghcr.io%2Facme%2Fmanifests%2Fcart&tag=1.4.2',
    );
    expect(isPurl(purl)).toBe(true);
  });
});

describe('progress and resource versions', () => {
  test('an app removed and seen again is followed again', () => {
    const deleting = app(
      {},
      {
        metadata: {
          name: 'cart',
          namespace: 'argocd',
          uid: 'uid-cart',
          resourceVersion: '5',
          deletionTimestamp: '2026-01-02T00:00:00Z',
        },
      },
    );
    const gone = detectTransitions(deleting, undefined, ctx, at('2026-01-02T00:00:01Z'));
    expect(kinds(gone)).toEqual(['service.deployed', 'service.removed']);
    expect(kinds(detectTransitions(deleting, gone.progress, ctx, at('2026-01-02T00:00:02Z')))).toEqual([]);
    const back = app({
      history: [entry(0, 'aaa', '2026-01-01T10:00:00Z'), entry(1, 'bbb', '2026-01-03T00:00:00Z')],
    });
    const d = detectTransitions(back, gone.progress, ctx, at('2026-01-03T00:01:00Z'));
    expect(kinds(d)).toEqual(['service.upgraded']);
    expect(d.progress.removed).toBe(false);
  });

  test('resource versions compare as Kubernetes 1.35 allows (KEP-5504), else only for equality', () => {
    expect(compareResourceVersion('99', '100')).toBe(-1);
    expect(compareResourceVersion('123', '123')).toBe(0);
    expect(compareResourceVersion('1000', '999')).toBe(1);
    expect(compareResourceVersion('0', '5')).toBeUndefined();
    expect(compareResourceVersion('abc', 'abd')).toBeUndefined();
  });

  test('progress written by the previous agent version reads as the current one', () => {
    const v1 = {
      v: 1,
      uid: 'u',
      name: 'cart',
      cluster: 'prod-eu',
      namespace: 'shop',
      lastHistoryId: 4,
      lastRevision: 'bbb',
      revisions: ['aaa', 'bbb'],
      lastOperation: '2026-01-01T00:00:00Z x',
      syncIncident: { id: 'i', startedAt: '2026-01-01T00:00:00Z' },
      healthIncident: null,
      removed: false,
    };
    const read = readProgress(v1);
    expect(read).toMatchObject({
      v: 2,
      lastHistoryId: 4,
      syncIncident: { id: 'i', since: '2026-01-01T00:00:00Z' },
    });
    expect(read?.recent.map((r) => r.version)).toEqual(['aaa', 'bbb']);
    expect(readProgress({ v: 7 })).toBeUndefined();
  });
});
