import { StoreQueryError } from './errors.js';
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
  /** The service an event is about (service events' subject, incidents' `content.service.id`). */
  readonly service?: string;
  /** Inclusive lower bound of `timestamp`. */
  readonly since?: Date;
  /** Exclusive upper bound of `timestamp`. */
  readonly until?: Date;
}

/** A stored event with its tags, as queries return it. */
export interface StoredEvent {
  readonly identity: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly spec_version: string;
  readonly subject_type: string;
  readonly predicate: string;
  readonly subject_id: string;
  readonly service_id: string;
  /** RFC 3339, UTC, milliseconds. */
  readonly timestamp: string;
  readonly chain_id: string;
  readonly linked_ids: readonly string[];
  readonly instance: string;
  readonly cluster: string;
  readonly environment: string;
  readonly artifact_id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly raw: string;
}

/** Where the previous page ended: the last event's timestamp (ClickHouse text) and identity. */
export interface EventCursor {
  readonly time: string;
  readonly identity: string;
}

export interface EventPage {
  readonly events: StoredEvent[];
  /** Present when more events may follow. */
  readonly next?: EventCursor;
}

const COLUMNS: Record<keyof Omit<EventFilter, 'since' | 'until'>, string> = {
  cluster: 'cluster',
  instance: 'instance',
  environment: 'environment',
  subjectType: 'subject_type',
  predicate: 'predicate',
  type: 'type',
  subjectId: 'subject_id',
  chainId: 'chain_id',
  service: 'service_id',
};

/** The WHERE conditions and parameters of a filter. Column names are fixed here; values are parameters. */
export const filterConditions = (
  filter: EventFilter,
): { conditions: string[]; params: Record<string, unknown> } => {
  const conditions: string[] = [];
  const params: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, string][]) {
    const value = filter[key];
    if (value === undefined) continue;
    conditions.push(`${column} = {${key}:String}`);
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
  return { conditions, params };
};

/** The WHERE clause and parameters of a filter (empty SQL for an empty filter). */
export const whereClause = (filter: EventFilter): { sql: string; params: Record<string, unknown> } => {
  const { conditions, params } = filterConditions(filter);
  return { sql: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, params };
};

// `time` rather than an alias named `timestamp`: ClickHouse resolves aliases before columns in WHERE.
const SELECT_EVENT = `SELECT identity, id, source, type, spec_version, subject_type, predicate, subject_id,
  service_id, toString(timestamp) AS time, chain_id, linked_ids, instance, cluster, environment,
  artifact_id, labels, raw`;

type EventRecord = Omit<StoredEvent, 'timestamp'> & { time: string };

const toStoredEvent = ({ time, ...rest }: EventRecord): StoredEvent => ({
  ...rest,
  timestamp: `${time.replace(' ', 'T')}Z`,
});

const MAX_LIMIT = 10_000;

