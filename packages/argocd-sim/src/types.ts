/** The shapes the simulator writes: Argo CD's Application (`pkg/apis/application/v1alpha1/types.go`) as JSON. */

import type { RetryStrategy } from './retry.js';

/** An Argo CD Application as plain JSON, shaped like the real objects (see the fixtures' README). */
export type Application = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    generation: number;
    creationTimestamp: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    project: string;
    destination: { server?: string; name?: string; namespace: string };
    source?: SourceSpec;
    sources?: SourceSpec[];
    sourceHydrator?: SourceHydratorSpec;
    revisionHistoryLimit?: number;
    syncPolicy?: Record<string, unknown>;
  };
  /** The requested operation, set until it completes (`util/argo/argo.go` `SetAppOperation`). */
  operation?: Record<string, unknown>;
  status: Record<string, unknown> & {
    history?: HistoryEntry[];
  };
};

export interface HelmSource {
  parameters?: { name: string; value: string; forceString?: boolean }[];
  values?: string;
  valuesObject?: Record<string, unknown>;
}

export interface SourceSpec {
  repoURL: string;
  path?: string;
  chart?: string;
  targetRevision?: string;
  helm?: HelmSource;
  kustomize?: { images?: string[] };
}

/** `spec.sourceHydrator` (2.14+): rendered from the dry source, synced from the hydrated branch. */
export interface SourceHydratorSpec {
  drySource: { repoURL: string; targetRevision: string; path: string };
  syncSource: { targetBranch: string; path: string };
  hydrateTo?: { targetBranch: string };
}

export interface HistoryEntry {
  id: number;
  revision?: string;
  revisions?: string[];
  deployStartedAt: string;
  deployedAt: string;
  /** 2.11+ only. */
  initiatedBy?: { automated?: boolean; username?: string };
  source: SourceSpec | { repoURL: '' };
  sources?: SourceSpec[];
}

export interface ClusterSpec {
  readonly name: string;
  readonly server: string;
}

export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change, as both watch APIs report it; `app` is a snapshot at that resourceVersion. */
export interface WatchEvent {
  readonly type: WatchType;
  readonly app: Application;
  readonly resourceVersion: number;
  /** A deletion the API server's informer saw only as a tombstone: not on the API stream. */
  readonly tombstone?: boolean;
}

export interface AppDefinition {
  readonly name: string;
  /** The Application's own namespace (apps in any namespace, 2.5+). @default the instance's namespace */
  readonly namespace?: string;
  readonly project?: string;
  readonly destination: { readonly server?: string; readonly name?: string; readonly namespace: string };
  readonly source?: SourceSpec;
  readonly sources?: readonly SourceSpec[];
  /** 2.14+ profiles only. */
  readonly sourceHydrator?: SourceHydratorSpec;
  readonly revisionHistoryLimit?: number;
  /** `spec.syncPolicy.retry`: auto-sync operations carry it instead of `{limit: 5}`. */
  readonly retry?: RetryStrategy;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly uid?: string;
  /**
   * The app was last written by a ≤2.13 controller: synced, Healthy, and no
   * `health.lastTransitionTime` until a release that writes it reconciles it (see the profiles).
   */
  readonly upgradedFromLegacy?: boolean;
}

/** A resource of the app as the controller reports it; `message` only with a non-Healthy status. */
export interface ResourceRef {
  readonly group?: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly message?: string;
}

export interface SyncRequest {
  /** Single-source revision (commit SHA, chart version, or OCI tag resolved to a digest on 3.1+). */
  readonly revision?: string;
  /** Multi-source revisions, one per source. */
  readonly revisions?: readonly string[];
  /** The attempt fails with this message (phase Failed, or Running with a retry left). */
  readonly fail?: string;
  /** The attempt ends in phase Error with this message (as a project error does). */
  readonly error?: string;
  /** @default { automated: true } */
  readonly initiatedBy?: { readonly automated?: boolean; readonly username?: string };
  /**
   * An auto-sync operation: `initiatedBy.automated` and the retry Argo CD's `autoSync` gives it
   * (`spec.syncPolicy.retry`, else `{limit: 5}`). Without it and without `retry`, a failure is final.
   */
  readonly automated?: boolean;
  /** `operation.retry`; overrides the auto-sync default. */
  readonly retry?: RetryStrategy;
  /** `operation.sync.dryRun`: Succeeded without a history entry or a refresh. */
  readonly dryRun?: boolean;
  /** `operation.sync.resources`: a partial sync, Succeeded without a history entry. */
  readonly resources?: readonly ResourceRef[];
  /** Leave the operation Running (a long sync), to `finishSync` or `terminate` later. */
  readonly hold?: boolean;
}

/** The outcome of one sync attempt (`finishSync`, `retrySync`). */
export interface AttemptOutcome {
  readonly fail?: string;
  readonly error?: string;
}
