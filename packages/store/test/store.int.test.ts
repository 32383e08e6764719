import { type CDEvent, createEvent } from '@argus/cdevents';
import { captureLogs, clickHouseTarget, randomDatabase } from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MigrationError, StoreOptionsError } from '../src/errors.js';
import {
  countEvents,
  dataFilesystem,
  QueryLimitError,
  SchemaMismatchError,
  Store,
  searchEvents,
  toEventRow,
  withQuerySignal,
} from '../src/index.js';
import { MERGE_TREE_SETTINGS, tableSetting } from '../src/merge-settings.js';

const logs = captureLogs();
let store: Store;
beforeAll(async () => {
  store = await Store.open({ ...clickHouseTarget(), database: randomDatabase(), logger: logs.logger });
});
afterAll(async () => {
  await store.command(`DROP DATABASE IF EXISTS ${store.database}`);
  await store.close();
});

const deployed = (id: string, cluster: string, timestamp: string): CDEvent =>
  createEvent({
    type: 'service.deployed',
    id,
    source: `/argocd/${cluster}/podinfo/podinfo`,
    timestamp,
    subject: {
      id: 'podinfo',
      content: { environment: { id: `${cluster}/podinfo` }, artifactId: 'pkg:oci/podinfo' },
    },
  });

const row = (event: CDEvent, instance: string, cluster: string) =>
  toEventRow({
    event,
    subjectType: 'service',
    predicate: 'deployed',
    specVersion: '0.5.1',
    raw: JSON.stringify(event),
    tags: { instance, cluster, environment: '', labels: { team: 'payments' } },
    receivedAt: new Date('2026-01-01T00:00:00Z'),
  });

