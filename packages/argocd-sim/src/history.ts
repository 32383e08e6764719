import type { VersionProfile } from './profiles.js';
import type { HistoryEntry, SourceSpec } from './types.js';

/** Argo CD's default `spec.revisionHistoryLimit` (`application_defaults.go` `RevisionHistoryLimit`). */
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;

/** `RevisionHistories.Trunc(n)`: keeps the newest `n` entries, none when `n` is 0. */
export const truncHistory = (history: readonly HistoryEntry[], limit: number): HistoryEntry[] =>
  history.slice(Math.max(0, history.length - Math.max(0, limit)));

export interface Deployment {
  readonly startedAt: string;
  readonly deployedAt: string;
  readonly initiatedBy: { automated?: boolean; username?: string };
  /** Single source: the resolved revision and the source as compared (parameters included). */
  readonly revision?: string;
  readonly source?: SourceSpec;
  /** Multi-source: one resolved revision per source, and the spec's sources as they are. */
  readonly revisions?: readonly string[];
  readonly sources?: readonly SourceSpec[];
}

/**
 * `controller/state.go` `persistRevisionHistory` (2.8-3.x): id = last id + 1 (0 when the list is
 * empty), then `Trunc(revisionHistoryLimit)`. Multi-source entries keep the spec's `targetRevision`
 * (e.g. `HEAD`) in `sources[]` and carry `source: {repoURL: ""}` (the non-pointer `Source` field).
 */
export const appendHistory = (
  history: readonly HistoryEntry[],
  deployment: Deployment,
  limit: number,
  profile: VersionProfile,
): HistoryEntry[] => {
  const id = (history.at(-1)?.id ?? -1) + 1;
  const common = {
    id,
    deployStartedAt: deployment.startedAt,
    deployedAt: deployment.deployedAt,
    // `initiatedBy` exists from 2.11 (upgrading/2.10-2.11.md).
    ...(profile.historyInitiatedBy ? { initiatedBy: { ...deployment.initiatedBy } } : {}),
  };
  const entry: HistoryEntry =
    deployment.sources === undefined
      ? {
          ...common,
          revision: deployment.revision ?? '',
          source: structuredClone(deployment.source ?? { repoURL: '' }),
        }
      : {
          ...common,
          revisions: [...(deployment.revisions ?? [])],
          source: { repoURL: '' },
          sources: deployment.sources.map((s) => structuredClone(s)),
        };
  return truncHistory([...history, entry], limit);
};
