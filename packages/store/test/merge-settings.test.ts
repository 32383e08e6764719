import { describe, expect, test } from 'vitest';
import { MERGE_TREE_SETTINGS, mergeSettingChanges, tableSetting } from '../src/merge-settings.js';

const create = (name: string, settings: string) =>
  `CREATE TABLE argus.${name} (\`a\` UInt8) ENGINE = ReplacingMergeTree ORDER BY a SETTINGS ${settings}`;
const table = (name: string, settings = 'index_granularity = 8192', engine = 'ReplacingMergeTree') => ({
  name,
  engine,
  create: create(name, settings),
});
const knowsAll = () => true;

describe('merge settings', () => {
  test("a table's own value is read from its CREATE statement, not from a name that ends like it", () => {
    expect(
      tableSetting(create('t', 'index_granularity = 8192, merge_selector_base = 20'), 'merge_selector_base'),
    ).toBe(20);
    expect(tableSetting(create('t', 'merge_selector_base = 7.5'), 'merge_selector_base')).toBe(7.5);
    expect(tableSetting(create('t', 'index_granularity = 8192'), 'merge_selector_base')).toBeUndefined();
    expect(tableSetting(create('t', 'x_merge_selector_base = 20'), 'merge_selector_base')).toBeUndefined();
    expect(
      tableSetting('CREATE TABLE argus.t (`a` UInt8) ENGINE = Memory', 'merge_selector_base'),
    ).toBeUndefined();
  });

  test('every MergeTree table without the wanted value is changed; others and views are left alone', () => {
    const changes = mergeSettingChanges(
      [
        table('cdevents'),
        table('service_last', 'index_granularity = 8192, merge_selector_base = 20', 'AggregatingMergeTree'),
        table('dora_steps', 'index_granularity = 8192, merge_selector_base = 5'),
        {
          name: 'dora_steps_mv',
          engine: 'MaterializedView',
          create: 'CREATE MATERIALIZED VIEW argus.dora_steps_mv TO …',
        },
      ],
      knowsAll,
      { merge_selector_base: 20 },
    );
    expect(changes).toEqual([
      { table: 'cdevents', setting: 'merge_selector_base', from: undefined, to: 20 },
      { table: 'dora_steps', setting: 'merge_selector_base', from: 5, to: 20 },
    ]);
  });

  test('a setting this ClickHouse does not have is skipped, the others still applied', () => {
    const changes = mergeSettingChanges([table('cdevents')], (s) => s !== 'merge_selector_base', {
      merge_selector_base: 20,
      old_parts_lifetime: 30,
    });
    expect(changes).toEqual([{ table: 'cdevents', setting: 'old_parts_lifetime', from: undefined, to: 30 }]);
  });

  test('a cluster (Distributed events table) is left to its DDL', () => {
    const tables = [
      table('cdevents', '', 'Distributed'),
      table('cdevents_local', 'index_granularity = 8192'),
    ];
    expect(mergeSettingChanges(tables, knowsAll, MERGE_TREE_SETTINGS)).toEqual([]);
  });
});
