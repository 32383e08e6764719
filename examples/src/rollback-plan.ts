import type { Event, TimelineEntry } from '@argus/query-api';

/** What the reactor would ask Argo CD to do. */
export interface RollbackPlan {
  readonly service: string;
  readonly cluster: string;
  readonly incident: string;
  /** The deployment running when the incident started. */
  readonly current: { readonly artifact: string; readonly at: Date | undefined };
  /** The last deployment before it that no incident followed. */
  readonly target: {
    readonly artifact: string;
    readonly at: Date | undefined;
    readonly historyId?: number;
    readonly app?: string;
  };
}

const DEPLOY_KINDS = new Set(['service.deployed', 'service.upgraded', 'service.rolledback']);

const argocdOf = (event: Event | undefined): { app?: string; historyId?: number } => {
  try {
    const data = (
      JSON.parse(event?.cdeventJson ?? '{}') as {
        customData?: { argocd?: { app?: unknown; historyId?: unknown } };
      }
    ).customData?.argocd;
    return {
      ...(typeof data?.app === 'string' ? { app: data.app } : {}),
      ...(typeof data?.historyId === 'number' ? { historyId: data.historyId } : {}),
    };
  } catch {
    return {};
  }
};

/**
 * From a service's timeline, the rollback an incident calls for: in the incident's cluster, the
 * deployment running when it started, and the newest earlier deployment of another artifact
 * that was not followed by an incident before the next deployment. Undefined when there is none.
 */
export const planRollback = (
  incident: { id: string; cluster: string; service: string; at: Date },
  timeline: readonly TimelineEntry[],
): RollbackPlan | undefined => {
  const here = timeline.filter(
    (e) =>
      e.event?.cluster === incident.cluster && (e.event.timestamp?.getTime() ?? 0) <= incident.at.getTime(),
  );
  const deployments = here.flatMap((e, i) => (DEPLOY_KINDS.has(e.kind) ? [{ entry: e, index: i }] : []));
  const current = deployments.at(-1);
  if (current === undefined) return undefined;
  const healthy = (index: number): boolean => {
    for (const next of here.slice(index + 1)) {
      if (next.kind === 'incident.detected') return false;
      if (DEPLOY_KINDS.has(next.kind)) return true;
    }
    return true;
  };
  const target = deployments
    .slice(0, -1)
    .reverse()
    .find(({ entry, index }) => entry.detail !== current.entry.detail && healthy(index));
  if (target === undefined) return undefined;
  return {
    service: incident.service,
    cluster: incident.cluster,
    incident: incident.id,
    current: { artifact: current.entry.detail, at: current.entry.event?.timestamp },
    target: {
      artifact: target.entry.detail,
      at: target.entry.event?.timestamp,
      ...argocdOf(target.entry.event),
    },
  };
};

export const describePlan = (plan: RollbackPlan): string => {
  const command =
    plan.target.app !== undefined && plan.target.historyId !== undefined
      ? `argocd app rollback ${plan.target.app} ${plan.target.historyId}`
      : '(no Argo CD history id recorded: roll back by hand)';
  return `incident ${plan.incident} on ${plan.service} in ${plan.cluster}: would roll back from ${plan.current.artifact} to ${plan.target.artifact} (deployed ${plan.target.at?.toISOString() ?? '?'}): ${command}`;
};
