import type { ApplicationCondition } from '../argocd/types.js';
import type { DetectorContext } from './context.js';
import type { Emission } from './emission.js';
import { incidentEvent, occurrenceId } from './events.js';
import { spell } from './health.js';
import type { AppFacts } from './identity.js';
import type { AppProgress } from './progress.js';

/**
 * The app's errors outside operations: conditions whose type ends in "Error" (types.go `IsError`),
 * e.g. ComparisonError (a commit that breaks Helm or Kustomize rendering) or SyncError (auto-sync
 * refusing to run), and a failed source hydration (2.14+, `status.sourceHydrator.currentOperation`),
 * which leaves no condition and no operation.
 */
export const errorConditions = (facts: AppFacts): ApplicationCondition[] => {
  const errors = (facts.app.status?.conditions ?? []).filter(
    (c) => (c.type ?? '').endsWith('Error') && !echoesFailedOperation(c),
  );
  const hydration = facts.app.status?.sourceHydrator?.currentOperation;
  if (hydration?.phase === 'Failed') {
    const at = hydration.finishedAt ?? hydration.startedAt;
    errors.push({
      type: 'HydrationError',
      message: hydration.message ?? 'source hydration failed',
      ...(at === undefined ? {} : { lastTransitionTime: at }),
    });
  }
  return errors;
};

/**
 * Auto-sync's note that it will not retry a revision whose sync failed: "Failed sync attempt to <sha>:
 * <the operation's message>" (controller/appcontroller.go `autoSync`, 2.4 to master). The failed
 * operation is its own incident already; counting this too would report one failure twice.
 */
const FAILED_ATTEMPT_PREFIX = 'Failed sync attempt to ';
const echoesFailedOperation = (c: ApplicationCondition): boolean =>
  c.type === 'SyncError' && (c.message ?? '').startsWith(FAILED_ATTEMPT_PREFIX);

const earliest = (times: readonly string[]): string | undefined =>
  times.reduce<string | undefined>(
    (min, t) => (min === undefined || Date.parse(t) < Date.parse(min) ? t : min),
    undefined,
  );

/**
 * Condition incidents: error conditions present for the debounce open one per app, and their
 * clearing resolves it. The start is the earliest error's `lastTransitionTime`, which Argo CD sets
 * when a condition of that type and message appears (types.go `SetConditions`), so every observer
 * keys the incident alike; a new message restarts that time but not an open incident.
 */
export const conditionEmissions = (
  facts: AppFacts,
  start: AppProgress,
  ctx: DetectorContext,
  observedAt: Date,
): { emissions: Emission[]; progress: AppProgress; recheckAt: Date | undefined } => {
  const errors = errorConditions(facts);
  if (errors.length > 0) {
    if (start.conditionIncident !== null) return { emissions: [], progress: start, recheckAt: undefined };
    const stamped = earliest(
      errors.flatMap((c) => (c.lastTransitionTime === undefined ? [] : [c.lastTransitionTime])),
    );
    const { since, firstSight, recheckAt } = spell(stamped, start.conditionSince, ctx, observedAt);
    const waiting: AppProgress = firstSight === null ? start : { ...start, conditionSince: firstSight };
    if (recheckAt !== undefined) return { emissions: [], progress: waiting, recheckAt };
    const incidentId = occurrenceId(facts, 'condition', since);
    const progress: AppProgress = {
      ...waiting,
      conditionIncident: { id: incidentId, since },
      conditionSince: null,
    };
    const description = errors.map((c) => `${c.type ?? 'Error'}: ${c.message ?? 'no message'}`).join('; ');
    const event = incidentEvent('incident.detected', facts, incidentId, since, description, ctx, {
      cause: 'condition',
      conditions: errors.map((c) => c.type ?? ''),
    });
    return { emissions: [{ event, cluster: facts.cluster, progress }], progress, recheckAt: undefined };
  }
  const settled: AppProgress = start.conditionSince === null ? start : { ...start, conditionSince: null };
  if (start.conditionIncident === null) return { emissions: [], progress: settled, recheckAt: undefined };
  const progress: AppProgress = { ...settled, conditionIncident: null };
  const event = incidentEvent(
    'incident.resolved',
    facts,
    start.conditionIncident.id,
    facts.app.status?.reconciledAt ?? observedAt.toISOString(),
    'error conditions cleared',
    ctx,
    { cause: 'condition' },
  );
  return { emissions: [{ event, cluster: facts.cluster, progress }], progress, recheckAt: undefined };
};
