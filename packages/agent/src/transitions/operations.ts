import { deterministicId } from '@argus/cdevents';
import { entryRevision, type OperationState } from '../argocd/types.js';
import type { DetectorContext } from './context.js';
import { keepsNoHistory, operationDeployment } from './deployments.js';
import type { Emission } from './emission.js';
import { incidentEvent, occurrenceId } from './events.js';
import type { AppFacts } from './identity.js';
import type { AppProgress } from './progress.js';

/**
 * gitops-engine's message for an operation a user terminated (`sync_context.go`); retried
 * operations append " (retried N times).".
 */
const TERMINATED_MESSAGE = 'Operation terminated';

/** What an operation's state says has happened, in the terms incidents and deployments need. */
export type OperationOutcome =
  /** No operation, or one still running with no failed attempt. */
  | 'none'
  /** A dry run: it changes nothing, so it neither opens, resolves nor deploys. */
  | 'dry-run'
  /**
   * An attempt failed and a retry is scheduled: Argo CD writes phase Running with `finishedAt`, a
   * higher `retryCount` and "Retrying attempt #N" (controller/appcontroller.go
   * `processRequestedAppOperation`, every release).
   */
  | 'failed-attempt'
  | 'failed'
  /** Ended by a user: not an incident. */
  | 'terminated'
  /** Succeeded, but only for chosen resources: Argo CD records no deployment, and it does not prove the app healthy. */
  | 'partial-success'
  | 'success';

export const operationOutcome = (op: OperationState | undefined): OperationOutcome => {
  if (op === undefined || op.startedAt === undefined) return 'none';
  const sync = op.operation?.sync;
  if (sync?.dryRun === true) return 'dry-run';
  const phase = op.phase ?? '';
  if (phase === 'Running' && op.finishedAt !== undefined && (op.retryCount ?? 0) > 0) return 'failed-attempt';
  if (phase === 'Failed' || phase === 'Error') {
    return (op.message ?? '').startsWith(TERMINATED_MESSAGE) ? 'terminated' : 'failed';
  }
  if (phase === 'Succeeded') return (sync?.resources?.length ?? 0) > 0 ? 'partial-success' : 'success';
  return 'none';
};

/**
 * Tells one evaluated state of an operation from another: its start (to the second), and the other
 * facts Argo CD records, all the same for every observer: when it (or its last attempt) finished,
 * its phase and message, the revision(s) it synced and asked for, its retry count and who started it.
 */
export const operationKey = (op: OperationState): string => {
  const asked = op.operation?.sync;
  const initiatedBy = op.operation?.initiatedBy;
  const digest = deterministicId([
    'operation',
    op.startedAt ?? '',
    op.finishedAt ?? '',
    op.phase ?? '',
    op.message ?? '',
    entryRevision(op.syncResult ?? {}),
    entryRevision(asked ?? {}),
    String(op.retryCount ?? 0),
    initiatedBy?.username ?? '',
    String(initiatedBy?.automated ?? ''),
  ]);
  return `${op.startedAt ?? ''} ${digest}`;
};

const later = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && Date.parse(a) > Date.parse(b);

/**
 * Sync incidents (and, for an app that keeps no history, deployments) from the operation: the first
 * failed attempt opens an incident, keyed by the operation's `startedAt` (kept through its retries),
 * as the Notifications templates key it; later attempts and later failures keep it open; the next
 * complete success resolves it.
 */
export const operationEmissions = (
  facts: AppFacts,
  start: AppProgress,
  ctx: DetectorContext,
  observedAt: Date,
): { emissions: Emission[]; progress: AppProgress } => {
  const op = facts.app.status?.operationState;
  const outcome = operationOutcome(op);
  if (op === undefined || outcome === 'none' || outcome === 'dry-run')
    return { emissions: [], progress: start };
  const startedAt = op.startedAt ?? '';
  const key = operationKey(op);
  // The bare startedAt: evaluated by an agent that did not write keys yet.
  if (key === start.lastOperation || startedAt === start.lastOperation)
    return { emissions: [], progress: start };
  const evaluated: AppProgress = { ...start, lastOperation: key };
  const extra = { operationPhase: op.phase ?? '', operationStartedAt: startedAt, cause: 'sync' as const };

  if (outcome === 'failed' || outcome === 'failed-attempt') {
    if (start.syncIncident !== null) return { emissions: [], progress: evaluated };
    const incidentId = occurrenceId(facts, 'sync-failure', startedAt);
    const progress: AppProgress = { ...evaluated, syncIncident: { id: incidentId, since: startedAt } };
    const retrying = outcome === 'failed-attempt';
    const event = incidentEvent(
      'incident.detected',
      facts,
      incidentId,
      op.finishedAt ?? startedAt,
      `sync ${retrying ? 'attempt failed' : (op.phase ?? 'failed').toLowerCase()}: ${op.message ?? 'no message'}`,
      ctx,
      { ...extra, retryCount: op.retryCount ?? 0, retrying },
    );
    return { emissions: [{ event, cluster: facts.cluster, progress }], progress };
  }
  if (outcome === 'terminated' || outcome === 'partial-success')
    return { emissions: [], progress: evaluated };

  // A complete success: it deploys (when no history records it) and resolves an open sync incident.
  const emissions: Emission[] = [];
  let progress = evaluated;
  if (keepsNoHistory(facts)) {
    const deployment = operationDeployment(facts, op, progress, ctx, observedAt);
    progress = deployment.progress;
    if (deployment.emission !== undefined) emissions.push(deployment.emission);
  }
  // An operation after the failing one (another key), possibly started in the same second.
  if (start.syncIncident !== null && !later(start.syncIncident.since, startedAt)) {
    progress = { ...progress, syncIncident: null };
    const event = incidentEvent(
      'incident.resolved',
      facts,
      start.syncIncident.id,
      op.finishedAt ?? startedAt,
      `sync succeeded: ${op.message ?? ''}`.trim(),
      ctx,
      extra,
    );
    emissions.push({ event, cluster: facts.cluster, progress });
  }
  // Each emission already carries the progress that holds once it is published (the resolution, last, the final one).
  return { emissions, progress };
};
