import { type CDEvent, createEvent, eventIdentity } from '@argus/cdevents';
import { captureLogs, clickHouseTarget, randomDatabase } from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { doraFigures, MIGRATIONS, Store, toEventRow } from '../src/index.js';

/** Monday 2026-01-05 00:00 UTC: week 1 of the window starts here, week 2 seven days later. */
const T = Date.UTC(2026, 0, 5);
const DAY = 86_400_000;
const WEEK = 7 * DAY;
const MIN = 60_000;
const at = (ms: number): string => new Date(T + ms).toISOString();

let store: Store;
let n = 0;

const service = (
  type: 'service.deployed' | 'service.upgraded' | 'service.rolledback',
  app: string,
  ms: number,
  extra: { artifactId?: string; chainId?: string; link?: string } = {},
): CDEvent =>
  createEvent({
    type,
    id: `${app}-${++n}`,
    source: `/argocd/${app}`,
    timestamp: at(ms),
    ...(extra.chainId === undefined ? {} : { chainId: extra.chainId }),
    ...(extra.link === undefined
      ? {}
      : {
          links: [{ linkType: 'RELATION' as const, linkKind: 'TRIGGER', target: { contextId: extra.link } }],
        }),
    subject: {
      id: app,
      content: { environment: { id: 'env' }, artifactId: extra.artifactId ?? `pkg:oci/${app}@${n}` },
    },
  });

const incident = (predicate: 'detected' | 'resolved', id: string, app: string, ms: number): CDEvent =>
  createEvent({
    type: predicate === 'detected' ? 'incident.detected' : 'incident.resolved',
    id: `${id}-${predicate}-${++n}`,
    source: `/argocd/${app}`,
    timestamp: at(ms),
    subject: { id, content: { environment: { id: 'env' }, service: { id: app, source: `/argocd/${app}` } } },
  });

const merged = (id: string, ms: number, chainId?: string): CDEvent =>
  createEvent({
    type: 'change.merged',
    id,
    source: '/github/acme',
    timestamp: at(ms),
    ...(chainId === undefined ? {} : { chainId }),
    subject: { id: `acme/${id}`, content: {} },
  });

const published = (artifact: string, ms: number, chainId: string): CDEvent =>
  createEvent({
    type: 'artifact.published',
    id: `pub-${artifact}`,
    source: '/ci',
    timestamp: at(ms),
    chainId,
    subject: { id: artifact, content: {} },
  });

const insert = async (events: { event: CDEvent; cluster: string }[], token: string) => {
  await store.insertEvents(
    events.map(({ event, cluster }) => {
      const [, , subjectType = '', predicate = ''] = event.context.type.split('.');
      return toEventRow({
        event,
        subjectType,
        predicate,
        specVersion: '0.4.1',
        raw: JSON.stringify(event),
        tags: { instance: 'i', cluster, environment: cluster === '' ? '' : `${cluster}-env`, labels: {} },
        receivedAt: new Date(),
      });
    }),
    token,
  );
};

/**
 * Week 1: podinfo on prod deployed, upgraded (failed by inc-a, restored in 10 min), upgraded (failed
 * by the rollback), rolled back (failed by inc-c, detected at the end of week 1 and resolved 30 min
 * later, in week 2); podinfo on staging deployed and failed by inc-b, never resolved.
 * Week 2: api on prod deployed with artifact api@1 (published in chain c1, whose merge pr-1 is an
 * hour before the window: lead 7 d 1.5 h = 610200 s; pr-2 of c1 came after the deployment), upgraded
 * with a link to pr-3 (lead 30 min), upgraded with an untraced chain.
 */
