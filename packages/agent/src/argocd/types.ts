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

export interface OperationState {
  phase?: 'Running' | 'Terminating' | 'Failed' | 'Error' | 'Succeeded' | string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Failed attempts retried so far within this operation. */
  retryCount?: number;
  operation?: { initiatedBy?: InitiatedBy; sync?: { revision?: string; revisions?: string[] } };
  syncResult?: {
    revision?: string;
    revisions?: string[];
    source?: ApplicationSource;
    sources?: ApplicationSource[];
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
  };
  status?: {
    history?: RevisionHistory[];
    operationState?: OperationState;
    sync?: { status?: string; revision?: string; revisions?: string[] };
    health?: { status?: string; message?: string; lastTransitionTime?: string };
    reconciledAt?: string;
    summary?: { images?: string[] };
  };
}

/** The annotation the Argo CD Agent sets on its copy of an app: the uid of the principal's original. */
export const SOURCE_UID_ANNOTATION = 'argocd.argoproj.io/source-uid';

/** The app's logical identity: the same for every copy of one app, whoever watches it. */
export const logicalUid = (app: Application): string =>
  app.metadata.annotations?.[SOURCE_UID_ANNOTATION] ??
  app.metadata.uid ??
  `${app.metadata.namespace ?? ''}/${app.metadata.name}`;

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
