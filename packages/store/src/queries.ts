import type { Store } from './store.js';

/** Filters of an event search. Every value reaches ClickHouse as a query parameter, never as SQL. */
export interface EventFilter {
  readonly cluster?: string;
  readonly instance?: string;
  readonly environment?: string;
  /** Subject type, e.g. `service`. */
  readonly subjectType?: string;
  readonly predicate?: string;
  /** Full type string, e.g. `dev.cdevents.service.deployed.0.3.0`. */
  readonly type?: string;
  readonly subjectId?: string;
  readonly chainId?: string;
  /** Inclusive lower bound of `timestamp`. */
  readonly since?: Date;
  /** Exclusive upper bound of `timestamp`. */
  readonly until?: Date;
}

export interface StoredEventSummary {
  readonly identity: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject_id: string;
  readonly timestamp: string;
  readonly instance: string;
  readonly cluster: string;
  readonly environment: string;
  readonly raw: string;
}

const COLUMNS: Record<keyof Omit<EventFilter, 'since' | 'until'>, [string, string]> = {
  cluster: ['cluster', 'String'],
  instance: ['instance', 'String'],
  environment: ['environment', 'String'],
  subjectType: ['subject_type', 'String'],
  predicate: ['predicate', 'String'],
  type: ['type', 'String'],
  subjectId: ['subject_id', 'String'],
  chainId: ['chain_id', 'String'],
};

/** The WHERE clause and parameters of a filter. Column names are fixed here; values are parameters. */
export const whereClause = (filter: EventFilter): { sql: string; params: Record<string, unknown> } => {
  const conditions: string[] = [];
  const params: Record<string, unknown> = {};
  for (const [key, [column, type]] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, [string, string]][]) {
    const value = filter[key];
    if (value === undefined) continue;
    conditions.push(`${column} = {${key}:${type}}`);
    params[key] = value;
  }
  if (filter.since !== undefined) {
    conditions.push("timestamp >= {since:DateTime64(3, 'UTC')}");
    params.since = filter.since.getTime() / 1000;
  }
  if (filter.until !== undefined) {
    conditions.push("timestamp < {until:DateTime64(3, 'UTC')}");
    params.until = filter.until.getTime() / 1000;
  }
  return { sql: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, params };
};

/**
 * Events matching a filter, newest first, one row per event identity (`LIMIT 1 BY identity`): a
 * repeat that reached the table (two agents, a crash before ack) is never returned twice.
 */
export const searchEvents = async (
  store: Store,
  filter: EventFilter,
  limit = 100,
): Promise<StoredEventSummary[]> => {
  const where = whereClause(filter);
  // `time` rather than an alias named `timestamp`: ClickHouse resolves aliases before columns in WHERE.
  const rows = await store.rows<Omit<StoredEventSummary, 'timestamp'> & { time: string }>(
    `SELECT identity, id, source, type, subject_id, toString(timestamp) AS time,
            instance, cluster, environment, raw
     FROM ${store.table('cdevents')}
     ${where.sql}
     ORDER BY timestamp DESC, identity
     LIMIT 1 BY identity
     LIMIT {limit:UInt32}`,
    { ...where.params, limit },
  );
  return rows.map(({ time, ...rest }) => ({ ...rest, timestamp: `${time.replace(' ', 'T')}Z` }));
};

/** How many distinct events match (what a user sees), and how many rows hold them (before merges). */
export const countEvents = async (
  store: Store,
  filter: EventFilter = {},
): Promise<{ events: number; rows: number }> => {
  const where = whereClause(filter);
  const [row] = await store.rows<{ events: string | number; rows: string | number }>(
    `SELECT uniqExact(identity) AS events, count() AS rows FROM ${store.table('cdevents')} ${where.sql}`,
    where.params,
  );
  return { events: Number(row?.events ?? 0), rows: Number(row?.rows ?? 0) };
};