describe('Store', () => {
  test('migrations are applied once and recorded; reopening applies nothing', async () => {
    expect(logs.find((l) => l.msg === 'migration applied')).toMatchObject({ version: 1 });
    expect(await store.migrate()).toEqual([]);
  });

  test('every MergeTree table gets the merge settings at open; applying again changes only what differs', async () => {
    const tables = async () =>
      store.rows<{ name: string; engine: string; create: string }>(
        'SELECT name, engine, create_table_query AS create FROM system.tables WHERE database = {db:String}',
        { db: store.database },
      );
    const mergeTrees = (await tables()).filter((t) => t.engine.endsWith('MergeTree'));
    expect(mergeTrees.map((t) => t.name)).toEqual(
      expect.arrayContaining(['cdevents', 'service_last', 'dora_steps']),
    );
    for (const { name, create } of mergeTrees) {
      for (const [setting, value] of Object.entries(MERGE_TREE_SETTINGS))
        expect(tableSetting(create, setting), `${name}.${setting}`).toBe(value);
    }
    expect(await store.applyMergeSettings()).toEqual([]);
    await store.command(
      `ALTER TABLE ${store.table('timeline_index')} MODIFY SETTING merge_selector_base = 5`,
    );
    expect(await store.applyMergeSettings()).toEqual([
      {
        table: 'timeline_index',
        setting: 'merge_selector_base',
        from: 5,
        to: MERGE_TREE_SETTINGS.merge_selector_base,
      },
    ]);
    expect(logs.find((l) => l.msg === 'merge setting changed' && l.from === 5)).toMatchObject({
      table: store.table('timeline_index'),
    });
    // Refused (ClickHouse fixes it at creation): logged, and the store goes on.
    expect(await store.applyMergeSettings({ index_granularity: 4096 })).toEqual([]);
    expect(logs.find((l) => l.setting === 'index_granularity' && l.level === 40)).toMatchObject({
      msg: expect.stringContaining('could not change a merge setting'),
    });
    expect(await store.applyMergeSettings({ no_such_merge_setting: 1 })).toEqual([]);
    expect(logs.find((l) => Array.isArray(l.settings))).toMatchObject({
      settings: ['no_such_merge_setting'],
    });
  });

  test('a retried batch with the same token stores nothing twice', async () => {
    const rows = [row(deployed('a1', 'prod-eu', '2026-01-01T10:00:00.123456Z'), 'i1', 'prod-eu')];
    await store.insertEvents(rows, 'token-a');
    await store.insertEvents(rows, 'token-a');
    expect(await countEvents(store, { subjectId: 'podinfo', cluster: 'prod-eu' })).toEqual({
      events: 1,
      rows: 1,
    });
  });

  test('a repeat that reaches the table under another token is one event in every query', async () => {
    const event = deployed('b1', 'prod-us', '2026-01-02T10:00:00Z');
    await store.insertEvents([row(event, 'i1', 'prod-us')], 'token-b1');
    await store.insertEvents([row(event, 'i2', 'prod-us')], 'token-b2');
    const counts = await countEvents(store, { cluster: 'prod-us' });
    expect(counts.events).toBe(1);
    const found = await searchEvents(store, { cluster: 'prod-us' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ id: 'b1', cluster: 'prod-us', timestamp: '2026-01-02T10:00:00.000Z' });
    expect(JSON.parse(found[0]?.raw ?? '{}')).toEqual(event);
  });

  test('existingIdentities finds stored events only', async () => {
    const stored = row(deployed('a1', 'prod-eu', '2026-01-01T10:00:00.123456Z'), 'i1', 'prod-eu').identity;
    expect(await store.existingIdentities([stored, 'f'.repeat(32)])).toEqual(new Set([stored]));
    // Within the batch's time range (rows' UTC text): found in it, not outside it.
    const day = { since: '2026-01-01 00:00:00.000', until: '2026-01-01 23:59:59.999' };
    expect(await store.existingIdentities([stored], day)).toEqual(new Set([stored]));
    const later = { since: '2026-01-02 00:00:00.000', until: '2026-01-02 23:59:59.999' };
    expect(await store.existingIdentities([stored], later)).toEqual(new Set());
  });

  test('filters are parameters: an injection attempt matches nothing and changes nothing', async () => {
    const before = await countEvents(store);
    for (const attack of ["prod-eu' OR 1=1 --", 'prod-eu\\', "'; DROP TABLE cdevents; --"]) {
      expect(await searchEvents(store, { cluster: attack })).toEqual([]);
    }
    expect(await countEvents(store)).toEqual(before);
  });

  test('time range filters are inclusive-exclusive', async () => {
    const found = await searchEvents(store, {
      since: new Date('2026-01-02T00:00:00Z'),
      until: new Date('2026-01-03T00:00:00Z'),
    });
    expect(found.map((e) => e.id)).toEqual(['b1']);
  });

  test('a batch spanning 150 months is stored (ClickHouse takes at most 100 partitions per insert)', async () => {
    const rows = Array.from({ length: 150 }, (_, i) =>
      row(
        deployed(
          `m${i}`,
          'backfill',
          `${1990 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-15T10:00:00Z`,
        ),
        'i1',
        'backfill',
      ),
    );
    await store.insertEvents(rows, 'token-months');
    // Retried as a whole (a timeout whose first attempt landed): each part keeps its token.
    await store.insertEvents(rows, 'token-months');
    expect(await countEvents(store, { cluster: 'backfill' })).toEqual({ events: 150, rows: 150 });
  });

  test("the open line names the data directory's filesystem, with a warning only where it is slow", () => {
    const target = clickHouseTarget();
    const open = logs.find((line) => line.msg === 'store open');
    if (target.dataDir === undefined) {
      expect(open?.filesystem).toBeUndefined();
      return;
    }
    const filesystem = dataFilesystem(target.dataDir);
    expect(open?.filesystem).toBe(filesystem.description);
    const warned = logs.find((line) => line.level === 40 && String(line.msg).includes('--data-dir'));
    expect(warned?.msg).toBe(filesystem.warning);
  });

  test('checkEventsTable passes on the migrated table and names each difference otherwise', async () => {
    await store.checkEventsTable();
    const other = await Store.open({
      ...clickHouseTarget(),
      database: randomDatabase(),
      logger: logs.logger,
    });
    try {
      // The what-runs-where view reads artifact_id: ClickHouse forbids dropping it under the view.
      await other.command(`DROP VIEW ${other.table('service_last_mv')}`);
      await other.command(`ALTER TABLE ${other.table('cdevents')} MODIFY COLUMN chain_id UInt64`);
      await other.command(`ALTER TABLE ${other.table('cdevents')} DROP COLUMN artifact_id`);
      const error = await other.checkEventsTable().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SchemaMismatchError);
      expect((error as SchemaMismatchError).problems).toEqual([
        'column chain_id is UInt64, expected String',
        'column artifact_id is missing',
      ]);
      await other.command(`DROP TABLE ${other.table('cdevents')}`);
      await expect(other.checkEventsTable()).rejects.toThrow(/does not exist/);
    } finally {
      await other.command(`DROP DATABASE IF EXISTS ${other.database}`);
      await other.close();
    }
  });

  test('options are checked at the edge', async () => {
    await expect(Store.open({ logger: logs.logger })).rejects.toThrow(StoreOptionsError);
    await expect(
      Store.open({ ...clickHouseTarget(), database: 'bad-name;', logger: logs.logger }),
    ).rejects.toThrow(/database name "bad-name;" is not valid/);
  });

  test('a failing migration names its version', async () => {
    const error = await store
      .migrate([
        { version: 99, name: 'broken', statements: ['CREATE TABLE {db}.x (a NoSuchType) ENGINE = Memory'] },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).version).toBe(99);
  });
});

