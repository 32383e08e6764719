import { afterAll, expect, test } from 'vitest';
import { createTestClickHouse, type TestClickHouse } from '../src/clickhouse.js';

const opened: TestClickHouse[] = [];
afterAll(async () => {
  for (const ch of opened) await ch.close();
});

test('insert deduplication tokens and query parameters work; fixtures get their own databases', async () => {
  const a = await createTestClickHouse();
  const b = await createTestClickHouse();
  opened.push(a, b);
  expect(a.database).not.toBe(b.database);
  const table = `${a.database}.t`;
  await a.client.command({
    query: `CREATE TABLE ${table} (k String, v UInt32) ENGINE = MergeTree ORDER BY k SETTINGS non_replicated_deduplication_window = 100`,
  });
  for (let i = 0; i < 2; i++) {
    await a.client.insert({
      table,
      values: [{ k: 'x', v: 1 }],
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: 'batch-1' },
    });
  }
  const rows = await (
    await a.client.query({
      query: `SELECT count() AS n FROM ${table} WHERE k = {k:String}`,
      query_params: { k: 'x' },
      format: 'JSONEachRow',
    })
  ).json<{ n: string | number }>();
  expect(Number(rows[0]?.n)).toBe(1);
  const injected = await (
    await a.client.query({
      query: `SELECT count() AS n FROM ${table} WHERE k = {k:String}`,
      query_params: { k: "x' OR 1=1 --" },
      format: 'JSONEachRow',
    })
  ).json<{ n: string | number }>();
  expect(Number(injected[0]?.n)).toBe(0);
});
