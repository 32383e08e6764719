import { filterConditions } from './queries.js';
import type { Store } from './store.js';

/** What runs where: the last deployment of one service in one cluster. */
export interface CurrentDeployment {
  readonly service: string;
  readonly cluster: string;
  readonly environment: string;
  /** The instance that reported the last deployment. */
  readonly instance: string;
  /** `service.deployed`, `service.upgraded`, `service.rolledback` or `service.removed`. */
  readonly kind: string;
  readonly artifactId: string;
  /** RFC 3339, UTC, milliseconds: when the last deployment happened. */
  readonly time: string;
  /** context.id of the last deployment event (to show its CDEvent). */
  readonly eventId: string;
  /**
   * Incidents about the service in the cluster whose last event is not a resolution, whichever
   * instance reported them (the filters choose the cells, not the incidents).
   */
  readonly openIncidents: number;
}

export interface DeploymentsFilter {
  readonly cluster?: string;
  readonly environment?: string;
  readonly instance?: string;
  /** Services whose name contains this, case-insensitive. */
  readonly serviceContains?: string;
}

/** One page of services (by name) of the matrix: `size` services, the `number`th page from 1. */
export interface ServicesPage {
  readonly size: number;
  readonly number: number;
}

/** What the matrix needs besides its cells: its size, its columns, and the values to filter by. */
export interface DeploymentsOutline {
  /** Services with a pair matching the filter (the pages' total). */
  readonly services: number;
  /** Clusters with a pair matching the filter, with the greatest environment named there: the columns. */
  readonly columns: readonly { readonly cluster: string; readonly environment: string }[];
  /** Every cluster, environment and instance of any pair, whatever the filter, by name (to choose one). */
  readonly clusters: readonly string[];
  readonly environments: readonly string[];
  readonly instances: readonly string[];
}

/** The conditions on service_last's rows of a filter. */
const pairConditions = (filter: DeploymentsFilter): { where: string; params: Record<string, unknown> } => {
  const { serviceContains, ...exact } = filter;
  const { conditions, params } = filterConditions(exact);
  if (serviceContains !== undefined && serviceContains !== '') {
    conditions.push('positionCaseInsensitiveUTF8(service_id, {serviceContains:String}) > 0');
    params.serviceContains = serviceContains;
  }
  return { where: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, params };
};

/**
 * The matrix's outline (at most `maxValues` columns and values of each list), from service_last's keys
 * alone: no aggregate state is merged, so it costs a read of four short columns.
 */
export const deploymentsOutline = async (
  store: Store,
  filter: DeploymentsFilter,
  maxValues: number,
): Promise<DeploymentsOutline> => {
  const { where, params } = pairConditions(filter);
  const table = store.table('service_last');
  const values = (column: string) =>
    `(SELECT groupArray(v) FROM (SELECT DISTINCT ${column} AS v FROM ${table} WHERE v != '' ORDER BY v LIMIT {maxValues:UInt32}))`;
  const [row] = await store.rows<{
    services: string | number;
    columns: [string, string][];
    clusters: string[];
    environments: string[];
    instances: string[];
  }>(
    `SELECT (SELECT uniqExact(service_id) FROM ${table} ${where}) AS services,
            (SELECT groupArray((cluster, environment)) FROM (
               SELECT cluster, max(environment) AS environment FROM ${table} ${where}
               GROUP BY cluster ORDER BY environment, cluster LIMIT {maxValues:UInt32})) AS columns,
            ${values('cluster')} AS clusters, ${values('environment')} AS environments,
            ${values('instance')} AS instances`,
    { ...params, maxValues },
  );
  return {
    services: Number(row?.services ?? 0),
    columns: (row?.columns ?? []).map(([cluster, environment]) => ({ cluster, environment })),
    clusters: row?.clusters ?? [],
    environments: row?.environments ?? [],
    instances: row?.instances ?? [],
  };
};