const checkLimit = (limit: number): number => {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new StoreQueryError(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${limit}`);
  return limit;
};

/**
 * One page of events matching a filter, newest first, one row per event identity (`LIMIT 1 BY
 * identity`: a repeat that reached the table, from two agents or a crash before ack, is never
 * returned twice). Pass the previous page's `next` to continue; pages are stable while events
 * arrive because the cursor is a position in (timestamp, identity) order, not an offset.
 */
export const searchPage = async (
  store: Store,
  filter: EventFilter,
  limit = 100,
  after?: EventCursor,
): Promise<EventPage> => {
  const { conditions, params } = filterConditions(filter);
  if (after !== undefined) {
    conditions.push("(timestamp, identity) < ({afterTime:DateTime64(3, 'UTC')}, {afterIdentity:String})");
    params.afterTime = after.time;
    params.afterIdentity = after.identity;
  }
  const rows = await store.rows<EventRecord>(
    `${SELECT_EVENT}
     FROM ${store.table('cdevents')}
     ${conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`}
     ORDER BY timestamp DESC, identity DESC
     LIMIT 1 BY identity
     LIMIT {limit:UInt32}`,
    { ...params, limit: checkLimit(limit) + 1 },
  );
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page.at(-1);
  return {
    events: page.map(toStoredEvent),
    ...(more && last !== undefined ? { next: { time: last.time, identity: last.identity } } : {}),
  };
};

/** Events matching a filter, newest first, one per identity (the first page of `searchPage`). */
export const searchEvents = async (store: Store, filter: EventFilter, limit = 100): Promise<StoredEvent[]> =>
  (await searchPage(store, filter, limit)).events;

/**
 * How many distinct events match (what a user sees), and how many rows hold them (before merges).
 * Distinct by FINAL, which merges repeats (one identity has one sorting key) part by part in bounded
 * memory: `uniqExact(identity)` kept every identity of the table in memory and needed more than the
 * hub's 256 MiB at 10M events (GetStats, the /instances page).
 */
export const countEvents = async (
  store: Store,
  filter: EventFilter = {},
): Promise<{ events: number; rows: number }> => {
  const where = whereClause(filter);
  const table = store.table('cdevents');
  const [row] = await store.rows<{ events: string | number; rows: string | number }>(
    `SELECT (SELECT count() FROM ${table} FINAL ${where.sql}) AS events,
            (SELECT count() FROM ${table} ${where.sql}) AS rows`,
    where.params,
  );
  return { events: Number(row?.events ?? 0), rows: Number(row?.rows ?? 0) };
};

/** The subject types and predicates of a service's story. */
export const TIMELINE_TYPES: Readonly<Record<string, readonly string[]>> = {
  service: ['deployed', 'upgraded', 'rolledback', 'removed'],
  incident: ['detected', 'reported', 'resolved'],
};

/**
 * One service's deployments and incidents across every cluster and instance, oldest first: the
 * newest `limit` of them in the window. The newest are found in timeline_index (ordered by service
 * and time, migration 4), then read from cdevents by its sorting key.
 */
export const serviceTimeline = async (
  store: Store,
  service: string,
  window: { since?: Date; until?: Date } = {},
  limit = 200,
): Promise<StoredEvent[]> => {
  const { conditions, params } = filterConditions({ ...window, service });
  const newest = `SELECT cluster, subject_type, timestamp, identity
     FROM ${store.table('timeline_index')}
     WHERE ${conditions.join(' AND ')}
     ORDER BY timestamp DESC, identity DESC
     LIMIT 1 BY identity
     LIMIT {limit:UInt32}`;
  const rows = await store.rows<EventRecord>(
    `${SELECT_EVENT}
     FROM ${store.table('cdevents')}
     WHERE (cluster, subject_type, timestamp, identity) GLOBAL IN (${newest})
     ORDER BY timestamp DESC, identity DESC
     LIMIT 1 BY identity
     LIMIT {limit:UInt32}`,
    { ...params, limit: checkLimit(limit) },
  );
  return rows.reverse().map(toStoredEvent);
};

/**
 * Where deployments came from: the artifact events of `artifacts` (subject = the artifact id), and
 * the changes merged in `chains` and in those artifact events' chains, oldest first, at most `perKey`
 * events per artifact and per chain. Two reads (the bloom filters of subject_id and chain_id skip
 * most granules) instead of one search per artifact: the dashboard's service page made 20 of them,
 * and the next page's requests queued in Chromium behind them.
 */
export const upstreamEvents = async (
  store: Store,
  of: { readonly artifacts: readonly string[]; readonly chains: readonly string[] },
  perKey = 20,
): Promise<StoredEvent[]> => {
  const limit = checkLimit(perKey);
  /** Events of one subject type whose `key` column is one of `values`: the newest `limit` of each. */
  const newestOf = async (subjectType: string, key: 'subject_id' | 'chain_id', values: readonly string[]) =>
    values.length === 0
      ? []
      : store.rows<EventRecord>(
          // One row per identity (a repeat not merged yet), then the newest of each key.
          `SELECT * FROM (
             ${SELECT_EVENT}
             FROM ${store.table('cdevents')}
             WHERE subject_type = {subjectType:String} AND ${key} IN {values:Array(String)}
             ORDER BY timestamp DESC, identity DESC
             LIMIT 1 BY identity
           )
           ORDER BY time DESC, identity DESC
           LIMIT {limit:UInt32} BY ${key}`,
          { subjectType, values: [...values], limit },
        );
  const built = await newestOf('artifact', 'subject_id', of.artifacts);
  const chains = [...new Set([...of.chains, ...built.map((e) => e.chain_id)])].filter((c) => c !== '');
  const changes = await newestOf('change', 'chain_id', chains);
  return [...built, ...changes]
    .map(toStoredEvent)
    .sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.identity.localeCompare(b.identity));
};
