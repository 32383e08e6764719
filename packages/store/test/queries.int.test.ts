import { type CDEvent, createEvent } from '@argus/cdevents';
import { captureLogs, clickHouseTarget, randomDatabase } from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type CurrentDeployment,
  countEvents,
  currentDeployments,
  type DeploymentsFilter,
  deploymentsOutline,
  type EventCursor,
  instanceActivity,
  MIGRATIONS,
  Store,
  StoreQueryError,
  searchPage,
  serviceTimeline,
  toEventRow,
} from '../src/index.js';

/** `dev.cdevents.<subject>.<predicate>.<version>` -> the row's type tokens. */
const typeTokensOf = (event: CDEvent) => {
  const [, , subjectType = '', predicate = ''] = event.context.type.split('.');
  return { subjectType, predicate };
};

let store: Store;
beforeAll(async () => {
  store = await Store.open({
    ...clickHouseTarget(),
    database: randomDatabase(),
    logger: captureLogs().logger,
  });
});
afterAll(async () => {
  await store.command(`DROP DATABASE IF EXISTS ${store.database}`);
  await store.close();
});

const at = (minute: number): string => new Date(Date.UTC(2026, 0, 1, 10, minute)).toISOString();

const insert = async (events: { event: CDEvent; instance: string; cluster: string }[], token: string) => {
  await store.insertEvents(
    events.map(({ event, instance, cluster }) =>
      toEventRow({
        event,
        ...typeTokensOf(event),
        specVersion: '0.4.1',
        raw: JSON.stringify(event),
        tags: { instance, cluster, environment: '', labels: {} },
        receivedAt: new Date(),
      }),
    ),
    token,
  );
};

const deployment = (n: number, cluster: string, service = 'podinfo'): CDEvent =>
  createEvent({
    type: n === 0 ? 'service.deployed' : 'service.upgraded',
    specVersion: '0.4.1',
    id: `${service}-${cluster}-${n}`,
    source: `/argocd/${cluster}/${service}/${service}`,
    timestamp: at(n * 2),
    subject: {
      id: service,
      content: {
        environment: { id: `${cluster}/${service}` },
        artifactId: `pkg:oci/${service}@sha256%3A${n}`,
      },
    },
  });

const incident = (predicate: 'detected' | 'resolved', minute: number, cluster: string): CDEvent =>
  createEvent({
    type: predicate === 'detected' ? 'incident.detected' : 'incident.resolved',
    specVersion: '0.4.1',
    id: `incident-${cluster}-${predicate}-${minute}`,
    source: `/argocd/${cluster}/podinfo/podinfo`,
    timestamp: at(minute),
    subject: {
      id: `podinfo-degraded-${cluster}`,
      content: {
        description: 'Deployment podinfo is Degraded',
        environment: { id: `${cluster}/podinfo` },
        service: { id: 'podinfo', source: `/argocd/${cluster}/podinfo/podinfo` },
      },
    },
  });

