import type { Application, ResourceStatus } from '../argocd/types.js';
import type { DetectorContext } from './context.js';
import type { Emission } from './emission.js';
import { incidentEvent, occurrenceId } from './events.js';
import type { AppFacts } from './identity.js';
import type { AppProgress } from './progress.js';

/** Degraded resources named in an incident's description; the rest are counted. */
const NAMED_RESOURCES = 3;

/**
 * Where a debounced spell (Degraded health, error conditions) stands: when it began (Argo CD's
 * transition time where it gives one, else when this agent first saw it, which the agent remembers in
 * progress), and whether the debounce has passed, or when to look again.
 */
export interface Spell {
  readonly since: string;
  /** What to keep in progress: the first sight, when Argo CD gave no time; null otherwise. */
  readonly firstSight: string | null;
  readonly recheckAt: Date | undefined;
}

export const spell = (
  stamped: string | undefined,
  remembered: string | null,
  ctx: DetectorContext,
  observedAt: Date,
): Spell => {
  const since = stamped ?? remembered ?? observedAt.toISOString();
  const dueAt = Date.parse(since) + ctx.healthDebounceMs;
  const due = observedAt.getTime() >= dueAt || Number.isNaN(dueAt);
  return {
    since,
    firstSight: stamped === undefined ? since : null,
    recheckAt: due ? undefined : new Date(dueAt),
  };
};

const resourceName = (r: ResourceStatus): string =>
  `${r.group === undefined || r.group === '' ? '' : `${r.group}/`}${r.kind ?? '?'} ${r.namespace === undefined || r.namespace === '' ? '' : `${r.namespace}/`}${r.name ?? '?'}`;

/** The resources whose own health is Degraded, as far as the object shows it. */
export const degradedResources = (app: Application): ResourceStatus[] =>
  (app.status?.resources ?? []).filter((r) => r.health?.status === 'Degraded');

/**
 * Why the app is Degraded, in words. Argo CD writes no app-level health message in any release up to
 * 3.5 (`setApplicationHealth` sets the status only); the cause is in the resources' health, which the
 * Application keeps up to 2.14 and which 3.0+ keeps out of it (`resourceHealthSource: appTree`),
 * though the API stream puts it back.
 */
export const degradedDescription = (app: Application): string => {
  const message = app.status?.health?.message;
  if (message !== undefined && message !== '') return `health degraded: ${message}`;
  const resources = degradedResources(app);
  if (resources.length === 0) {
    return "health degraded (Argo CD did not say which resource: see the app's resource tree)";
  }
  const named = resources
    .slice(0, NAMED_RESOURCES)
    .map(
      (r) =>
        `${resourceName(r)}${r.health?.message === undefined || r.health.message === '' ? '' : `: ${r.health.message}`}`,
    );
  const more = resources.length - named.length;
  return `health degraded: ${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
};

/**
 * Health incidents: Degraded for the debounce opens one, Healthy resolves it. The episode starts at
 * `health.lastTransitionTime`, the same for every observer, or, where Argo CD stamps none, when this
 * agent first saw Degraded (kept in progress), which another observer may see at another moment.
 */
export const healthEmissions = (
  facts: AppFacts,
  start: AppProgress,
  ctx: DetectorContext,
  observedAt: Date,
): { emissions: Emission[]; progress: AppProgress; recheckAt: Date | undefined } => {
  const health = facts.app.status?.health;
  const status = health?.status ?? '';
  const stamped = health?.lastTransitionTime;
  if (status === 'Degraded') {
    if (start.healthIncident !== null) return { emissions: [], progress: start, recheckAt: undefined };
    const { since, firstSight, recheckAt } = spell(stamped, start.degradedSince, ctx, observedAt);
    const waiting: AppProgress = firstSight === null ? start : { ...start, degradedSince: firstSight };
    if (recheckAt !== undefined) return { emissions: [], progress: waiting, recheckAt };
    const incidentId = occurrenceId(facts, 'health-degraded', since);
    const progress: AppProgress = {
      ...waiting,
      healthIncident: { id: incidentId, since },
      degradedSince: null,
    };
    const event = incidentEvent(
      'incident.detected',
      facts,
      incidentId,
      since,
      degradedDescription(facts.app),
      ctx,
      {
        cause: 'health',
        healthSince: since,
        healthSinceObserved: stamped === undefined,
        degradedResources: degradedResources(facts.app)
          .slice(0, NAMED_RESOURCES)
          .map((r) => ({
            group: r.group ?? '',
            kind: r.kind ?? '',
            namespace: r.namespace ?? '',
            name: r.name ?? '',
          })),
      },
    );
    return { emissions: [{ event, cluster: facts.cluster, progress }], progress, recheckAt: undefined };
  }
  // Any other status ends a Degraded spell that had not become an incident yet.
  const settled: AppProgress = start.degradedSince === null ? start : { ...start, degradedSince: null };
  if (status === 'Healthy' && start.healthIncident !== null) {
    const progress: AppProgress = { ...settled, healthIncident: null };
    const at = stamped ?? observedAt.toISOString();
    const event = incidentEvent(
      'incident.resolved',
      facts,
      start.healthIncident.id,
      at,
      'health back to Healthy',
      ctx,
      {
        cause: 'health',
        healthSince: at,
      },
    );
    return { emissions: [{ event, cluster: facts.cluster, progress }], progress, recheckAt: undefined };
  }
  // Unknown, Missing, Progressing and Suspended are not incidents; a Degraded incident stays open through them.
  return { emissions: [], progress: settled, recheckAt: undefined };
};
