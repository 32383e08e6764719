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
}

/**
 * The last deployment of every service in every cluster (one row per pair, at most `limit`, by
 * service then cluster), with the incidents still open there. `argMax` over (timestamp, identity)
 * picks one event per pair even when a repeat of it reached the table twice.
 */
export const currentDeployments = async (
  store: Store,
  filter: DeploymentsFilter,
  limit: number,
): Promise<CurrentDeployment[]> => {
  const { conditions, params } = filterConditions(filter);
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
         ${conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`}
         GROUP BY service, cluster
         ORDER BY service, cluster
         LIMIT {limit:UInt32}
       )
     ),
     open AS (
       -- From incident_state (migration 4): one row per incident once merged, FINAL merges the rest
       -- before the condition, so reading costs what the open incidents cost (0.02 s with 10,000 open
       -- of 1M; grouping all took 0.1 s). An incident counts in its cell whoever reported it.
       SELECT service_id AS service, cluster, count() AS open_incidents
       FROM ${store.table('incident_state')} FINAL
       WHERE last_opened > last_resolved
       GROUP BY service, cluster
     )
     SELECT last.service AS service, last.cluster AS cluster, last_environment AS environment,
            last_instance AS instance, kind, last_artifact_id AS artifact_id, time, event_id,
            ifNull(open.open_incidents, 0) AS open_incidents
     FROM last LEFT JOIN open ON last.service = open.service AND last.cluster = open.cluster
     ORDER BY service, cluster
     SETTINGS join_use_nulls = 1`,
    { ...params, limit },
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