/**
 * The last deployment of every service in every cluster (one row per pair, at most `limit`, by
 * service then cluster), with the incidents still open there; with `page`, only that page's services.
 * `argMax` over (timestamp, identity) picks one event per pair even when a repeat of it reached the
 * table twice.
 */
export const currentDeployments = async (
  store: Store,
  filter: DeploymentsFilter,
  limit: number,
  page?: ServicesPage,
): Promise<CurrentDeployment[]> => {
  const { where, params } = pairConditions(filter);
  // A page's services, by name; its pairs are then a key range each in service_last (ordered by
  // service), and only their states are merged: 10,000 services took 0.15-0.19 s to merge at 10M
  // events, and 2.3 MB of JSON to send that the page showed 100 of (docs/benchmarks.md).
  const pageOnly =
    page === undefined
      ? ''
      : `service_id GLOBAL IN (SELECT DISTINCT service_id FROM ${store.table('service_last')} ${where}
           ORDER BY service_id LIMIT {pageSize:UInt32} OFFSET {pageOffset:UInt64})`;
  const lastWhere = pageOnly === '' ? where : where === '' ? `WHERE ${pageOnly}` : `${where} AND ${pageOnly}`;
  const rows = await store.rows<{
    service: string;
    cluster: string;
    environment: string;
    instance: string;
    kind: string;
    artifact_id: string;
    time: string;
    event_id: string;
    open_incidents: string | number;
  }>(
    // From service_last (migration 3): one aggregate state per service, cluster, instance and
    // environment, merged here, rather than every deployment event.
    `WITH last AS (
       SELECT service, cluster, time, latest.1 AS last_environment, latest.2 AS last_instance,
              latest.3 AS kind, latest.4 AS last_artifact_id, latest.5 AS event_id
       FROM (
         SELECT service_id AS service, cluster, argMaxMerge(latest) AS latest, toString(max(at)) AS time
         FROM ${store.table('service_last')}
         ${lastWhere}
         GROUP BY service, cluster
         ORDER BY service, cluster
         LIMIT {limit:UInt32}
       )
     ),
     open AS (
       -- From incident_state (migration 4). An open incident has a row opened after that row's own
       -- resolution (the row with its last opening), so those rows name every candidate without
       -- merging; only the candidates' rows are then merged. FINAL over all 1M incidents of the 10M
       -- benchmark took 0.12-0.17 s, this 0.06 s (docs/benchmarks.md). GLOBAL: on a cluster the
       -- candidates are found once and sent to every shard (each shard holds whole incidents).
       SELECT service, cluster, countIf(opened > resolved) AS open_incidents
       FROM (
         SELECT service_id AS service, cluster, subject_id,
                max(last_opened) AS opened, max(last_resolved) AS resolved
         FROM ${store.table('incident_state')}
         WHERE subject_id GLOBAL IN (
           SELECT subject_id FROM ${store.table('incident_state')} WHERE last_opened > last_resolved
         )${pageOnly === '' ? '' : ` AND ${pageOnly}`}
         GROUP BY service, cluster, subject_id
       )
       GROUP BY service, cluster
     )
     SELECT last.service AS service, last.cluster AS cluster, last_environment AS environment,
            last_instance AS instance, kind, last_artifact_id AS artifact_id, time, event_id,
            ifNull(open.open_incidents, 0) AS open_incidents
     FROM last LEFT JOIN open ON last.service = open.service AND last.cluster = open.cluster
     ORDER BY service, cluster
     SETTINGS join_use_nulls = 1`,
    {
      ...params,
      limit,
      ...(page === undefined ? {} : { pageSize: page.size, pageOffset: (page.number - 1) * page.size }),
    },
  );
  return rows.map((r) => ({
    service: r.service,
    cluster: r.cluster,
    environment: r.environment,
    instance: r.instance,
    kind: r.kind,
    artifactId: r.artifact_id,
    time: `${r.time.replace(' ', 'T')}Z`,
    eventId: r.event_id,
    openIncidents: Number(r.open_incidents),
  }));
};
