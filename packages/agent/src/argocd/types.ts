/**
 * The parts of an Argo CD `Application` (argoproj.io/v1alpha1) the agent reads. Field names and
 * shapes follow Argo CD's API types; everything is optional because real objects omit what is empty.
 */
export interface ApplicationSource {
  repoURL?: string;
  path?: string;
  chart?: string;
  targetRevision?: string;
  ref?: string;
  name?: string;
  /**
   * How the manifests are rendered: Helm parameters and values, Kustomize images, Jsonnet arguments,
   * plugin parameters. A change here deploys something new without a new revision (Argo CD Image
   * Updater's default write-back edits `helm.parameters` or `kustomize.images`).
   */
  helm?: Record<string, unknown>;
  kustomize?: Record<string, unknown>;
  directory?: Record<string, unknown>;
  plugin?: Record<string, unknown>;
}

export interface ApplicationDestination {
  server?: string;
  name?: string;
  namespace?: string;
}

export interface InitiatedBy {
  username?: string;
  automated?: boolean;
}

/** One entry of `status.history`: Argo CD's only numbered, append-only record of deployments. */
export interface RevisionHistory {
  id: number;
  revision?: string;
  revisions?: string[];
  source?: ApplicationSource;
  sources?: ApplicationSource[];
  deployedAt?: string;
  deployStartedAt?: string;
  initiatedBy?: InitiatedBy;
}

/** `operation.sync`: what a sync was asked to do. */
export interface SyncOperation {
  revision?: string;
  revisions?: string[];
  /** A dry run changes nothing and records no history (controller/sync.go `SyncAppState`). */
  dryRun?: boolean;
  /** A sync of chosen resources only: Argo CD records no history for it. */
  resources?: { group?: string; kind?: string; name?: string; namespace?: string }[];
}

export interface OperationState {
  phase?: 'Running' | 'Terminating' | 'Failed' | 'Error' | 'Succeeded' | string;
  message?: string;
  startedAt?: string;
  /**
   * When the operation ended; also set while `phase` is still Running when an attempt failed and a
   * retry is scheduled (controller/appcontroller.go `processRequestedAppOperation`, every release).
   */
  finishedAt?: string;
  /** Failed attempts retried so far within this operation. */
  retryCount?: number;
  operation?: {
    initiatedBy?: InitiatedBy;
    sync?: SyncOperation;
    /** `limit` < 0 retries for ever; auto-sync gets 5 unless the spec sets one. */
    retry?: { limit?: number };
  };
  syncResult?: {
    revision?: string;
    revisions?: string[];
    source?: ApplicationSource;
    sources?: ApplicationSource[];
  };
}

/** One entry of `status.resources`: a managed resource and (up to 2.14, or on the API stream) its health. */
export interface ResourceStatus {
  group?: string;
  version?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  status?: string;
  health?: { status?: string; message?: string };
}

/** `status.conditions[]`: errors and warnings outside operations (types ending in "Error" are errors). */
export interface ApplicationCondition {
  type?: string;
  message?: string;
  /** Set when a condition of this type and message first appears (types.go `SetConditions`). */
  lastTransitionTime?: string;
}

/** `status.sourceHydrator` (2.14+): the dry commit behind the hydrated one the app syncs. */
export interface SourceHydratorStatus {
  lastSuccessfulOperation?: { drySHA?: string; hydratedSHA?: string };
  currentOperation?: {
    phase?: string;
    message?: string;
    drySHA?: string;
    hydratedSHA?: string;
    startedAt?: string;
    finishedAt?: string;
  };
}

export interface Application {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  spec?: {
    project?: string;
    destination?: ApplicationDestination;
    source?: ApplicationSource;
    sources?: ApplicationSource[];
    revisionHistoryLimit?: number;
    /** 2.14+: the dry source whose rendered manifests are pushed to a hydrated branch. */
    sourceHydrator?: {
      drySource?: { repoURL?: string; path?: string; targetRevision?: string };
      syncSource?: { targetBranch?: string; path?: string };
    };
  };
  status?: {
    history?: RevisionHistory[];
    operationState?: OperationState;
    sync?: { status?: string; revision?: string; revisions?: string[] };
    /**
     * `lastTransitionTime` is absent before 2.14, and on 2.14.12+, 3.0.3+ and 3.1+ until the health
     * changes; `message` is never written at app level by a release up to 3.5.
     */
    health?: { status?: string; message?: string; lastTransitionTime?: string };
    reconciledAt?: string;
    /** Deprecated and no longer written, but still honoured by the Notifications controller. */
    observedAt?: string;
    summary?: { images?: string[] };
    resources?: ResourceStatus[];
    conditions?: ApplicationCondition[];
    sourceHydrator?: SourceHydratorStatus;
    /** The control plane's namespace (2.5+): apps elsewhere live in "apps in any namespace". */
    controllerNamespace?: string;
  };
}

/**
 * The annotation the Argo CD Agent sets on its copy of an app: the uid of the principal's original.
 * argocd-agent v0.8+ rewrites it in place after a principal failover (and then also sets
 * `argocd.argoproj.io/principal-uid`), so it names the copy's origin, not one fixed identity.
 */
export const SOURCE_UID_ANNOTATION = 'argocd.argoproj.io/source-uid';

/** Added by argocd-agent v0.8+ to a spoke copy: the uid of the principal that created or adopted it. */
export const PRINCIPAL_UID_ANNOTATION = 'argocd.argoproj.io/principal-uid';

/**
 * The app's logical identity: the same for every copy of one app, whoever watches it. An empty
 * annotation counts as absent, as the Go templates' `with` reads it.
 */
export const logicalUid = (app: Application): string => {
  const sourceUid = app.metadata.annotations?.[SOURCE_UID_ANNOTATION];
  if (sourceUid !== undefined && sourceUid !== '') return sourceUid;
  const uid = app.metadata.uid;
  return uid !== undefined && uid !== '' ? uid : `${app.metadata.namespace ?? ''}/${app.metadata.name}`;
};

/** A history entry's revision as one string (multi-source apps record one revision per source). */
export const entryRevision = (entry: Pick<RevisionHistory, 'revision' | 'revisions'>): string =>
  entry.revisions !== undefined && entry.revisions.length > 0
    ? entry.revisions.join(',')
    : (entry.revision ?? '');

/** The sources of a history entry or spec, ignoring the `{repoURL: ""}` placeholder multi-source apps carry. */
export const sourcesOf = (
  holder: { source?: ApplicationSource; sources?: ApplicationSource[] } | undefined,
): ApplicationSource[] => {
  if (holder === undefined) return [];
  if (holder.sources !== undefined && holder.sources.length > 0) return holder.sources;
  return holder.source !== undefined && (holder.source.repoURL ?? '') !== '' ? [holder.source] : [];
};
