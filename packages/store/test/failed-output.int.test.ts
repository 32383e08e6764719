import { captureLogs, clickHouseTarget, randomDatabase } from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { QueryLimitError, SqlFailedError, Store } from '../src/index.js';
import { runReadOnlySql } from '../src/sql.js';

/**
 * chdb 3.4 hands what a failed query wrote before failing to the next query of the connection: a
 * header of JSONCompactEachRowWithNamesAndTypes, or the rows written before a time limit or an error.
 * The store's own calls take that output away after a failure, so the next caller reads only its rows.
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

describe("a failed query's output never reaches the next query", () => {
  test('rows written before an error inside rows()', async () => {
    const failing = store.rows(
      'SELECT number, throwIf(number = 5) AS t FROM numbers(10) SETTINGS max_block_size = 1',
    );
    await expect(failing).rejects.toThrow(/throwIf/);
    expect(await store.rows<{ x: string }>("SELECT 'next' AS x")).toEqual([{ x: 'next' }]);
  });

  test('rows written before the time limit inside rows()', async () => {
    const slow = store.rows(
      'SELECT number, sleep(0.3) AS s FROM numbers(10) SETTINGS max_block_size = 1',
      {},
      {
        maxExecutionMs: 1000,
        maxMemoryBytes: store.queryLimits.maxMemoryBytes,
      },
    );
    await expect(slow).rejects.toBeInstanceOf(QueryLimitError);
    expect(await store.rows<{ x: string }>("SELECT 'next' AS x")).toEqual([{ x: 'next' }]);
  });

  test("argus sql: a timed-out statement's header is not the next answer's", async () => {
    const limits = { maxRows: 10, maxExecutionMs: 1000, maxBytes: 1024 * 1024 };
    await expect(runReadOnlySql(store, 'SELECT sleep(2)', limits)).rejects.toBeInstanceOf(QueryLimitError);
    expect(await runReadOnlySql(store, "SELECT 'next' AS x", limits)).toEqual({
      columns: [{ name: 'x', type: 'String' }],
      rows: ['["next"]'],
      truncated: false,
    });
    await expect(runReadOnlySql(store, 'SELECT throwIf(1)', limits)).rejects.toBeInstanceOf(SqlFailedError);
    expect((await runReadOnlySql(store, 'SELECT 2 AS y', limits)).columns).toEqual([
      { name: 'y', type: 'UInt8' },
    ]);
  });
});
