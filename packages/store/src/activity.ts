import { filterConditions } from './queries.js';
import type { Store } from './store.js';

/** A deployment or incident event, reduced to what DORA metrics need. */
export interface DeliveryEvent {
  readonly identity: string;
  readonly id: string;
  /** `service.deployed`, `incident.resolved`, ... */
  readonly kind: string;
  readonly subjectId: string;
  readonly service: string;
  readonly cluster: string;
  readonly environment: string;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly chainId: string;
  readonly artifactId: string;
  readonly linkedIds: readonly string[];
}

export interface DeliveryFilter {
  readonly service?: string;
  readonly cluster?: string;
  readonly environment?: string;
  readonly since: Date;
  readonly until: Date;
}

export const DEPLOYMENT_KINDS = ['service.deployed', 'service.upgraded', 'service.rolledback'] as const;
export const INCIDENT_KINDS = ['incident.detected', 'incident.resolved'] as const;

interface DeliveryRecord {
  identity: string;
  id: string;
  kind: string;
  subject_id: string;
  service_id: string;
  cluster: string;
  environment: string;
  ms: string | number;
  chain_id: string;
  artifact_id: string;
  linked_ids: string[];
}

const toDelivery = (r: DeliveryRecord): DeliveryEvent => ({
  identity: r.identity,
  id: r.id,
  kind: r.kind,
  subjectId: r.subject_id,
  service: r.service_id,
  cluster: r.cluster,
  environment: r.environment,
  time: Number(r.ms),
  chainId: r.chain_id,
  artifactId: r.artifact_id,
  linkedIds: r.linked_ids,
});

const DELIVERY_COLUMNS = `identity, id, concat(subject_type, '.', predicate) AS kind, subject_id, service_id,
  cluster, environment, toUnixTimestamp64Milli(timestamp) AS ms, chain_id, artifact_id, linked_ids`;

/** Deployments and incidents in a window, oldest first, one per identity. */
export const deliveryEvents = async (store: Store, filter: DeliveryFilter): Promise<DeliveryEvent[]> => {
  const { conditions, params } = filterConditions(filter);
  const rows = await store.rows<DeliveryRecord>(
    `SELECT ${DELIVERY_COLUMNS}
     FROM ${store.table('cdevents')}
     WHERE ${conditions.join(' AND ')} AND kind IN {kinds:Array(String)}
     ORDER BY timestamp, identity
     LIMIT 1 BY identity`,
    { ...params, kinds: [...DEPLOYMENT_KINDS, ...INCIDENT_KINDS] },
  );
  return rows.map(toDelivery);
};

/**
 * The events that may start a deployment's lead time: changes merged and artifacts published or
 * packaged, found by the chain ids, event ids (links) and artifact ids the deployments carry.
 */
export const upstreamEvents = async (
  store: Store,
  refs: { chainIds: readonly string[]; ids: readonly string[]; artifactIds: readonly string[] },
): Promise<DeliveryEvent[]> => {
  if (refs.chainIds.length + refs.ids.length + refs.artifactIds.length === 0) return [];
  const rows = await store.rows<DeliveryRecord>(
    `SELECT ${DELIVERY_COLUMNS}
     FROM ${store.table('cdevents')}
     WHERE kind IN {kinds:Array(String)}
       AND (chain_id IN {chains:Array(String)} OR id IN {ids:Array(String)}
            OR subject_id IN {artifacts:Array(String)})
     ORDER BY timestamp, identity
     LIMIT 1 BY identity`,
    {
      kinds: ['change.merged', 'artifact.published', 'artifact.packaged'],
      chains: refs.chainIds.filter((c) => c !== ''),
      ids: refs.ids,
      artifacts: refs.artifactIds.filter((a) => a !== ''),
    },
  );
  return rows.map(toDelivery);
};

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
