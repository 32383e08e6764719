/**
 * MergeTree settings the store keeps on its tables, and the changes that bring a table to them.
 *
 * The hub writes small parts: at 1,000 events/s with its 100 ms batch wait, ten inserts of ~100 rows
 * a second, each a part in cdevents and in each table a view fills. ClickHouse's merge selector
 * counts every part as at least 5 MiB (`size_fixed_cost_to_add`), so with its merge_selector_base
 * of 5 it merged every few tiny parts into the biggest ones again and again. Ten such inserts a
 * second for 20 s (20,000 events, chdb): base 5, 413 merges and 13.6M rows rewritten, 0.92 of a
 * core; base 10, 88 merges and 0.56M rows, 0.46-0.53 of a core; base 20 no cheaper (0.50-0.52) and
 * more parts left (docs/benchmarks.md, 2026-12-07). ClickHouse lowers the base itself as a
 * partition's parts pass 10 (to 1, any two parts, at 50) and as they age, so parts stay bounded.
 */
export const MERGE_TREE_SETTINGS: Readonly<Record<string, number>> = Object.freeze({
  merge_selector_base: 10,
});

/** A table as `system.tables` shows it. */
export interface TableDefinition {
  readonly name: string;
  readonly engine: string;
  readonly create: string;
}

/** One `ALTER TABLE … MODIFY SETTING` the store makes. */
export interface MergeSettingChange {
  readonly table: string;
  readonly setting: string;
  /** The table's own value, `undefined` when it has ClickHouse's default. */
  readonly from: number | undefined;
  readonly to: number;
}

/** The value a table's `CREATE` statement sets for `setting`, if it sets one. */
export const tableSetting = (create: string, setting: string): number | undefined => {
  const settings = / SETTINGS (.+)$/s.exec(create)?.[1] ?? '';
  const value = new RegExp(`(?:^|, )${setting} = ([0-9.]+)`).exec(settings)?.[1];
  return value === undefined ? undefined : Number(value);
};

/**
 * The changes that give every MergeTree table of `tables` the `wanted` settings ClickHouse `knows`
 * (an older server without one keeps its default). None when the events table is Distributed: a
 * cluster's local tables are made by deploy/clickhouse/cdevents.sql, with these settings in it.
 */
export const mergeSettingChanges = (
  tables: readonly TableDefinition[],
  knows: (setting: string) => boolean,
  wanted: Readonly<Record<string, number>>,
): MergeSettingChange[] => {
  if (tables.some((t) => t.name === 'cdevents' && t.engine === 'Distributed')) return [];
  const changes: MergeSettingChange[] = [];
  for (const table of tables) {
    if (!table.engine.endsWith('MergeTree')) continue;
    for (const [setting, to] of Object.entries(wanted)) {
      if (!knows(setting)) continue;
      const from = tableSetting(table.create, setting);
      if (from !== to) changes.push({ table: table.name, setting, from, to });
    }
  }
  return changes;
};
