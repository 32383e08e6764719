import type { Store } from './store.js';

/** The kinds DORA counts as deployments, and the incident kinds it reads. */
export const DEPLOYMENT_KINDS = ['service.deployed', 'service.upgraded', 'service.rolledback'] as const;
export const INCIDENT_KINDS = ['incident.detected', 'incident.resolved'] as const;

/** What the store holds per publishing instance. */
export interface InstanceActivity {
  readonly instance: string;
  readonly clusters: readonly string[];
  readonly eventsTotal: number;
  readonly eventsSince: number;
}

/** Events per instance in total and received since `since`, with the clusters they were about. */
export const instanceActivity = async (store: Store, since: Date): Promise<InstanceActivity[]> => {
  const rows = await store.rows<{
    instance: string;
    clusters: string[];
    total: string | number;
    recent: string | number;
  }>(
    `SELECT instance, arraySort(groupUniqArray(cluster)) AS clusters, uniqExact(identity) AS total,
            uniqExactIf(identity, received_at >= {since:DateTime64(3, 'UTC')}) AS recent
     FROM ${store.table('cdevents')}
     GROUP BY instance
     ORDER BY instance`,
    { since: since.getTime() / 1000 },
  );
  return rows.map((r) => ({
    instance: r.instance,
    clusters: r.clusters.filter((c) => c !== ''),
    eventsTotal: Number(r.total),
    eventsSince: Number(r.recent),
  }));
};