describe('queries over stored events', () => {
  beforeAll(async () => {
    const events = [0, 1, 2, 3, 4].flatMap((n) => [
      { event: deployment(n, 'prod-eu'), instance: 'argo-eu', cluster: 'prod-eu' },
      { event: deployment(n, 'prod-us'), instance: 'argo-us', cluster: 'prod-us' },
    ]);
    events.push({ event: deployment(0, 'prod-eu', 'guestbook'), instance: 'argo-eu', cluster: 'prod-eu' });
    events.push({ event: incident('detected', 3, 'prod-eu'), instance: 'argo-eu', cluster: 'prod-eu' });
    events.push({ event: incident('resolved', 5, 'prod-eu'), instance: 'argo-eu', cluster: 'prod-eu' });
    await insert(events, 'batch-1');
    // The same events again under another token (two agents, a crash before ack): still one each.
    await insert(events.slice(0, 4), 'batch-2');
  });

  test('pages walk every event once, newest first, whatever the page size', async () => {
    const all = await countEvents(store);
    expect(all.events).toBe(13);
    expect(all.rows).toBe(17);
    for (const size of [1, 4, 13, 50]) {
      const seen: string[] = [];
      let cursor: EventCursor | undefined;
      let pages = 0;
      do {
        const page = await searchPage(store, {}, size, cursor);
        seen.push(...page.events.map((e) => e.id));
        cursor = page.next;
        pages += 1;
      } while (cursor !== undefined && pages < 100);
      expect(new Set(seen).size, `page size ${size}`).toBe(13);
      expect(seen).toHaveLength(13);
      // No empty last page: a page says there is more only when there is.
      expect(pages).toBe(Math.ceil(13 / size));
    }
    const [first] = (await searchPage(store, {}, 1)).events;
    expect(first?.timestamp).toBe(at(8));
  });

  test('filters combine; values are parameters, so SQL in a value matches nothing and breaks nothing', async () => {
    const us = await searchPage(store, { cluster: 'prod-us', subjectType: 'service', predicate: 'upgraded' });
    expect(us.events.map((e) => e.id)).toEqual([4, 3, 2, 1].map((n) => `podinfo-prod-us-${n}`));
    expect(us.events[0]).toMatchObject({ instance: 'argo-us', service_id: 'podinfo', spec_version: '0.4.1' });
    for (const attack of [
      "prod-eu' OR 1=1 --",
      'prod-eu\\',
      "'; DROP TABLE cdevents; --",
      '{cluster:String}',
    ]) {
      expect((await searchPage(store, { cluster: attack })).events).toEqual([]);
    }
    expect((await countEvents(store)).events).toBe(13);
    await expect(searchPage(store, {}, 0)).rejects.toThrow(StoreQueryError);
  });

  test('a service timeline spans clusters, oldest first, incidents included by their service', async () => {
    const timeline = await serviceTimeline(store, 'podinfo');
    expect(timeline.map((e) => `${e.cluster}:${e.subject_type}.${e.predicate}`).slice(0, 4)).toEqual([
      'prod-eu:service.deployed',
      'prod-us:service.deployed',
      'prod-eu:service.upgraded',
      'prod-us:service.upgraded',
    ]);
    expect(timeline).toHaveLength(12);
    expect(timeline.filter((e) => e.subject_type === 'incident').map((e) => e.predicate)).toEqual([
      'detected',
      'resolved',
    ]);
    // The newest three, still oldest first.
    expect((await serviceTimeline(store, 'podinfo', {}, 3)).map((e) => e.timestamp)).toEqual([
      at(6),
      at(8),
      at(8),
    ]);
    expect(await serviceTimeline(store, 'nothing-here')).toEqual([]);
  });

  test('instance activity', async () => {
    const activity = await instanceActivity(store, new Date(Date.now() - 3_600_000));
    expect(activity).toEqual([
      { instance: 'argo-eu', clusters: ['prod-eu'], eventsTotal: 8, eventsSince: 8 },
      { instance: 'argo-us', clusters: ['prod-us'], eventsTotal: 5, eventsSince: 5 },
    ]);
  });

  test('what runs where filters by instance and environment, columns the query also aggregates', async () => {
    const eu = await currentDeployments(store, { instance: 'argo-eu', environment: '' }, 100);
    expect(eu.map((d) => [d.service, d.cluster, d.instance, d.openIncidents])).toEqual([
      ['guestbook', 'prod-eu', 'argo-eu', 0],
      ['podinfo', 'prod-eu', 'argo-eu', 0],
    ]);
    expect(await currentDeployments(store, { instance: 'argo-us', environment: 'production' }, 100)).toEqual(
      [],
    );
  });

  test('what runs where from service_last: the last per pair, filters first; a backfill again changes nothing', async () => {
    const where = async () =>
      (await currentDeployments(store, {}, 100)).map((d) => [
        d.service,
        d.cluster,
        d.eventId,
        d.openIncidents,
      ]);
    const expected = [
      ['guestbook', 'prod-eu', 'guestbook-prod-eu-0', 0],
      ['podinfo', 'prod-eu', 'podinfo-prod-eu-4', 0],
      ['podinfo', 'prod-us', 'podinfo-prod-us-4', 0],
    ];
    expect(await where()).toEqual(expected);
    expect(
      (await currentDeployments(store, { instance: 'argo-us' }, 100)).map((d) => [d.cluster, d.artifactId]),
    ).toEqual([['prod-us', 'pkg:oci/podinfo@sha256%3A4']]);
    expect(await currentDeployments(store, { environment: 'nowhere' }, 100)).toEqual([]);
    expect(await currentDeployments(store, {}, 1)).toHaveLength(1);
    // Migration 3 run again (a start cut short): the backfill overlaps the view's rows, the answer stays.
    for (const statement of MIGRATIONS.find((m) => m.version === 3)?.statements ?? [])
      await store.command(statement.replaceAll('{db}', store.database));
    expect(await where()).toEqual(expected);
    // Emptied and backfilled from the events alone: the same answer.
    await store.command(`TRUNCATE TABLE ${store.table('service_last')}`);
    expect(await where()).toEqual([]);
    await store.command(
      (MIGRATIONS.find((m) => m.version === 3)?.statements.at(-1) ?? '').replaceAll('{db}', store.database),
    );
    expect(await where()).toEqual(expected);
  });

  test('what runs where a page of services at a time, and the outline of a filter', async () => {
    const page = (number: number, filter: DeploymentsFilter = {}) =>
      currentDeployments(store, filter, 100, { size: 1, number });
    const pairs = (cells: CurrentDeployment[]) => cells.map((d) => [d.service, d.cluster]);
    expect(pairs(await page(1))).toEqual([['guestbook', 'prod-eu']]);
    expect(pairs(await page(2))).toEqual([
      ['podinfo', 'prod-eu'],
      ['podinfo', 'prod-us'],
    ]);
    expect(await page(3)).toEqual([]);
    // Pages are the whole matrix cut by service, incidents and all.
    expect([...(await page(1)), ...(await page(2))]).toEqual(await currentDeployments(store, {}, 100));
    expect(pairs(await page(1, { serviceContains: 'INFO' }))).toEqual([
      ['podinfo', 'prod-eu'],
      ['podinfo', 'prod-us'],
    ]);
    expect(pairs(await page(1, { cluster: 'prod-us' }))).toEqual([['podinfo', 'prod-us']]);
    expect(await page(1, { serviceContains: "' OR 1=1 --" })).toEqual([]);
    expect(await deploymentsOutline(store, {}, 100)).toEqual({
      services: 2,
      columns: [
        { cluster: 'prod-eu', environment: '' },
        { cluster: 'prod-us', environment: '' },
      ],
      clusters: ['prod-eu', 'prod-us'],
      environments: [],
      instances: ['argo-eu', 'argo-us'],
    });
    // The filter narrows the count and the columns; the values to choose from stay whole.
    expect(await deploymentsOutline(store, { serviceContains: 'guest' }, 100)).toEqual({
      services: 1,
      columns: [{ cluster: 'prod-eu', environment: '' }],
      clusters: ['prod-eu', 'prod-us'],
      environments: [],
      instances: ['argo-eu', 'argo-us'],
    });
    expect((await deploymentsOutline(store, {}, 1)).clusters).toEqual(['prod-eu']);
  });
});
