import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';

/** Where tests' ClickHouse lives: a server (env ARGUS_TEST_CLICKHOUSE_URL) or this process's chdb dir. */
export type ClickHouseTarget =
  | { readonly url: string; readonly dataDir?: undefined }
  | { readonly url?: undefined; readonly dataDir: string };

let processDataDir: string | undefined;

/**
 * The ClickHouse every test of this process uses. chdb binds one data directory per process, so
 * all embedded stores of a process share one directory and isolate themselves by database name.
 */
export const clickHouseTarget = (): ClickHouseTarget => {
  const url = process.env.ARGUS_TEST_CLICKHOUSE_URL;
  if (url !== undefined && url !== '') return { url };
  processDataDir ??= mkdtempSync(join(tmpdir(), 'argus-chdb-'));
  return { dataDir: processDataDir };
};

/** A database name no other test uses: `<prefix>_<random hex>`. */
export const randomDatabase = (prefix = 'argus_test'): string =>
  `${prefix}_${randomBytes(6).toString('hex')}`;

export interface TestClickHouse {
  /** A client whose queries default to `database`. */
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly kind: 'chdb' | 'server';
  readonly target: ClickHouseTarget;
  /** Drops the database and closes the client. */
  close(): Promise<void>;
}

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/**
 * A `@clickhouse/client` over the process's embedded chdb (or ARGUS_TEST_CLICKHOUSE_URL) with a
 * fresh database of its own.
 */
export const createTestClickHouse = async (
  options: { databasePrefix?: string } = {},
): Promise<TestClickHouse> => {
  const target = clickHouseTarget();
  const database = randomDatabase(options.databasePrefix);
  let admin: ClickHouseClient;
  if (target.url !== undefined) {
    admin = createClient({ url: target.url });
  } else {
    const { createChdbConnection } = await import('chdb/connection');
    // chdb types its connection with @clickhouse/client-common; @clickhouse/client bundles its own copy.
    admin = createClient({
      connection: createChdbConnection({ path: target.dataDir }) as unknown as ClientConnection,
    });
  }
  await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  const client = target.url !== undefined ? createClient({ url: target.url, database }) : admin;
  return {
    client,
    database,
    kind: target.url !== undefined ? 'server' : 'chdb',
    target,
    close: async () => {
      await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      if (client !== admin) await client.close();
      await admin.close();
    },
  };
};
