import { AsyncLocalStorage } from 'node:async_hooks';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import { dataFilesystem } from './data-filesystem.js';
import {
  MigrationError,
  QueryLimitError,
  SchemaMismatchError,
  StoreOptionsError,
  StoreQueryError,
} from './errors.js';
import {
  MERGE_TREE_SETTINGS,
  type MergeSettingChange,
  mergeSettingChanges,
  type TableDefinition,
} from './merge-settings.js';
import { MIGRATIONS, MIGRATIONS_TABLE, type Migration } from './migrations.js';
import { EVENT_COLUMNS, type EventRow } from './rows.js';
import { StatementQueue, type Turn } from './statement-queue.js';

/** What `applyRetention` did: whether it changed the table, and the TTL now in force. */
export interface RetentionChange {
  readonly changed: boolean;
  readonly ttl: string | undefined;
}

export interface StoreOptions {
  /** A ClickHouse server, e.g. `http://127.0.0.1:8123`. Exclusive with `dataDir`. */
  readonly url?: string | undefined;
  /** Data directory of the embedded ClickHouse (chdb). Exclusive with `url`. */
  readonly dataDir?: string | undefined;
  /** @default 'argus' */
  readonly database?: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly logger: Logger;
  /** Query timeout. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Limits of every read (`rows`). @default DEFAULT_QUERY_LIMITS */
  readonly queryLimits?: Partial<QueryLimits> | undefined;
}

/** What one read may cost ClickHouse; beyond it ClickHouse stops the read (QueryLimitError). */
export interface QueryLimits {
  /** ClickHouse's `max_execution_time`, in milliseconds. */
  readonly maxExecutionMs: number;
  /** ClickHouse's `max_memory_usage`, in bytes. */
  readonly maxMemoryBytes: number;
}

/**
 * A year of DORA (300,000 deployments) took 120 s and 1.8 GB of the hub's 1 GiB limit before
 * these (adversarial review 2, finding 9). Reads run in the process that ingests, so a read is
 * stopped well inside the request timeout (30 s) and the pod's memory.
 */
export const DEFAULT_QUERY_LIMITS: QueryLimits = Object.freeze({
  maxExecutionMs: 20_000,
  maxMemoryBytes: 256 * 1024 * 1024,
});

/**
 * The cancellation of the call a read serves (a gRPC client gone): `rows` passes it to the client
 * as `abort_signal`. A server closes the query with the request; chdb cannot interrupt a running
 * query, so there it only frees the caller and the read ends at `max_execution_time` (a read still
 * waiting for its turn in chdb is dropped: `StatementQueue`).
 */
const readSignal = new AsyncLocalStorage<AbortSignal>();

/** Runs `work` with its reads cancelled when `signal` aborts. */
export const withQuerySignal = <T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> =>
  readSignal.run(signal, work);

/** The cancellation of the call the current read serves, if any (set by withQuerySignal). */
export const currentQuerySignal = (): AbortSignal | undefined => readSignal.getStore();

const MIB = 1024 * 1024;

export const DEFAULT_DATABASE = 'argus';
type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Most partitions (months of `timestamp`) one insert may touch: ClickHouse's default of
 * `max_partitions_per_insert_block`, set explicitly on every insert so a server configured otherwise
 * does not change what the store's splitting guarantees. An insert beyond it is refused as a whole
 * (code 252, TOO_MANY_PARTS), whatever the rows: 101 valid events over 101 months stopped the hub.
 */
export const MAX_PARTITIONS_PER_INSERT = 100;

/**
 * The tables --retention applies to: the events, the index that points at them, the references lead
 * time follows (migration 5) and the steps of the verdicts (migration 6), each with its own `timestamp`.
 */
const RETAINED_TABLES = ['cdevents', 'timeline_index', 'merge_refs', 'artifact_refs', 'dora_steps'] as const;

/**
 * Settings of every insert: a retried batch with the same token is a no-op; the partition limit is
 * the one `partitionChunks` splits for.
 */
const insertSettings = (token: string) => ({
  insert_deduplication_token: token,
  insert_deduplicate: 1 as const,
  // UInt64 settings travel as text.
  max_partitions_per_insert_block: String(MAX_PARTITIONS_PER_INSERT),
});

