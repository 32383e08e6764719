import { type CDEvent, createEvent } from '@argus/cdevents';
import { captureLogs, clickHouseTarget, randomDatabase } from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { currentDeployments, MIGRATIONS, Store, serviceTimeline, toEventRow } from '../src/index.js';
import { TIMELINE_TYPES } from '../src/queries.js';

/**
 * Migration 4's tables, which the queries read instead of every event: incident_state (open
 * incidents of what runs where) and timeline_index (a service's newest events). Each answer must be
 * the one the events alone give, before ClickHouse merges the tables' parts and after.
 */
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
let batches = 0;
const insert = async (instance: string, ...events: CDEvent[]) => {
  await store.insertEvents(
    events.map((event) => {
      const [, , subjectType = '', predicate = ''] = event.context.type.split('.');
      return toEventRow({
        event,
        subjectType,
        predicate,
        specVersion: '0.4.1',
        raw: JSON.stringify(event),
        tags: { instance, cluster: 'prod-eu', environment: '', labels: {} },
        receivedAt: new Date(),
      });
    }),
    `aggregates-${++batches}`,
  );
};
const deployed = (service: string, minute: number) =>
  createEvent({
    type: 'service.deployed',
    specVersion: '0.4.1',
    id: `${service}-deployed-${minute}`,
    source: `/argocd/prod-eu/${service}`,
    timestamp: at(minute),
    subject: {
      id: service,
      content: { environment: { id: 'prod-eu' }, artifactId: `pkg:oci/${service}@${minute}` },
    },
  });
const incident = (
  service: string,
  incidentId: string,
  predicate: 'detected' | 'reported' | 'resolved',
  minute: number,
) =>
  createEvent({
    type: `incident.${predicate}`,
    specVersion: '0.4.1',
    id: `${incidentId}-${predicate}-${minute}`,
    source: '/monitoring',
    timestamp: at(minute),
    subject: {
      id: incidentId,
      content: {
        environment: { id: 'prod-eu' },
        service: { id: service, source: '/argocd/prod-eu' },
        ...(predicate === 'reported' ? { ticketURI: `https://tickets.example/${incidentId}` } : {}),
      },
    },
  });

const openIncidents = async (filter: { instance?: string } = {}) =>
  Object.fromEntries((await currentDeployments(store, filter, 100)).map((d) => [d.service, d.openIncidents]));

describe('incident_state: open incidents per cell', () => {
  test('an incident is open when opened after its last resolution, whatever parts and instances hold its events', async () => {
    // Merges stopped: each insert stays its own part, so the read must merge them itself.
    await store.command(`SYSTEM STOP MERGES ${store.table('incident_state')}`);
    await insert('argo-a', deployed('api', 0), deployed('web', 0), deployed('db', 0));
    // api: detected by one instance, resolved in another batch by another: closed.
    await insert('argo-a', incident('api', 'api-down', 'detected', 1));
    await insert('argo-b', incident('api', 'api-down', 'resolved', 2));
    // api: a second incident, reported and never resolved: open.
    await insert('argo-b', incident('api', 'api-slow', 'reported', 3));
    // web: resolved, then detected again later: open. db: detected and resolved in the same
    // millisecond: resolved (a resolution wins a tie).
    await insert(
      'argo-a',
      incident('web', 'web-5xx', 'detected', 1),
      incident('web', 'web-5xx', 'resolved', 2),
    );
    await insert('argo-a', incident('web', 'web-5xx', 'detected', 4));
    await insert(
      'argo-a',
      incident('db', 'db-full', 'detected', 5),
      incident('db', 'db-full', 'resolved', 5),
    );
    const parts = await store.rows<{ n: string | number }>(
      `SELECT count() AS n FROM system.parts WHERE database = {db:String} AND table = 'incident_state' AND active`,
      { db: store.database },
    );
    expect(Number(parts[0]?.n)).toBeGreaterThan(3);
    const expected = { api: 1, db: 0, web: 1 };
    expect(await openIncidents()).toEqual(expected);
    // The filters choose the cells; an incident counts whoever reported it.
    expect(await openIncidents({ instance: 'argo-a' })).toEqual(expected);
    // Merged, the same answer.
    await store.command(`SYSTEM START MERGES ${store.table('incident_state')}`);
    await store.command(`OPTIMIZE TABLE ${store.table('incident_state')} FINAL`);
    expect(await openIncidents()).toEqual(expected);
    // A later resolution closes it.
    await insert('argo-a', incident('web', 'web-5xx', 'resolved', 6));
    expect(await openIncidents()).toEqual({ ...expected, web: 0 });
  });

  test('migration 4 run again, or its backfill over an emptied table, gives the same answer', async () => {
    const before = await openIncidents();
    const [, , backfill] = MIGRATIONS.find((m) => m.version === 4)?.statements ?? [];
    await store.command(`TRUNCATE TABLE ${store.table('incident_state')}`);
    expect(Object.values(await openIncidents()).every((n) => n === 0)).toBe(true);
    await store.command((backfill ?? '').replaceAll('{db}', store.database));
    expect(await openIncidents()).toEqual(before);
    for (const statement of MIGRATIONS.find((m) => m.version === 4)?.statements ?? [])
      await store.command(statement.replaceAll('{db}', store.database));
    expect(await openIncidents()).toEqual(before);
  });
});

describe('timeline_index: a service timeline by index', () => {
  const timeline = async (service: string, limit?: number) =>
    (await serviceTimeline(store, service, {}, limit)).map((e) => e.id);

  test('the newest of a service, oldest first, read through the index', async () => {
    expect(await timeline('web')).toEqual([
      'web-deployed-0',
      'web-5xx-detected-1',
      'web-5xx-resolved-2',
      'web-5xx-detected-4',
      'web-5xx-resolved-6',
    ]);
    expect(await timeline('web', 2)).toEqual(['web-5xx-detected-4', 'web-5xx-resolved-6']);
    // The index is what finds them: emptied, nothing; backfilled (migration 4 again), all back.
    await store.command(`TRUNCATE TABLE ${store.table('timeline_index')}`);
    expect(await timeline('web')).toEqual([]);
    for (const statement of MIGRATIONS.find((m) => m.version === 4)?.statements ?? [])
      await store.command(statement.replaceAll('{db}', store.database));
    expect(await timeline('web', 2)).toEqual(['web-5xx-detected-4', 'web-5xx-resolved-6']);
    // Backfilled twice over the view's rows: still one entry per event.
    expect(await timeline('web')).toHaveLength(5);
  });

  test("the index's view and backfill take exactly the timeline's kinds", () => {
    const kinds = Object.entries(TIMELINE_TYPES)
      .flatMap(([subject, predicates]) => predicates.map((p) => `'${subject}.${p}'`))
      .sort();
    const statements = MIGRATIONS.find((m) => m.version === 4)?.statements ?? [];
    const lists = statements
      .filter((s) => s.includes('timeline_index') && s.includes('SELECT'))
      .map((s) =>
        (/IN \(([^)]*)\)/.exec(s)?.[1] ?? '')
          .split(',')
          .map((k) => k.trim())
          .sort(),
      );
    expect(lists).toHaveLength(2);
    for (const list of lists) expect(list).toEqual(kinds);
  });
});
