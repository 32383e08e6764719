import { type CDEvent, createEvent } from '@argus/cdevents';
import { captureLogs, clickHouseTarget, randomDatabase } from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { StoreOptionsError } from '../src/errors.js';
import { countEvents, Store, toEventRow } from '../src/index.js';

/** Retention of the events table (issue 12 item 6): a TTL set, changed and removed at start. */
const logs = captureLogs();
let store: Store;
beforeAll(async () => {
  store = await Store.open({ ...clickHouseTarget(), database: randomDatabase(), logger: logs.logger });
});
afterAll(async () => {
  await store.command(`DROP DATABASE IF EXISTS ${store.database}`);
  await store.close();
});

const DAY = 86_400_000;
const deployedAt = (id: string, timestamp: Date): CDEvent =>
  createEvent({
    type: 'service.deployed',
    id,
    source: '/argocd/prod-eu/podinfo/podinfo',
    timestamp: timestamp.toISOString(),
    subject: {
      id: 'podinfo',
      content: { environment: { id: 'prod-eu/podinfo' }, artifactId: 'pkg:oci/podinfo' },
    },
  });
const row = (event: CDEvent) =>
  toEventRow({
    event,
    subjectType: 'service',
    predicate: 'deployed',
    specVersion: '0.5.1',
    raw: JSON.stringify(event),
    tags: { instance: 'argo-eu', cluster: 'prod-eu', environment: '', labels: {} },
    receivedAt: new Date(),
  });

describe('Store.applyRetention', () => {
  test('events of months past the retention are dropped, recent ones kept; removing it keeps all', async () => {
    const now = Date.now();
    const old = [0, 1, 2].map((i) => deployedAt(`old-${i}`, new Date(now - (200 + i) * DAY)));
    const recent = [0, 1].map((i) => deployedAt(`new-${i}`, new Date(now - i * DAY)));
    await store.insertEvents([...old, ...recent].map(row), 'retention-rows');
    expect((await countEvents(store, {})).events).toBe(5);

    const set = await store.applyRetention(90);
    expect(set).toEqual({ changed: true, ttl: 'toDateTime(timestamp) + toIntervalDay(90)' });
    // TTL is applied by merges; FINAL makes ClickHouse run them now instead of in the background.
    await store.command(`OPTIMIZE TABLE ${store.table('cdevents')} FINAL`);
    expect((await countEvents(store, {})).events).toBe(2);

    // Applied at every start: the same retention changes nothing, another one changes the TTL.
    expect((await store.applyRetention(90)).changed).toBe(false);
    expect((await store.applyRetention(400)).ttl).toBe('toDateTime(timestamp) + toIntervalDay(400)');
    const removed = await store.applyRetention(undefined);
    expect(removed).toEqual({ changed: true, ttl: undefined });
    await store.insertEvents(old.map(row), 'retention-rows-again');
    await store.command(`OPTIMIZE TABLE ${store.table('cdevents')} FINAL`);
    expect((await countEvents(store, {})).events).toBe(5);
  });

  test('the timeline index and the references of merges and artifacts keep their rows as long as the events', async () => {
    const ttlOf = async (table: string) => {
      const [row] = await store.rows<{ create: string }>(
        'SELECT create_table_query AS create FROM system.tables WHERE database = {db:String} AND name = {table:String}',
        { db: store.database, table },
      );
      return / TTL (.+?)(?: SETTINGS |$)/s.exec(row?.create ?? '')?.[1]?.trim();
    };
    expect((await store.applyRetention(30)).changed).toBe(true);
    for (const table of ['timeline_index', 'merge_refs', 'artifact_refs', 'dora_steps'])
      expect(await ttlOf(table)).toBe('toDateTime(timestamp) + toIntervalDay(30)');
    // An index without the TTL (a hub of before) gets it though the events table already has it.
    await store.command(`ALTER TABLE ${store.table('timeline_index')} REMOVE TTL`);
    expect((await store.applyRetention(30)).changed).toBe(true);
    expect(await ttlOf('timeline_index')).toBe('toDateTime(timestamp) + toIntervalDay(30)');
    expect((await store.applyRetention(undefined)).changed).toBe(true);
    for (const table of ['timeline_index', 'merge_refs', 'artifact_refs', 'dora_steps'])
      expect(await ttlOf(table)).toBeUndefined();
  });

  test('a retention that is not a whole number of days >= 1 is refused', async () => {
    await expect(store.applyRetention(0)).rejects.toThrow(StoreOptionsError);
    await expect(store.applyRetention(1.5)).rejects.toThrow(/whole number of days/);
  });
});