/** The partition of a row: `toYYYYMM(timestamp)` read from the UTC text the row holds (`YYYY-MM`). */
const partitionOf = (row: EventRow): string => row.timestamp.slice(0, 7);

/**
 * Splits rows into groups of at most `maxPartitions` partitions, each one insert. Deterministic
 * (months in order), so a retried batch splits the same way and each part keeps its deduplication
 * token. Rows keep their order within a group; one group (the input as is) when it fits.
 */
export const partitionChunks = <T extends { readonly row: EventRow }>(
  items: readonly T[],
  maxPartitions: number = MAX_PARTITIONS_PER_INSERT,
): T[][] => {
  const byMonth = new Map<string, T[]>();
  for (const item of items) {
    const month = partitionOf(item.row);
    const group = byMonth.get(month);
    if (group === undefined) byMonth.set(month, [item]);
    else group.push(item);
  }
  if (byMonth.size <= maxPartitions) return items.length === 0 ? [] : [[...items]];
  const months = [...byMonth.keys()].sort();
  const chunks: T[][] = [];
  for (let i = 0; i < months.length; i += maxPartitions) {
    chunks.push(months.slice(i, i + maxPartitions).flatMap((m) => byMonth.get(m) ?? []));
  }
  return chunks;
};

/** Column types of the events table as the migrations make them (system.columns spelling). */
export const EVENT_COLUMN_TYPES: Readonly<Record<(typeof EVENT_COLUMNS)[number], string>> = {
  identity: 'String',
  id: 'String',
  source: 'String',
  type: 'LowCardinality(String)',
  spec_version: 'LowCardinality(String)',
  subject_type: 'LowCardinality(String)',
  predicate: 'LowCardinality(String)',
  subject_id: 'String',
  subject_source: 'String',
  timestamp: "DateTime64(3, 'UTC')",
  chain_id: 'String',
  links: 'String',
  linked_ids: 'Array(String)',
  instance: 'LowCardinality(String)',
  cluster: 'LowCardinality(String)',
  environment: 'LowCardinality(String)',
  artifact_id: 'String',
  labels: 'Map(LowCardinality(String), String)',
  received_at: "DateTime64(3, 'UTC')",
  raw: 'String',
};

export type StoreKind = 'chdb' | 'server';

/** A part ClickHouse detached; `broken` when it did so because the part was damaged. */
export interface DetachedPart {
  readonly table: string;
  readonly name: string;
  readonly reason: string;
  readonly broken: boolean;
}

/**
 * The one door to ClickHouse. Embedded chdb and a server differ only in how the client connects:
 * the SQL, the migrations and the code path are the same.
 */
export class Store {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly kind: StoreKind;
  readonly queryLimits: QueryLimits;
  readonly #logger: Logger;
  /** chdb's statements, one at a time (a server runs them side by side: none). */
  readonly #queue: StatementQueue | undefined;

  private constructor(
    client: ClickHouseClient,
    database: string,
    kind: StoreKind,
    logger: Logger,
    queryLimits: QueryLimits,
  ) {
    this.client = client;
    this.database = database;
    this.kind = kind;
    this.#logger = logger;
    this.queryLimits = queryLimits;
    this.#queue = kind === 'chdb' ? new StatementQueue() : undefined;
  }