describe('read limits (adversarial review 2, finding 9)', () => {
  test('ClickHouse stops a read beyond the time or memory limit, with a typed error', async () => {
    const tight = { maxExecutionMs: 300, maxMemoryBytes: 256 * 1024 * 1024 };
    const started = performance.now();
    const slow = store.rows(
      'SELECT count() AS n FROM numbers(100000000000) WHERE sipHash64(number) = 7',
      {},
      tight,
    );
    await expect(slow).rejects.toBeInstanceOf(QueryLimitError);
    await expect(slow).rejects.toMatchObject({ reason: 'time' });
    expect(performance.now() - started).toBeLessThan(10_000);

    const greedy = store.rows(
      'SELECT length(groupArray(number)) AS n FROM numbers(100000000)',
      {},
      { maxExecutionMs: 20_000, maxMemoryBytes: 16 * 1024 * 1024 },
    );
    await expect(greedy).rejects.toMatchObject({ name: 'QueryLimitError', reason: 'memory' });
    await expect(greedy).rejects.toThrow(/more than 16 MiB of memory/);

    // The limits are per read: the next one, within them, answers.
    const [within] = await store.rows<{ n: string | number }>('SELECT count() AS n FROM numbers(1000)');
    expect(Number(within?.n)).toBe(1000);
    expect(store.queryLimits).toEqual({ maxExecutionMs: 20_000, maxMemoryBytes: 256 * 1024 * 1024 });
  });

  test('an insert waits for the one read running, not for the reads sent before it (chdb runs one at a time)', async () => {
    const done: string[] = [];
    const read = (name: string) =>
      store.rows('SELECT sleep(0.6) AS s').then(() => {
        done.push(name);
      });
    const reads = [read('read 1'), read('read 2'), read('read 3')];
    await new Promise((r) => setTimeout(r, 100));
    const insert = store
      .insertEvents([row(deployed('q1', 'prod-eu', '2026-01-02T10:00:00Z'), 'i1', 'prod-eu')], 'token-q1')
      .then(() => {
        done.push('insert');
      });
    await Promise.all([...reads, insert]);
    // Left to chdb, the insert ended last, after every read sent before it (measured: 6.1 s behind
    // three 2 s reads). A server runs them side by side: the insert ends first.
    expect(done.indexOf('insert')).toBeLessThanOrEqual(1);
    expect(done.filter((d) => d !== 'insert')).toEqual(['read 1', 'read 2', 'read 3']);
  });

  test("a probe behind a long read still finds the store answering; a missing events table is the probe's failure", async () => {
    // 3 s of reading: six blocks of one row, half a second each.
    const long = store.rows('SELECT sleepEachRow(0.5) AS s FROM numbers(6) SETTINGS max_block_size = 1');
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    expect(await store.answers(1_000)).toBeUndefined();
    // chdb: the probe waited in line longer than its own time limit, and that was no failure.
    if (store.kind === 'chdb') expect(performance.now() - started).toBeGreaterThan(1_500);
    await long;

    await store.command(`RENAME TABLE ${store.table('cdevents')} TO ${store.table('cdevents_away')}`);
    try {
      expect(await store.answers(1_000)).toMatch(/cdevents/);
    } finally {
      await store.command(`RENAME TABLE ${store.table('cdevents_away')} TO ${store.table('cdevents')}`);
    }
    expect(await store.answers(1_000)).toBeUndefined();
  });

  test('a read under an aborted signal is given up at once', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const read = withQuerySignal(controller.signal, () =>
      store.rows(
        'SELECT count() AS n FROM numbers(100000000000) WHERE sipHash64(number) = 7',
        {},
        { maxExecutionMs: 3_000, maxMemoryBytes: 256 * 1024 * 1024 },
      ),
    );
    setTimeout(() => controller.abort(), 200);
    await expect(read).rejects.toThrow(/abort/i);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
