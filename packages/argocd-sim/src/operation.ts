/** `status.operationState` of a sync, as `controller/appcontroller.go` `processRequestedAppOperation` writes it. */

import type { VersionProfile } from './profiles.js';
import { hasRetryLeft, kitchen, nextRetryAt, type RetryStrategy } from './retry.js';
import type { Application, ResourceRef, SourceSpec } from './types.js';

// gitops-engine pkg/sync/sync_context.go (v0.7.x, used by 2.8-3.x).
export const MSG_RUNNING = 'one or more tasks are running';
export const MSG_SUCCEEDED = 'successfully synced (all tasks run)';
export const MSG_TERMINATED = 'Operation terminated';
// 2.14+ controller/appcontroller.go, `--sync-timeout`.
export const MSG_TIMEOUT = 'operation is terminating due to timeout';

/** What a sync operation needs between its attempts. */
export interface OperationContext {
  readonly revision: string;
  readonly revisions: readonly string[] | undefined;
  readonly multi: boolean;
  readonly dryRun: boolean;
  readonly resources: readonly ResourceRef[];
  readonly automated: boolean;
  readonly initiatedBy: { automated?: boolean; username?: string };
  readonly retry: RetryStrategy;
  readonly startedAt: string;
}

export type OperationState = Record<string, unknown> & {
  phase: string;
  message: string;
  startedAt: string;
  finishedAt?: string;
  retryCount?: number;
  syncResult?: unknown;
};

/** `types.go` `GetSyncSource`: for a hydrator app, the dry repo at the hydrated branch and sync path. */
export const syncSourceOf = (app: Application): SourceSpec => {
  const h = app.spec.sourceHydrator;
  if (h !== undefined) {
    return {
      repoURL: h.drySource.repoURL,
      path: h.syncSource.path,
      targetRevision: h.syncSource.targetBranch,
    };
  }
  return app.spec.source ?? { repoURL: '' };
};

/** `operation`: what was asked, with `retry` (`{}` when none: a non-pointer struct) and `initiatedBy`. */
export const operationOf = (context: OperationContext): Record<string, unknown> => ({
  initiatedBy: context.initiatedBy,
  retry: structuredClone(context.retry),
  sync: {
    ...(context.multi ? { revisions: context.revisions } : { revision: context.revision }),
    ...(context.dryRun ? { dryRun: true } : {}),
    // `autoSync` copies `spec.syncPolicy.automated.prune`.
    ...(context.automated ? { prune: true } : {}),
    ...(context.resources.length > 0
      ? {
          resources: context.resources.map((r) => ({
            group: r.group ?? '',
            kind: r.kind,
            name: r.name,
            ...(r.namespace === undefined ? {} : { namespace: r.namespace }),
          })),
        }
      : {}),
    syncOptions: ['CreateNamespace=true'],
  },
});

/** `syncResult`: multi-source results have `revision: ""` and `source: {repoURL: ""}` (2.6+). */
export const syncResultOf = (app: Application, context: OperationContext): Record<string, unknown> =>
  context.multi
    ? {
        revision: '',
        revisions: context.revisions,
        source: { repoURL: '' },
        sources: structuredClone(app.spec.sources),
        resources: [],
      }
    : { revision: context.revision, source: structuredClone(syncSourceOf(app)), resources: [] };

/**
 * A failed (or errored) attempt: with a retry left, phase Running with `finishedAt`, `retryCount` + 1 and
 * the release's "Retrying attempt #N at 3:04PM." text; otherwise Failed/Error, with "(retried N times)."
 * after retries. `final` says which.
 */
export const failedAttempt = (
  state: OperationState,
  failure: { readonly message: string; readonly phase: 'Failed' | 'Error'; readonly retryable: boolean },
  retry: RetryStrategy,
  now: Date,
  finishedAt: string,
  profile: VersionProfile,
): { state: OperationState; final: boolean } => {
  const retryCount = state.retryCount ?? 0;
  if (failure.retryable && hasRetryLeft(retry, retryCount)) {
    const at = kitchen(nextRetryAt(retry, now, retryCount));
    return {
      final: false,
      state: {
        ...state,
        finishedAt,
        phase: 'Running',
        retryCount: retryCount + 1,
        message: profile.retryMessage(failure.message, retryCount + 1, at),
      },
    };
  }
  return {
    final: true,
    state: {
      ...state,
      finishedAt,
      phase: failure.phase,
      message: retryCount > 0 ? `${failure.message} (retried ${retryCount} times).` : failure.message,
    },
  };
};