  /** Connects, creates the database if absent, and applies pending migrations. */
  static async open(options: StoreOptions): Promise<Store> {
    const database = options.database ?? DEFAULT_DATABASE;
    if (!IDENTIFIER.test(database)) {
      throw new StoreOptionsError(
        `database name ${JSON.stringify(database)} is not valid: use letters, digits and _ (at most 64, not starting with a digit)`,
      );
    }
    if ((options.url === undefined) === (options.dataDir === undefined)) {
      throw new StoreOptionsError('give exactly one of url (a ClickHouse server) or dataDir (embedded chdb)');
    }
    const logger = options.logger.child({ component: 'store' });
    const requestTimeout = options.requestTimeoutMs ?? 30_000;
    let client: ClickHouseClient;
    let kind: StoreKind;
    if (options.url !== undefined) {
      client = createClient({
        url: options.url,
        ...(options.username === undefined ? {} : { username: options.username }),
        ...(options.password === undefined ? {} : { password: options.password }),
        request_timeout: requestTimeout,
      });
      kind = 'server';
    } else {
      // Loaded only when used: chdb is a large native library that a server deployment never needs.
      const { createChdbConnection } = await import('chdb/connection');
      // chdb types its connection with @clickhouse/client-common, which @clickhouse/client now bundles
      // as its own copy: the same interface under two declarations, so the cast is only nominal.
      const connection = createChdbConnection({ path: options.dataDir ?? '' }) as unknown as ClientConnection;
      client = createClient({ connection });
      kind = 'chdb';
    }
    const queryLimits = Object.freeze({ ...DEFAULT_QUERY_LIMITS, ...options.queryLimits });
    for (const [name, value] of Object.entries(queryLimits)) {
      if (!Number.isSafeInteger(value) || value <= 0)
        throw new StoreOptionsError(`queryLimits.${name} must be a positive integer, got ${value}`);
    }
    const store = new Store(client, database, kind, logger, queryLimits);
    await store.migrate();
    await store.applyMergeSettings();
    // After the first statements: chdb creates the directory.
    const filesystem = options.dataDir === undefined ? undefined : dataFilesystem(options.dataDir);
    if (filesystem?.warning !== undefined) logger.warn({ dataDir: options.dataDir }, filesystem.warning);
    logger.info(
      { kind, database, dataDir: options.dataDir, filesystem: filesystem?.description, url: options.url },
      'store open',
    );
    return store;
  }

  /** `db.table` for SQL text; the database name was validated at open. */
  table(name: string): string {
    return `${this.database}.${name}`;
  }

  async command(sql: string): Promise<void> {
    await this.statement('query', () => this.client.command({ query: sql }));
  }

