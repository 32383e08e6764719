import { DEPLOYMENT_KINDS, type DeliveryEvent } from '@argus/store';

export type DoraGrouping = 'none' | 'service' | 'cluster' | 'environment';

export interface DoraFigures {
  readonly key: string;
  readonly deployments: number;
  readonly deploymentsPerDay: number;
  readonly leadTimeSamples: number;
  readonly leadTimeMedianSeconds: number;
  readonly failedDeployments: number;
  readonly changeFailureRate: number;
  readonly incidents: number;
  readonly restoredIncidents: number;
  readonly timeToRestoreMedianSeconds: number;
}

const DAY_MS = 86_400_000;
const deploymentKinds: ReadonlySet<string> = new Set(DEPLOYMENT_KINDS);
const isDeployment = (e: DeliveryEvent): boolean => deploymentKinds.has(e.kind);

export const median = (values: readonly number[]): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const groupKey = (e: DeliveryEvent, grouping: DoraGrouping): string =>
  grouping === 'none' ? '' : grouping === 'service' ? e.service : e[grouping];

/** Events grouped by a key, in their order. */
const groupBy = <T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> => {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list === undefined) groups.set(k, [item]);
    else list.push(item);
  }
  return groups;
};

/**
 * Finds, for a deployment, when the change it shipped was merged, traced through what producers
 * recorded: a `change.merged` in the deployment's chain or linked from it, or in the chain of (or
 * linked from) the artifact it deployed. The earliest such merge not after the deployment; undefined
 * if none. The upstream events are sorted once, for every deployment asked about.
 */
const mergeTracer = (upstream: readonly DeliveryEvent[]) => {
  const merges = upstream.filter((e) => e.kind === 'change.merged');
  const artifacts = groupBy(
    upstream.filter((e) => e.kind !== 'change.merged'),
    (e) => e.subjectId,
  );
  return (deployment: DeliveryEvent): number | undefined => {
    const shipped = deployment.artifactId === '' ? [] : (artifacts.get(deployment.artifactId) ?? []);
    const chains = new Set([deployment.chainId, ...shipped.map((a) => a.chainId)].filter((c) => c !== ''));
    const ids = new Set([...deployment.linkedIds, ...shipped.flatMap((a) => a.linkedIds)]);
    let earliest: number | undefined;
    for (const merge of merges) {
      if (!chains.has(merge.chainId) && !ids.has(merge.id)) continue;
      if (merge.time > deployment.time) continue;
      if (earliest === undefined || merge.time < earliest) earliest = merge.time;
    }
    return earliest;
  };
};

/** When the change a deployment shipped was merged (see mergeTracer), for one deployment. */
export const changeMergedAt = (
  deployment: DeliveryEvent,
  upstream: readonly DeliveryEvent[],
): number | undefined => mergeTracer(upstream)(deployment);

const figuresOf = (
  key: string,
  events: readonly DeliveryEvent[],
  mergedAt: (deployment: DeliveryEvent) => number | undefined,
  windowDays: number,
): DoraFigures => {
  const deployments = events.filter(isDeployment);
  // A deployment failed when, on its service and cluster, an incident was detected or a rollback
  // came before the next deployment (events are oldest first). A rollback is itself a deployment
  // that then awaits its own verdict.
  let failed = 0;
  for (const list of groupBy(events, (e) => `${e.service}\u0000${e.cluster}`).values()) {
    let awaitingVerdict = false;
    for (const e of list) {
      if (awaitingVerdict && (e.kind === 'incident.detected' || e.kind === 'service.rolledback')) {
        failed += 1;
        awaitingVerdict = false;
      }
      if (isDeployment(e)) awaitingVerdict = true;
    }
  }
  const leadTimes = deployments.flatMap((d) => {
    const merged = mergedAt(d);
    return merged === undefined ? [] : [(d.time - merged) / 1000];
  });
  // An incident is restored by the first later resolution of the same incident subject.
  const detected = events.filter((e) => e.kind === 'incident.detected');
  const restore = detected.flatMap((d) => {
    const resolved = events.find(
      (e) => e.kind === 'incident.resolved' && e.subjectId === d.subjectId && e.time >= d.time,
    );
    return resolved === undefined ? [] : [(resolved.time - d.time) / 1000];
  });
  return {
    key,
    deployments: deployments.length,
    deploymentsPerDay: windowDays > 0 ? deployments.length / windowDays : 0,
    leadTimeSamples: leadTimes.length,
    leadTimeMedianSeconds: median(leadTimes),
    failedDeployments: failed,
    changeFailureRate: deployments.length === 0 ? 0 : failed / deployments.length,
    incidents: detected.length,
    restoredIncidents: restore.length,
    timeToRestoreMedianSeconds: median(restore),
  };
};

/**
 * The four DORA metrics of a window from the deployments and incidents in it (oldest first) and
 * the upstream change and artifact events they trace back to. Pure: the query service fetches,
 * this decides, so the definitions are tested without a database.
 */
export const computeDora = (
  events: readonly DeliveryEvent[],
  upstream: readonly DeliveryEvent[],
  window: { since: Date; until: Date },
  grouping: DoraGrouping,
): DoraFigures[] => {
  const windowDays = (window.until.getTime() - window.since.getTime()) / DAY_MS;
  const groups = groupBy(events, (e) => groupKey(e, grouping));
  // Not grouped: one row even for an empty window.
  if (grouping === 'none' && groups.size === 0) groups.set('', []);
  const mergedAt = mergeTracer(upstream);
  return [...groups]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, list]) => figuresOf(key, list, mergedAt, windowDays));
};
