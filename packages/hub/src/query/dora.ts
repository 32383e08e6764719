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

/**
 * When the change a deployment shipped was merged, traced through what producers recorded: a
 * `change.merged` in the deployment's chain or linked from it, or in the chain of (or linked from)
 * the artifact it deployed. The earliest such merge not after the deployment; undefined if none.
 */
export const changeMergedAt = (
  deployment: DeliveryEvent,
  upstream: readonly DeliveryEvent[],
): number | undefined => {
  const merges = upstream.filter((e) => e.kind === 'change.merged');
  const artifacts = upstream.filter(
    (e) =>
      e.kind !== 'change.merged' && deployment.artifactId !== '' && e.subjectId === deployment.artifactId,
  );
  const chains = new Set([deployment.chainId, ...artifacts.map((a) => a.chainId)].filter((c) => c !== ''));
  const ids = new Set([...deployment.linkedIds, ...artifacts.flatMap((a) => a.linkedIds)]);
  let earliest: number | undefined;
  for (const merge of merges) {
    if (!chains.has(merge.chainId) && !ids.has(merge.id)) continue;
    if (merge.time > deployment.time) continue;
    if (earliest === undefined || merge.time < earliest) earliest = merge.time;
  }
  return earliest;
};

const figuresOf = (
  key: string,
  events: readonly DeliveryEvent[],
  upstream: readonly DeliveryEvent[],
  windowDays: number,
): DoraFigures => {
  const deployments = events.filter(isDeployment);
  // A deployment failed when, on its service and cluster, an incident was detected or a rollback
  // came before the next deployment (events are oldest first).
  let failed = 0;
  const byTarget = new Map<string, DeliveryEvent[]>();
  for (const e of events) {
    const target = `${e.service}\u0000${e.cluster}`;
    const list = byTarget.get(target) ?? [];
    list.push(e);
    byTarget.set(target, list);
  }
  for (const list of byTarget.values()) {
    list.forEach((e, i) => {
      if (!isDeployment(e)) return;
      for (const next of list.slice(i + 1)) {
        if (next.kind === 'incident.detected' || next.kind === 'service.rolledback') {
          failed += 1;
          return;
        }
        if (isDeployment(next)) return;
      }
    });
  }
  const leadTimes = deployments.flatMap((d) => {
    const merged = changeMergedAt(d, upstream);
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
  const groups = new Map<string, DeliveryEvent[]>();
  if (grouping === 'none') groups.set('', []);
  for (const e of events) {
    const key = groupKey(e, grouping);
    const list = groups.get(key) ?? [];
    list.push(e);
    groups.set(key, list);
  }
  return [...groups]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, list]) => figuresOf(key, list, upstream, windowDays));
};