  /**
   * Runs `task` (one statement through `client`) in its turn: with chdb, one statement at a time, the
   * ingest's first (`StatementQueue`), and a failed one's output discarded before the next; with a
   * server, at once. A statement waiting under an aborted `withQuerySignal` is dropped.
   */
  statement<T>(turn: Turn, task: () => Promise<T>): Promise<T> {
    if (this.#queue === undefined) return task();
    const signal = readSignal.getStore();
    return this.#queue.run(turn, task, {
      ...(signal === undefined ? {} : { signal }),
      afterFailure: () => this.#discardFailedOutput(),
    });
  }

  /** Applies every migration not yet recorded, in order. Safe to run concurrently and repeatedly. */
  async migrate(migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
    await this.command(`CREATE DATABASE IF NOT EXISTS ${this.database}`);
    await this.command(
      `CREATE TABLE IF NOT EXISTS ${this.table(MIGRATIONS_TABLE)}
       (version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
       ENGINE = ReplacingMergeTree ORDER BY version`,
    );
    const applied = new Set(
      (
        await this.rows<{ version: number }>(`SELECT DISTINCT version FROM ${this.table(MIGRATIONS_TABLE)}`)
      ).map((r) => Number(r.version)),
    );
    const done: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      try {
        for (const statement of migration.statements)
          await this.command(statement.replaceAll('{db}', this.database));
        await this.statement('query', () =>
          this.client.insert({
            table: this.table(MIGRATIONS_TABLE),
            values: [{ version: migration.version, name: migration.name }],
            format: 'JSONEachRow',
          }),
        );
      } catch (cause) {
        throw new MigrationError(migration.version, migration.name, cause);
      }
      done.push(migration.version);
      this.#logger.info({ version: migration.version, migration: migration.name }, 'migration applied');
    }
    return done;
  }

  /**
   * Gives the store's MergeTree tables the merge settings of MERGE_TREE_SETTINGS (`wanted`), where they
   * differ and ClickHouse knows them: at every open, after the migrations, so a table made before a
   * setting was chosen gets it too. Returns what it changed; a change ClickHouse refuses is logged and
   * left out.
   */
  async applyMergeSettings(
    wanted: Readonly<Record<string, number>> = MERGE_TREE_SETTINGS,
  ): Promise<MergeSettingChange[]> {
    const tables = await this.rows<TableDefinition>(
      'SELECT name, engine, create_table_query AS create FROM system.tables WHERE database = {db:String}',
      { db: this.database },
    );
    const known = new Set(
      (await this.rows<{ name: string }>('SELECT name FROM system.merge_tree_settings')).map((s) => s.name),
    );
    const changed: MergeSettingChange[] = [];
    for (const change of mergeSettingChanges(tables, (setting) => known.has(setting), wanted)) {
      const { table, setting, from, to } = change;
      const context = { table: this.table(table), setting, from: from ?? 'default', to };
      try {
        await this.command(`ALTER TABLE ${this.table(table)} MODIFY SETTING ${setting} = ${to}`);
      } catch (err) {
        // A tuning, not the schema: a user without ALTER on the table still gets a working store.
        this.#logger.warn(
          { ...context, err },
          'could not change a merge setting: the table keeps its own (more merge work at a steady insert rate); ALTER it as its owner',
        );
        continue;
      }
      this.#logger.info(context, 'merge setting changed');
      changed.push(change);
    }
    const unknown = Object.keys(wanted).filter((setting) => !known.has(setting));
    if (unknown.length > 0) {
      this.#logger.info(
        { settings: unknown },
        'this ClickHouse does not have these MergeTree settings: its tables keep its defaults (more merge work at a steady insert rate)',
      );
    }
    return changed;
  }

  /**
   * Runs a parameterised query (`{name:Type}` placeholders) and returns its rows, within the
   * store's limits (or `limits`), with ClickHouse `settings` of its own, cancelled with the
   * surrounding `withQuerySignal`.
   */
  rows<T>(
    query: string,
    params: Record<string, unknown> = {},
    limits: QueryLimits = this.queryLimits,
    settings: Readonly<Record<string, number>> = {},
  ): Promise<T[]> {
    return this.#rows('query', query, params, limits, settings);
  }

  async #rows<T>(
    turn: Turn,
    query: string,
    params: Record<string, unknown> = {},
    limits: QueryLimits = this.queryLimits,
    settings: Readonly<Record<string, number>> = {},
  ): Promise<T[]> {
    // In the SQL text rather than clickhouse_settings: chdb turns those into session-wide SETs.
    const own = Object.entries(settings).map(([name, value]) => {
      if (!/^[a-z_]+$/.test(name) || !Number.isFinite(value))
        throw new StoreQueryError(
          `a query setting is a lower-case name and a number, got ${name} = ${value}`,
        );
      return `, ${name} = ${value}`;
    });
    const limitSettings = `SETTINGS max_execution_time = ${limits.maxExecutionMs / 1000}, max_memory_usage = ${limits.maxMemoryBytes}${own.join('')}`;
    const signal = readSignal.getStore();
    try {
      return await this.statement(turn, async () => {
        const result = await this.client.query({
          query: `${query}\n${limitSettings}`,
          query_params: params,
          format: 'JSONEachRow',
          ...(signal === undefined ? {} : { abort_signal: signal }),
        });
        return result.json<T>();
      });
    } catch (error) {
      throw (
        QueryLimitError.of(error, {
          time: `${limits.maxExecutionMs} ms`,
          memory: `${Math.round(limits.maxMemoryBytes / MIB)} MiB`,
        }) ?? error
      );
    }
  }

  /**
   * After a statement failed (`statement`'s clean-up, before the next one runs). chdb (3.4) keeps what
   * a failed query wrote before it failed (a format's header, the rows before a time limit or an
   * error) and hands it to the next query of the connection, whose caller would read another query's
   * rows as its own (measured: packages/store/test/failed-output.int.test.ts). One throwaway query
   * takes that output; sent at once, it also waits in chdb for a failed query still running (aborted
   * by its caller: chdb runs it to its end), so the next statement cannot overtake either.
   */
  async #discardFailedOutput(): Promise<void> {
    try {
      await (await this.client.query({ query: 'SELECT 1 AS discarded', format: 'JSONEachRow' })).text();
    } catch {
      // Nothing more to do: the store's own trouble surfaces in the next query and in readiness.
    }
  }

  /**
   * Inserts a batch of event rows. `token` identifies the batch: inserting the same token again
   * (a retry after a timeout whose first attempt did land) stores nothing twice.
   */
  async insertEvents(rows: readonly EventRow[], token: string): Promise<void> {
    // Rows spanning more months than one insert may touch go in several inserts (each its own
    // token, derived from the batch's): a caller that wants each part retried or isolated on its
    // own splits with partitionChunks first.
    const chunks = partitionChunks(rows.map((row) => ({ row })));
    for (const [i, chunk] of chunks.entries()) {
      await this.statement('ingest', () =>
        this.client.insert({
          table: this.table('cdevents'),
          columns: [...EVENT_COLUMNS],
          values: chunk.map(({ row }) => EVENT_COLUMNS.map((column) => row[column])),
          format: 'JSONCompactEachRow',
          clickhouse_settings: insertSettings(chunks.length === 1 ? token : `${token}.${i}`),
        }),
      );
    }
  }

  /**
   * Checks that the events table exists with the columns and types inserts write. Throws
   * SchemaMismatchError listing every difference (a dropped table, an altered column).
   */
  async checkEventsTable(): Promise<void> {
    const columns = await this.#rows<{ name: string; type: string }>(
      'ingest',
      'SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {table:String}',
      { db: this.database, table: 'cdevents' },
    );
    const table = this.table('cdevents');
    if (columns.length === 0) throw new SchemaMismatchError(table, ['the table does not exist']);
    const found = new Map(columns.map((c) => [c.name, c.type]));
    const problems: string[] = [];
    for (const [name, expected] of Object.entries(EVENT_COLUMN_TYPES)) {
      const type = found.get(name);
      if (type === undefined) problems.push(`column ${name} is missing`);
      else if (type !== expected) problems.push(`column ${name} is ${type}, expected ${expected}`);
    }
    if (problems.length > 0) throw new SchemaMismatchError(table, problems);
  }

  /**
   * Parts of this database ClickHouse has detached (`system.detached_parts`): a part it found damaged
   * at start is moved to `detached/broken-on-start_…` (or `broken_…`, `unexpected_…`) and its rows
   * silently vanish from every query (adversarial review 2, finding 12). An operator's own detach
   * (reason empty, no such prefix) is listed too; `broken` tells them apart.
   */
  /**
   * Sets how long the events table keeps events (by `timestamp`, whole days), or keeps them for ever
   * (`undefined`). ClickHouse drops whole monthly parts once every row of one is past it
   * (`ttl_only_drop_parts`: no rewrite of parts), so an event may stay up to a month longer.
   * The timeline index (migration 4) keeps its entries as long. Applied at every start, and only
   * changed when it differs: one statement for a running server.
   */
  async applyRetention(days: number | undefined): Promise<RetentionChange> {
    if (days !== undefined && (!Number.isSafeInteger(days) || days < 1))
      throw new StoreOptionsError(`retention must be a whole number of days >= 1, got ${days}`);
    const wanted = days === undefined ? undefined : `toDateTime(timestamp) + toIntervalDay(${days})`;
    const { engine, ttl: current } = await this.#tableTtl('cdevents');
    if (engine === 'Distributed' && wanted !== undefined) {
      throw new StoreOptionsError(
        `${this.table('cdevents')} is a Distributed table (deploy/clickhouse): set the retention on the shards instead, ALTER TABLE ${this.database}.cdevents_local ON CLUSTER '{cluster}' MODIFY TTL ${wanted} (and the same on ${RETAINED_TABLES.slice(
          1,
        )
          .map((t) => `${t}_local`)
          .join(', ')}), and start the hub without --retention`,
      );
    }
    if (engine === 'Distributed') return { changed: false, ttl: undefined };
    const normalized = (ttl: string | undefined) => ttl?.replace(/\s+/g, '');
    let changed = false;
    for (const name of RETAINED_TABLES) {
      const ttl = name === 'cdevents' ? current : (await this.#tableTtl(name)).ttl;
      if (normalized(ttl) === normalized(wanted)) continue;
      const table = this.table(name);
      if (wanted === undefined) {
        await this.command(`ALTER TABLE ${table} REMOVE TTL`);
      } else {
        await this.command(`ALTER TABLE ${table} MODIFY SETTING ttl_only_drop_parts = 1`);
        await this.command(`ALTER TABLE ${table} MODIFY TTL ${wanted}`);
      }
      this.#logger.info({ table, from: ttl ?? 'none', to: wanted ?? 'none' }, 'retention changed');
      changed = true;
    }
    return changed ? { changed, ttl: await this.retentionTtl() } : { changed, ttl: current };
  }

  /** The events table's TTL expression as ClickHouse shows it, if any. */
  async retentionTtl(): Promise<string | undefined> {
    return (await this.#tableTtl('cdevents')).ttl;
  }

  /** A table's engine and TTL, from one read of system.tables. */
  async #tableTtl(name: string): Promise<{ engine: string | undefined; ttl: string | undefined }> {
    const [row] = await this.rows<{ engine: string; create: string }>(
      'SELECT engine, create_table_query AS create FROM system.tables WHERE database = {db:String} AND name = {name:String}',
      { db: this.database, name },
    );
    const ttl = / TTL (.+?)(?: SETTINGS |$)/s.exec(row?.create ?? '')?.[1]?.trim();
    return { engine: row?.engine, ttl };
  }

  async detachedParts(): Promise<DetachedPart[]> {
    const parts = await this.rows<{ table: string; name: string; reason: string }>(
      "SELECT table, name, ifNull(reason, '') AS reason FROM system.detached_parts WHERE database = {db:String} ORDER BY table, name",
      { db: this.database },
    );
    return parts.map((p) => ({
      ...p,
      broken: /^(broken|unexpected|noquorum|covered-by-broken)/.test(p.reason || p.name),
    }));
  }

  /**
   * Which of these identities are already stored. `within` (the batch's first and last row
   * timestamps, as rows hold them) narrows the search to those partitions and key ranges: a repeat of
   * an event has its timestamp. Without it every partition's index is read (redeliveries).
   */
  async existingIdentities(
    identities: readonly string[],
    within?: { readonly since: string; readonly until: string },
  ): Promise<Set<string>> {
    if (identities.length === 0) return new Set();
    const range =
      within === undefined
        ? ''
        : " AND timestamp >= {since:DateTime64(3, 'UTC')} AND timestamp <= {until:DateTime64(3, 'UTC')}";
    const found = await this.#rows<{ identity: string }>(
      'ingest',
      `SELECT DISTINCT identity FROM ${this.table('cdevents')} WHERE identity IN {ids:Array(String)}${range}`,
      { ids: identities, ...(within === undefined ? {} : within) },
    );
    return new Set(found.map((r) => r.identity));
  }

  /**
   * Whether the store answers a question about the events table within `timeoutMs` of its turn:
   * undefined when it did, else what went wrong (for a readiness probe). With chdb the time in line
   * does not count, since a long dashboard read is no outage, unless the line has not moved for a
   * read's whole time limit (`queryLimits.maxExecutionMs`) more.
   */
  async answers(timeoutMs: number): Promise<string | undefined> {
    const timers: NodeJS.Timeout[] = [];
    let giveUp: (why: string) => void = () => undefined;
    const noAnswer = new Promise<string>((resolve) => {
      giveUp = resolve;
    });
    const limit = (ms: number, why: string) => timers.push(setTimeout(() => giveUp(why), ms));
    if (this.#queue !== undefined) {
      const stuck = this.queryLimits.maxExecutionMs + timeoutMs;
      limit(stuck, `no answer within ${stuck} ms: the statement before it in chdb did not end`);
    }
    const asked = this.statement('query', async () => {
      limit(timeoutMs, `no answer within ${timeoutMs} ms`);
      const result = await this.client.query({
        query: `SELECT count() AS n FROM ${this.table('cdevents')} WHERE 0`,
        format: 'JSONEachRow',
      });
      await result.json();
    }).then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)),
    );
    try {
      return await Promise.race([asked, noAnswer]);
    } finally {
      for (const timer of timers) clearTimeout(timer);
    }
  }

  async ping(): Promise<boolean> {
    const result = await this.statement('query', () => this.client.ping());
    return result.success;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