const FIRST = service('service.deployed', 'podinfo', 0);
const INC_A_DETECTED = incident('detected', 'inc-a', 'podinfo', 12 * MIN);
const EVENTS: { event: CDEvent; cluster: string }[] = [
  { event: merged('pr-1', -60 * MIN, 'c1'), cluster: '' },
  { event: FIRST, cluster: 'prod' },
  { event: service('service.upgraded', 'podinfo', 10 * MIN), cluster: 'prod' },
  { event: INC_A_DETECTED, cluster: 'prod' },
  { event: incident('resolved', 'inc-a', 'podinfo', 22 * MIN), cluster: 'prod' },
  { event: service('service.upgraded', 'podinfo', 30 * MIN), cluster: 'prod' },
  { event: service('service.rolledback', 'podinfo', 40 * MIN), cluster: 'prod' },
  { event: service('service.deployed', 'podinfo', 0), cluster: 'staging' },
  { event: incident('detected', 'inc-b', 'podinfo', 5 * MIN), cluster: 'staging' },
  { event: incident('detected', 'inc-c', 'podinfo', WEEK - 10 * MIN), cluster: 'prod' },
  { event: incident('resolved', 'inc-c', 'podinfo', WEEK + 20 * MIN), cluster: 'prod' },
  { event: published('pkg:oci/api@1', WEEK + 5 * MIN, 'c1'), cluster: '' },
  { event: merged('pr-3', WEEK + 10 * MIN), cluster: '' },
  {
    event: service('service.deployed', 'api', WEEK + 30 * MIN, { artifactId: 'pkg:oci/api@1' }),
    cluster: 'prod',
  },
  { event: service('service.upgraded', 'api', WEEK + 40 * MIN, { link: 'pr-3' }), cluster: 'prod' },
  { event: merged('pr-2', WEEK + 50 * MIN, 'c1'), cluster: '' },
  { event: service('service.upgraded', 'api', WEEK + 60 * MIN, { chainId: 'c9' }), cluster: 'prod' },
];

const window = { since: new Date(T), until: new Date(T + 2 * WEEK) };
const figures = (
  r: Awaited<ReturnType<typeof doraFigures>>,
): [string, number, number, number, number, number, number, number][] =>
  r.map((f) => [
    f.key,
    f.bucketStart.getTime() - T,
    f.deployments,
    f.failedDeployments,
    f.leadTimeSamples,
    f.leadTimeMedianSeconds,
    f.incidents,
    f.restoredIncidents,
  ]);

beforeAll(async () => {
  store = await Store.open({
    ...clickHouseTarget(),
    database: randomDatabase(),
    logger: captureLogs().logger,
  });
  await insert(EVENTS, 'all');
  // Repeats that reached the table (another insert, another token): each counted once.
  await insert(
    [
      { event: FIRST, cluster: 'prod' },
      { event: INC_A_DETECTED, cluster: 'prod' },
    ],
    'repeat',
  );
});
afterAll(async () => {
  await store.command(`DROP DATABASE IF EXISTS ${store.database}`);
  await store.close();
});

