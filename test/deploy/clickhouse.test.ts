/**
 * deploy/clickhouse/cdevents.sql against the hub's own migrations: the migrations are applied to the
 * embedded ClickHouse (chdb) by Store.open, the cluster DDL is applied into another database with the
 * replicated engine swapped for its single-server twin (chdb has no Keeper and no clusters), and the
 * two tables are compared column by column, index by index, key by key.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MERGE_TREE_SETTINGS, MIGRATIONS, MIGRATIONS_TABLE, Store, tableSetting } from '@argus/store';
import { captureLogs, clickHouseTarget, randomDatabase } from '@argus/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';

const DDL = readFileSync(
  fileURLToPath(new URL('../../deploy/clickhouse/cdevents.sql', import.meta.url)),
  'utf8',
);
const DDL_DATABASE = 'argus';

/** The statements of the file, full-line comments removed. */
const statements = (sql: string): string[] =>
  sql
    .split('\n')
    .filter((line) => !/^\s*--/.test(line))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s !== '');

const DISTRIBUTED =
  /^CREATE TABLE IF NOT EXISTS argus\.cdevents ON CLUSTER '\{cluster\}' AS argus\.cdevents_local\s+ENGINE = Distributed\('\{cluster\}', argus, cdevents_local, cityHash64\(identity\)\)$/;
/** A Distributed table over its `_local` twin, with an optional sharding key. */
const DISTRIBUTED_TWIN =
  /^CREATE TABLE IF NOT EXISTS argus\.(\w+) ON CLUSTER '\{cluster\}' AS argus\.\1_local\s+ENGINE = Distributed\('\{cluster\}', argus, \1_local(?:, [^;]+)?\)$/;
const distributedTwins = (all: readonly string[]): string[] =>
  all.flatMap((s) => DISTRIBUTED_TWIN.exec(s)?.[1] ?? []);

