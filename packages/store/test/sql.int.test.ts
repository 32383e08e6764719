import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLogs, clickHouseTarget, randomDatabase } from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { QueryLimitError, SqlFailedError, Store } from '../src/index.js';
import { runReadOnlySql, runUnderReadonly } from '../src/sql.js';

let store: Store;
let dir: string;
const LIMITS = { maxRows: 10, maxExecutionMs: 1000, maxBytes: 1024 * 1024 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'argus-sql-'));
  store = await Store.open({
    ...clickHouseTarget(),
    database: randomDatabase(),
    logger: captureLogs().logger,
  });
  await store.command(
    `INSERT INTO ${store.table('argus_migrations')} (version, name) VALUES (999, 'marker')`,
  );
});
afterAll(async () => {
  await store.command(`DROP DATABASE IF EXISTS ${store.database}`);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const count = async (sql: string): Promise<number> => Number((await store.rows<{ n: unknown }>(sql))[0]?.n);

describe('read-only SQL on the real store', () => {
  test('a SELECT answers with columns, types and JSON rows', async () => {
    const answer = await runReadOnlySql(
      store,
      `-- the marker\nSELECT version, name FROM ${store.table('argus_migrations')} WHERE version = 999;`,
      LIMITS,
    );
    expect(answer.columns).toEqual([
      { name: 'version', type: 'UInt32' },
      { name: 'name', type: 'String' },
    ]);
    expect(answer.rows.map((r) => JSON.parse(r))).toEqual([[999, 'marker']]);
    expect(answer.truncated).toBe(false);
  });

  test('readonly = 1 alone refuses every write, the guard bypassed', async () => {
    const t = store.table('argus_migrations');
    const file = join(dir, 'read.txt');
    const tables = `SELECT count() AS n FROM system.tables WHERE database = '${store.database}'`;
    const tablesBefore = await count(tables);
    for (const statement of [
      `INSERT INTO ${t} (version, name) VALUES (1000, 'x')`,
      `INSERT INTO ${t} (version, name) SELECT 1000, 'x'`,
      `ALTER TABLE ${t} DELETE WHERE 1`,
      `DROP TABLE ${t}`,
      `TRUNCATE TABLE ${t}`,
      `CREATE TABLE ${store.database}.made (x UInt8) ENGINE = Memory`,
      `CREATE DATABASE made_${store.database}`,
      // Table functions that reach the disk or the network.
      `SELECT * FROM file('${file}', 'LineAsString')`,
      `INSERT INTO FUNCTION file('${file}', 'LineAsString') SELECT 'x'`,
      "SELECT * FROM url('http://127.0.0.1:9/', 'LineAsString')",
      "SELECT * FROM remote('127.0.0.1:9', system.one)",
      // A settings clause of its own comes after ours and is refused under readonly.
      'SELECT 1 SETTINGS readonly = 0',
    ]) {
      const error = await runUnderReadonly(store, statement, LIMITS).catch((e: unknown) => e);
      expect(error, statement).toBeInstanceOf(SqlFailedError);
    }
    expect(await count(`SELECT count() AS n FROM ${t} WHERE version = 999`)).toBe(1);
    expect(existsSync(file)).toBe(false);
    // No table was made (the migrations' own count, whatever they create).
    expect(await count(tables)).toBe(tablesBefore);
  });

  test('the row limit cuts and says so; the time limit stops a long read', async () => {
    const answer = await runReadOnlySql(store, 'SELECT number FROM numbers(100000)', LIMITS);
    expect(answer.rows).toHaveLength(10);
    expect(answer.truncated).toBe(true);
    const small = await runReadOnlySql(store, 'SELECT number FROM numbers(100000)', {
      ...LIMITS,
      maxBytes: 20,
    });
    expect(small.rows.length).toBeLessThan(10);
    expect(small.truncated).toBe(true);
    const started = Date.now();
    const slow = await runReadOnlySql(store, 'SELECT sleep(2)', LIMITS).catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(QueryLimitError);
    expect(Date.now() - started).toBeLessThan(1900);
  });

  test('ClickHouse errors come back as its message, first line', async () => {
    const error = await runReadOnlySql(store, 'SELECT * FROM no_such_table_here', LIMITS).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SqlFailedError);
    expect((error as SqlFailedError).type).toBe('UNKNOWN_TABLE');
    expect((error as Error).message).toContain('no_such_table_here');
  });
});