describe('DORA figures computed by ClickHouse', () => {
  test('the whole window, overall and by cluster', async () => {
    const [all, ...more] = await doraFigures(store, { ...window, grouping: 'none' });
    expect(more).toEqual([]);
    expect(all).toEqual({
      key: '',
      bucketStart: new Date(T),
      deployments: 8,
      deploymentsPerDay: 8 / 14,
      leadTimeSamples: 2,
      leadTimeMedianSeconds: (610_200 + 1_800) / 2,
      failedDeployments: 4,
      changeFailureRate: 0.5,
      incidents: 3,
      restoredIncidents: 2,
      timeToRestoreMedianSeconds: (600 + 1_800) / 2,
    });
    expect(figures(await doraFigures(store, { ...window, grouping: 'cluster' }))).toEqual([
      ['prod', 0, 7, 3, 2, 306_000, 2, 2],
      ['staging', 0, 1, 1, 0, 0, 1, 0],
    ]);
    expect(figures(await doraFigures(store, { ...window, grouping: 'service', service: 'api' }))).toEqual([
      ['api', 0, 3, 0, 2, 306_000, 0, 0],
    ]);
  });

  test('weekly buckets: each week is its own window, every week answered for every group', async () => {
    const weekly = await doraFigures(store, { ...window, grouping: 'cluster', bucketMs: WEEK });
    expect(figures(weekly)).toEqual([
      // inc-c is detected in week 1 (failing the rollback) but resolved in week 2.
      ['prod', 0, 4, 3, 0, 0, 2, 1],
      ['prod', WEEK, 3, 0, 2, 306_000, 0, 0],
      ['staging', 0, 1, 1, 0, 0, 1, 0],
      ['staging', WEEK, 0, 0, 0, 0, 0, 0],
    ]);
    expect(weekly[0]).toMatchObject({ deploymentsPerDay: 4 / 7, changeFailureRate: 0.75 });
    expect(weekly[0]?.timeToRestoreMedianSeconds).toBe(600);
    // A bucket answers what the whole-window call answers for that week alone.
    const [week2] = await doraFigures(store, {
      since: new Date(T + WEEK),
      until: new Date(T + 2 * WEEK),
      grouping: 'cluster',
      cluster: 'prod',
    });
    expect({ ...week2, bucketStart: undefined }).toEqual({ ...weekly[1], bucketStart: undefined });
  });

  test('daily buckets, the last one shorter; empty windows', async () => {
    const daily = await doraFigures(store, {
      since: new Date(T),
      until: new Date(T + 7 * DAY + 12 * 3_600_000),
      grouping: 'none',
      bucketMs: DAY,
    });
    expect(daily).toHaveLength(8);
    expect(daily.map((d) => d.deployments)).toEqual([5, 0, 0, 0, 0, 0, 0, 3]);
    expect(daily.map((d) => d.incidents)).toEqual([2, 0, 0, 0, 0, 0, 1, 0]);
    expect(daily[7]?.deploymentsPerDay).toBe(6);
    const empty = { since: new Date(T - 2 * WEEK), until: new Date(T - WEEK) };
    expect(await doraFigures(store, { ...empty, grouping: 'none' })).toEqual([
      expect.objectContaining({ key: '', deployments: 0, changeFailureRate: 0, deploymentsPerDay: 0 }),
    ]);
    expect(await doraFigures(store, { ...empty, grouping: 'service' })).toEqual([]);
  });

  test("a deployment and a detection at the same time: ordered by the identities' digests", async () => {
    // Four weeks before the scenario: 12 services, each deployed and then, at one same millisecond, a
    // detection and an upgrade. Which of the two comes first is the order of their identities'
    // 128-bit SipHash; the deployment before the tie fails only if the detection comes first (it is
    // next), the upgrade fails only if it comes first (the detection is then next).
    const start = -4 * WEEK;
    const ties = Array.from({ length: 12 }, (_, i) => {
      const app = `tie-${i}`;
      return {
        app,
        deployed: service('service.deployed', app, start),
        upgraded: service('service.upgraded', app, start + MIN),
        detected: incident('detected', `inc-tie-${i}`, app, start + MIN),
      };
    });
    await insert(
      ties.flatMap((t) => [t.deployed, t.upgraded, t.detected].map((event) => ({ event, cluster: 'tie' }))),
      'ties',
    );
    const identity = (e: CDEvent) => eventIdentity(e.context.source, e.context.id);
    const [order] = await store.rows<{ detectedFirst: number[] }>(
      `SELECT arrayMap((u, d) -> sipHash128(d) < sipHash128(u), {upgraded:Array(String)}, {detected:Array(String)})
         AS detectedFirst`,
      { upgraded: ties.map((t) => identity(t.upgraded)), detected: ties.map((t) => identity(t.detected)) },
    );
    const detectedFirst = order?.detectedFirst.filter((first) => first === 1).length ?? 0;
    // Both orders occur among 12 pairs (else the test would not tell them apart).
    expect(detectedFirst).toBeGreaterThan(0);
    expect(detectedFirst).toBeLessThan(12);
    const [tie] = await doraFigures(store, {
      since: new Date(T + start),
      until: new Date(T + start + DAY),
      grouping: 'cluster',
      cluster: 'tie',
    });
    // Each pair has one failure whichever comes first: the deployment (detection next) or the upgrade.
    expect(tie).toMatchObject({ deployments: 24, failedDeployments: 12, incidents: 12 });
    // The upgrade comes first, and fails, exactly where the detection does not come first.
    const perService = await doraFigures(store, {
      since: new Date(T + start + MIN),
      until: new Date(T + start + DAY),
      grouping: 'service',
      cluster: 'tie',
    });
    expect(Object.fromEntries(perService.map((f) => [f.key, f.failedDeployments]))).toEqual(
      Object.fromEntries(ties.map((t, i) => [t.app, order?.detectedFirst[i] === 1 ? 0 : 1])),
    );
  });

  test("lead time through an artifact's chain and links, from migration 5's tables (kept at insert, backfilled alike)", async () => {
    // Eight weeks before the scenario: lt@1 is published with chain c-lt and a link to pr-lt-1; pr-lt-2
    // of c-lt was merged an hour before, and arrives last, in its own insert. lt@2 is published after
    // the window (so not traced) in the same chain.
    const s = -8 * WEEK;
    const ltWindow = { since: new Date(T + s), until: new Date(T + s + DAY), grouping: 'none' as const };
    const ltPublished = (artifact: string, ms: number, extra: { link?: string }) =>
      createEvent({
        type: 'artifact.published',
        id: `pub-${artifact}`,
        source: '/ci',
        timestamp: at(ms),
        chainId: 'c-lt',
        ...(extra.link === undefined
          ? {}
          : {
              links: [
                { linkType: 'RELATION' as const, linkKind: 'TRIGGER', target: { contextId: extra.link } },
              ],
            }),
        subject: { id: artifact, content: {} },
      });
    await insert(
      [
        { event: merged('pr-lt-1', s), cluster: '' },
        { event: ltPublished('pkg:oci/lt@1', s + 10 * MIN, { link: 'pr-lt-1' }), cluster: '' },
        { event: ltPublished('pkg:oci/lt@2', s + 2 * DAY, {}), cluster: '' },
        {
          event: service('service.deployed', 'lt', s + 20 * MIN, { artifactId: 'pkg:oci/lt@2' }),
          cluster: 'lt',
        },
        {
          event: service('service.deployed', 'lt', s + 30 * MIN, { artifactId: 'pkg:oci/lt@1' }),
          cluster: 'lt',
        },
      ],
      'lt-1',
    );
    const lead = async () => {
      const [f] = await doraFigures(store, ltWindow);
      return [f?.deployments, f?.leadTimeSamples, f?.leadTimeMedianSeconds];
    };
    // Through the link: pr-lt-1, 30 min before the deployment.
    expect(await lead()).toEqual([2, 1, 1_800]);
    await insert([{ event: merged('pr-lt-2', s - 60 * MIN, 'c-lt'), cluster: '' }], 'lt-2');
    // Through the chain: pr-lt-2, the earliest, 90 min before.
    expect(await lead()).toEqual([2, 1, 5_400]);

    // The tables are what lead time reads: emptied, no samples; migration 5 again (its backfill), the
    // same figures, and again (overlapping rows): still the same.
    for (const table of ['merge_refs', 'artifact_refs'])
      await store.command(`TRUNCATE TABLE ${store.table(table)}`);
    expect(await lead()).toEqual([2, 0, 0]);
    for (let round = 0; round < 2; round++) {
      for (const statement of MIGRATIONS.find((m) => m.version === 5)?.statements ?? [])
        await store.command(statement.replaceAll('{db}', store.database));
      expect(await lead()).toEqual([2, 1, 5_400]);
    }
  });

  test("the verdicts read migration 6's steps (kept at insert, backfilled alike)", async () => {
    const whole = async () => figures(await doraFigures(store, { ...window, grouping: 'cluster' }));
    const before = await whole();
    expect(before[0]).toEqual(['prod', 0, 7, 3, 2, 306_000, 2, 2]);
    await store.command(`TRUNCATE TABLE ${store.table('dora_steps')}`);
    // Without the steps no deployment is counted (incidents and lead time come from elsewhere).
    expect((await whole())[0]?.slice(2, 4)).toEqual([0, 0]);
    for (let round = 0; round < 2; round++) {
      for (const statement of MIGRATIONS.find((m) => m.version === 6)?.statements ?? [])
        await store.command(statement.replaceAll('{db}', store.database));
      expect(await whole()).toEqual(before);
    }
  });
});