/** The cluster DDL as one server without Keeper runs it: no ON CLUSTER, no Replicated engines. */
const forSingleServer = (statement: string, database: string): string =>
  statement
    .replaceAll(" ON CLUSTER '{cluster}'", '')
    .replace(/Replicated(Replacing|Aggregating)MergeTree\('[^']*', '\{replica\}'\)/g, '$1MergeTree')
    // A view writing through a Distributed table (skipped here) writes its local twin.
    .replace(/ TO argus\.(\w+) AS\b/, (to, table: string) =>
      table.endsWith('_local') ? to : ` TO argus.${table}_local AS`,
    )
    .replace(new RegExp(`\\b${DDL_DATABASE}\\.`, 'g'), `${database}.`)
    .replace(
      new RegExp(`^CREATE DATABASE IF NOT EXISTS ${DDL_DATABASE}$`),
      `CREATE DATABASE IF NOT EXISTS ${database}`,
    );

const logs = captureLogs({ level: 'warn' });
const migrated = randomDatabase('argus_migrated');
const cluster = randomDatabase('argus_cluster_ddl');
let store: Store;

beforeAll(async () => {
  const target = clickHouseTarget();
  store = await Store.open({ ...target, database: migrated, logger: logs.logger });
  for (const statement of statements(DDL).filter((s) => !DISTRIBUTED.test(s) && !DISTRIBUTED_TWIN.test(s)))
    await store.command(forSingleServer(statement, cluster));
});

afterAll(async () => {
  await store.command(`DROP DATABASE IF EXISTS ${migrated}`);
  await store.command(`DROP DATABASE IF EXISTS ${cluster}`);
  await store.close();
});

const columns = (database: string, table: string) =>
  store.rows<Record<string, unknown>>(
    `SELECT name, position, type, default_kind, default_expression, comment, compression_codec,
            is_in_partition_key, is_in_sorting_key, is_in_primary_key
     FROM system.columns WHERE database = {database:String} AND table = {table:String} ORDER BY position`,
    { database, table },
  );
const keys = (database: string, table: string) =>
  store.rows<Record<string, unknown>>(
    `SELECT engine, partition_key, sorting_key, primary_key, sampling_key
     FROM system.tables WHERE database = {database:String} AND name = {table:String}`,
    { database, table },
  );
const indexes = (database: string, table: string) =>
  store.rows<Record<string, unknown>>(
    `SELECT name, type_full, expr, granularity
     FROM system.data_skipping_indices WHERE database = {database:String} AND table = {table:String} ORDER BY name`,
    { database, table },
  );
/** A view's SELECT, with the database and the local twin's name taken out. */
const viewQuery = async (database: string, view: string) => {
  const [row] = await store.rows<{ as_select: string }>(
    'SELECT as_select FROM system.tables WHERE database = {database:String} AND name = {view:String}',
    { database, view },
  );
  return row?.as_select.replaceAll(`${database}.`, '').replace('cdevents_local', 'cdevents');
};
const tables = async (database: string) =>
  (
    await store.rows<{ name: string }>(
      'SELECT name FROM system.tables WHERE database = {database:String} ORDER BY name',
      { database },
    )
  ).map((r) => r.name);

test('the cluster DDL has a Distributed cdevents over a replicated cdevents_local, sharded by identity', () => {
  const all = statements(DDL);
  expect(all.filter((s) => s.includes('ON CLUSTER'))).toHaveLength(all.length - 1); // all but the INSERT
  expect(all.some((s) => DISTRIBUTED.test(s))).toBe(true);
  expect(distributedTwins(all)).toEqual([
    'cdevents',
    'service_last',
    'incident_state',
    'timeline_index',
    'merge_refs',
    'artifact_refs',
    'dora_steps',
  ]);
  // Each incident on one shard, whatever shards its events went to: the hub reads it FINAL per shard.
  expect(DDL).toMatch(
    /ENGINE = Distributed\('\{cluster\}', argus, incident_state_local, cityHash64\(service_id, cluster, subject_id\)\)/,
  );
  expect(DDL).toMatch(
    /CREATE MATERIALIZED VIEW IF NOT EXISTS argus\.incident_state_mv ON CLUSTER '\{cluster\}' TO argus\.incident_state AS/,
  );
  expect(DDL).toMatch(
    /CREATE TABLE IF NOT EXISTS argus\.cdevents_local ON CLUSTER[\s\S]*ENGINE = ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'\)/,
  );
});

test('cdevents_local equals the table the migrations create: columns, codecs, indexes, partitioning, ordering', async () => {
  const expectedColumns = await columns(migrated, 'cdevents');
  expect(expectedColumns.map((c) => c.name)).toContain('service_id');
  expect(await columns(cluster, 'cdevents_local')).toEqual(expectedColumns);

  const expectedKeys = await keys(migrated, 'cdevents');
  expect(expectedKeys).toEqual([
    {
      engine: 'ReplacingMergeTree',
      partition_key: 'toYYYYMM(timestamp)',
      sorting_key: 'cluster, subject_type, timestamp, identity',
      primary_key: 'cluster, subject_type, timestamp, identity',
      sampling_key: '',
    },
  ]);
  expect(await keys(cluster, 'cdevents_local')).toEqual(expectedKeys);

  const expectedIndexes = await indexes(migrated, 'cdevents');
  expect(expectedIndexes.map((i) => i.name)).toEqual([
    'idx_chain_id',
    'idx_identity',
    'idx_service_id',
    'idx_subject_id',
  ]);
  expect(await indexes(cluster, 'cdevents_local')).toEqual(expectedIndexes);
});

test('service_last_local equals the what-runs-where aggregate of migration 3, and its view selects alike', async () => {
  const expectedColumns = await columns(migrated, 'service_last');
  expect(expectedColumns.map((c) => c.name)).toEqual([
    'service_id',
    'cluster',
    'instance',
    'environment',
    'latest',
    'at',
  ]);
  expect(await columns(cluster, 'service_last_local')).toEqual(expectedColumns);
  const expectedKeys = await keys(migrated, 'service_last');
  expect(expectedKeys[0]).toMatchObject({ engine: 'AggregatingMergeTree' });
  expect(await keys(cluster, 'service_last_local')).toEqual(expectedKeys);
  expect(await viewQuery(cluster, 'service_last_mv')).toBe(await viewQuery(migrated, 'service_last_mv'));
});

test('the _local tables of migrations 4 to 6 equal what the migrations create, and their views select alike', async () => {
  for (const [table, engine, names] of [
    [
      'incident_state',
      'AggregatingMergeTree',
      ['service_id', 'cluster', 'subject_id', 'last_opened', 'last_resolved'],
    ],
    [
      'timeline_index',
      'ReplacingMergeTree',
      ['service_id', 'timestamp', 'identity', 'cluster', 'subject_type'],
    ],
    ['merge_refs', 'ReplacingMergeTree', ['ref', 'timestamp']],
    ['artifact_refs', 'ReplacingMergeTree', ['subject_id', 'ref', 'timestamp']],
    [
      'dora_steps',
      'ReplacingMergeTree',
      ['service_id', 'cluster', 'environment', 'timestamp', 'digest', 'step'],
    ],
  ] as const) {
    const expectedColumns = await columns(migrated, table);
    expect(expectedColumns.map((c) => c.name)).toEqual(names);
    expect(await columns(cluster, `${table}_local`)).toEqual(expectedColumns);
    const expectedKeys = await keys(migrated, table);
    expect(expectedKeys[0]).toMatchObject({ engine });
    expect(await keys(cluster, `${table}_local`)).toEqual(expectedKeys);
    expect(await viewQuery(cluster, `${table}_mv`)).toBe(await viewQuery(migrated, `${table}_mv`));
  }
});

test('every table of the DDL has the merge settings the hub gives its own tables', async () => {
  const mergeSettings = async (database: string) =>
    (
      await store.rows<{ name: string; engine: string; create: string }>(
        'SELECT name, engine, create_table_query AS create FROM system.tables WHERE database = {database:String} ORDER BY name',
        { database },
      )
    )
      .filter((t) => t.engine.endsWith('MergeTree'))
      .map((t) => ({
        table: t.name.replace(/_local$/, ''),
        settings: Object.keys(MERGE_TREE_SETTINGS).map((s) => tableSetting(t.create, s)),
      }));
  const expected = await mergeSettings(migrated);
  expect(expected).toHaveLength(8);
  for (const { settings } of expected) expect(settings).toEqual(Object.values(MERGE_TREE_SETTINGS));
  expect(await mergeSettings(cluster)).toEqual(expected);
});

test('the DDL records every migration, so the hub applies none of them to the Distributed table', async () => {
  const recorded = await store.rows<{ version: number; name: string }>(
    `SELECT DISTINCT version, name FROM ${cluster}.${MIGRATIONS_TABLE} ORDER BY version`,
  );
  expect(recorded.map((r) => ({ version: Number(r.version), name: r.name }))).toEqual(
    MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
  );
  // The hub opening that database runs no migration: it creates no table of its own beside the DDL's.
  const hubStore = await Store.open({ ...clickHouseTarget(), database: cluster, logger: logs.logger });
  try {
    expect(await hubStore.migrate()).toEqual([]);
    expect(await tables(cluster)).toEqual([
      MIGRATIONS_TABLE,
      'artifact_refs_local',
      'artifact_refs_mv',
      'cdevents_local',
      'dora_steps_local',
      'dora_steps_mv',
      'incident_state_local',
      'incident_state_mv',
      'merge_refs_local',
      'merge_refs_mv',
      'service_last_local',
      'service_last_mv',
      'timeline_index_local',
      'timeline_index_mv',
    ]);
  } finally {
    await hubStore.close();
  }
});
