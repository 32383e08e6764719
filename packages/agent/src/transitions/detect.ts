import { type CDEvent, createEvent, deterministicId } from '@argus/cdevents';
import {
  type Application,
  entryRevision,
  logicalUid,
  type OperationState,
  type RevisionHistory,
  SOURCE_UID_ANNOTATION,
  sourcesOf,
} from '../argocd/types.js';
import { clusterOf, type DetectorContext, SERVICE_ANNOTATION, serviceOf } from './context.js';
import { artifactPurl } from './purl.js';

/** Revisions remembered per app to recognise rollbacks beyond the trimmed `status.history`. */
export const MAX_REMEMBERED_REVISIONS = 50;

/**
 * What the agent has already emitted for one app. Persisted (NATS KV) after every publish, so a
 * restarted agent, on this machine or another, continues exactly where the last one stopped.
 */
export interface AppProgress {
  readonly v: 1;
  readonly uid: string;
  readonly name: string;
  readonly cluster: string;
  readonly namespace: string;
  /** Highest `status.history[].id` turned into an event (or deliberately skipped). */
  readonly lastHistoryId: number | null;
  readonly lastRevision: string | null;
  /** Oldest first, at most MAX_REMEMBERED_REVISIONS. */
  readonly revisions: readonly string[];
  /**
   * The last finished operation whose outcome was evaluated: its `operationKey` (`startedAt`, then a
   * digest of what else tells it from the operation before). Progress written before that key existed
   * holds the bare `startedAt`.
   */
  readonly lastOperation: string | null;
  readonly syncIncident: { readonly id: string; readonly startedAt: string } | null;
  readonly healthIncident: { readonly id: string; readonly since: string } | null;
  readonly removed: boolean;
}

/** One event to publish and the progress that holds once it is published. */
export interface Emission {
  readonly event: CDEvent;
  /** The destination cluster name, sent to the hub in the `Argus-Cluster` header. */
  readonly cluster: string;
  readonly progress: AppProgress;
}

export interface Detection {
  readonly emissions: readonly Emission[];
  /** Progress after every emission (equal to the last emission's, or updated without events). */
  readonly progress: AppProgress;
  /** When to look at the app again without a change (a Degraded health waiting out its debounce). */
  readonly recheckAt: Date | undefined;
}

const FAILED_PHASES = new Set(['Failed', 'Error']);

const initialProgress = (app: Application, ctx: DetectorContext): AppProgress => ({
  v: 1,
  uid: logicalUid(app),
  name: app.metadata.name,
  cluster: clusterOf(app, ctx),
  namespace: app.spec?.destination?.namespace ?? '',
  lastHistoryId: null,
  lastRevision: null,
  revisions: [],
  lastOperation: null,
  syncIncident: null,
  healthIncident: null,
  removed: false,
});

const remember = (revisions: readonly string[], revision: string): string[] => {
  const next = revisions.filter((r) => r !== revision);
  next.push(revision);
  return next.slice(-MAX_REMEMBERED_REVISIONS);
};

const later = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && Date.parse(a) > Date.parse(b);

/** Everything about an app that ties an event to its origin, for `context.source` and `subject`. */
interface AppFacts {
  readonly app: Application;
  readonly uid: string;
  readonly cluster: string;
  readonly namespace: string;
  readonly service: string;
  readonly source: string;
  readonly environmentId: string;
}

const factsOf = (app: Application, ctx: DetectorContext): AppFacts => {
  const cluster = clusterOf(app, ctx);
  const namespace = app.spec?.destination?.namespace ?? '';
  const service = serviceOf(app);
  return {
    app,
    uid: logicalUid(app),
    cluster,
    namespace,
    service,
    source: `/argocd/${encodeURIComponent(cluster)}/${encodeURIComponent(namespace)}/${encodeURIComponent(app.metadata.name)}`,
    environmentId: `${cluster}/${namespace}`,
  };
};

/**
 * The parts of an app the agent keeps once it has handled it: identity, destination, project, and the
 * status it shows (sync and health words, health since when). What Argo CD recorded beyond that
 * (history, operation, resources, managed fields) is in the app's progress once handled, so a recheck
 * (a debounced health) and a removal need only this; 5,000 apps kept whole would cost tens of MB.
 */
export const rememberedApp = (app: Application): Application => {
  const { name, namespace, uid, resourceVersion, deletionTimestamp, annotations } = app.metadata;
  const sourceUid = annotations?.[SOURCE_UID_ANNOTATION];
  const service = annotations?.[SERVICE_ANNOTATION];
  const kept: Record<string, string> = {};
  if (sourceUid !== undefined) kept[SOURCE_UID_ANNOTATION] = sourceUid;
  if (service !== undefined) kept[SERVICE_ANNOTATION] = service;
  const { spec, status } = app;
  return {
    metadata: {
      name,
      ...(namespace === undefined ? {} : { namespace }),
      ...(uid === undefined ? {} : { uid }),
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
      ...(deletionTimestamp === undefined ? {} : { deletionTimestamp }),
      ...(Object.keys(kept).length === 0 ? {} : { annotations: kept }),
    },
    spec: {
      ...(spec?.project === undefined ? {} : { project: spec.project }),
      ...(spec?.destination === undefined ? {} : { destination: spec.destination }),
    },
    status: {
      ...(status?.sync?.status === undefined ? {} : { sync: { status: status.sync.status } }),
      ...(status?.health === undefined ? {} : { health: status.health }),
      ...(status?.reconciledAt === undefined ? {} : { reconciledAt: status.reconciledAt }),
    },
  };
};

/** `customData` of every event: the Argo CD facts a consumer needs without asking Argo CD. */
const argocdData = (facts: AppFacts, extra: Record<string, unknown>): Record<string, unknown> => {
  const { app } = facts;
  const destination = app.spec?.destination ?? {};
  return {
    argocd: {
      app: app.metadata.name,
      appNamespace: app.metadata.namespace ?? '',
      uid: facts.uid,
      project: app.spec?.project ?? '',
      syncStatus: app.status?.sync?.status ?? '',
      healthStatus: app.status?.health?.status ?? '',
      destination: {
        server: destination.server ?? '',
        name: destination.name ?? '',
        namespace: destination.namespace ?? '',
      },
      cluster: facts.cluster,
      ...extra,
    },
  };
};

type ServiceChange = 'service.deployed' | 'service.upgraded' | 'service.rolledback';

const serviceEvent = (
  kind: ServiceChange,
  facts: AppFacts,
  entry: RevisionHistory,
  ctx: DetectorContext,
  observedAt: Date,
): CDEvent => {
  const revision = entryRevision(entry);
  const sources = sourcesOf(entry).length > 0 ? sourcesOf(entry) : sourcesOf(facts.app.spec);
  const primary = sources.find((s) => (s.chart ?? '') !== '') ?? sources[0];
  const primaryRevision = entry.revisions?.[sources.indexOf(primary ?? {})] ?? entry.revision ?? '';
  return createEvent({
    type: kind,
    specVersion: ctx.specVersion,
    id: deterministicId([facts.uid, kind, revision, String(entry.id)]),
    source: facts.source,
    timestamp: entry.deployedAt ?? entry.deployStartedAt ?? observedAt.toISOString(),
    subject: {
      id: facts.service,
      source: facts.source,
      content: {
        environment: { id: facts.environmentId, source: `/argocd/${encodeURIComponent(facts.cluster)}` },
        artifactId: artifactPurl(primary, primaryRevision),
      },
    },
    customData: argocdData(facts, {
      historyId: entry.id,
      revision,
      ...(entry.revisions === undefined ? {} : { revisions: entry.revisions }),
      deployStartedAt: entry.deployStartedAt ?? '',
      initiatedBy: entry.initiatedBy ?? {},
    }),
    customDataContentType: 'application/json',
  }) as CDEvent;
};

const incidentEvent = (
  kind: 'incident.detected' | 'incident.resolved',
  facts: AppFacts,
  incidentId: string,
  timestamp: string,
  description: string,
  ctx: DetectorContext,
  extra: Record<string, unknown>,
): CDEvent =>
  createEvent({
    type: kind,
    specVersion: ctx.specVersion,
    id: deterministicId([facts.uid, kind, incidentId]),
    source: facts.source,
    timestamp,
    subject: {
      id: incidentId,
      source: facts.source,
      content: {
        description,
        environment: { id: facts.environmentId, source: `/argocd/${encodeURIComponent(facts.cluster)}` },
        service: { id: facts.service, source: facts.source },
      },
    },
    customData: argocdData(facts, extra),
    customDataContentType: 'application/json',
  }) as CDEvent;

const historyEmissions = (
  facts: AppFacts,
  start: AppProgress,
  ctx: DetectorContext,
  observedAt: Date,
): { emissions: Emission[]; progress: AppProgress } => {
  const history = [...(facts.app.status?.history ?? [])].sort((a, b) => a.id - b.id);
  const emissions: Emission[] = [];
  let progress = start;
  for (const [index, entry] of history.entries()) {
    if (progress.lastHistoryId !== null && entry.id <= progress.lastHistoryId) continue;
    const revision = entryRevision(entry);
    // Revisions Argo CD still shows before this entry, plus those remembered from trimmed history.
    const earlier = new Set([...progress.revisions, ...history.slice(0, index).map(entryRevision)]);
    const previous =
      progress.lastRevision ?? (index > 0 ? entryRevision(history[index - 1] ?? { id: -1 }) : null);
    let kind: ServiceChange | undefined;
    if (progress.lastHistoryId === null && index === 0) kind = 'service.deployed';
    else if (previous === null) kind = 'service.deployed';
    else if (revision === previous) kind = ctx.emitResyncs ? 'service.deployed' : undefined;
    else if (earlier.has(revision)) kind = 'service.rolledback';
    else kind = 'service.upgraded';
    progress = {
      ...progress,
      lastHistoryId: entry.id,
      lastRevision: revision,
      revisions: remember(progress.revisions, revision),
    };
    if (kind !== undefined) {
      emissions.push({
        event: serviceEvent(kind, facts, entry, ctx, observedAt),
        cluster: facts.cluster,
        progress,
      });
    }
  }
  return { emissions, progress };
};

/**
 * Tells one finished operation from the one before. `startedAt` alone does not: Argo CD records it to
 * the second, and a sync can start in the second the previous one started (an automated retry, a quick
 * second sync). With it go the other facts Argo CD records about the operation, all of them the same
 * for every observer: when it finished, its outcome and message, the revision(s) it synced and asked
 * for, its retry count and who started it.
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

const operationEmissions = (
  facts: AppFacts,
  start: AppProgress,
  ctx: DetectorContext,
): { emissions: Emission[]; progress: AppProgress } => {
  const op = facts.app.status?.operationState;
  const phase = op?.phase ?? '';
  const startedAt = op?.startedAt;
  if (op === undefined || startedAt === undefined || !(FAILED_PHASES.has(phase) || phase === 'Succeeded')) {
    // None, or Running or Terminating: nothing has happened yet.
    return { emissions: [], progress: start };
  }
  const key = operationKey(op);
  // The bare startedAt: evaluated by an agent that did not write keys yet.
  if (key === start.lastOperation || startedAt === start.lastOperation) {
    return { emissions: [], progress: start };
  }
  const lastOperation = key;
  if (FAILED_PHASES.has(phase)) {
    if (start.syncIncident !== null) {
      // Still failing (a retry): the incident is open already; remember the attempt.
      return { emissions: [], progress: { ...start, lastOperation } };
    }
    // Keyed by startedAt alone, as the Notifications templates key it (deploy/argocd-notifications).
    const incidentId = deterministicId([facts.uid, 'sync-failure', startedAt]);
    const progress: AppProgress = {
      ...start,
      lastOperation,
      syncIncident: { id: incidentId, startedAt },
    };
    const event = incidentEvent(
      'incident.detected',
      facts,
      incidentId,
      op.finishedAt ?? startedAt,
      `sync ${phase.toLowerCase()}: ${op.message ?? 'no message'}`,
      ctx,
      { operationPhase: phase, operationStartedAt: startedAt, cause: 'sync' },
    );
    return { emissions: [{ event, cluster: facts.cluster, progress }], progress };
  }
  // Succeeded: an operation after the failing one (another key), possibly started in the same second.
  if (start.syncIncident !== null && !later(start.syncIncident.startedAt, startedAt)) {
    const progress: AppProgress = { ...start, lastOperation, syncIncident: null };
    const event = incidentEvent(
      'incident.resolved',
      facts,
      start.syncIncident.id,
      op.finishedAt ?? startedAt,
      `sync succeeded: ${op.message ?? ''}`.trim(),
      ctx,
      { operationPhase: phase, operationStartedAt: startedAt, cause: 'sync' },
    );
    return { emissions: [{ event, cluster: facts.cluster, progress }], progress };
  }
  return { emissions: [], progress: { ...start, lastOperation } };
};

const healthEmissions = (
  facts: AppFacts,
  start: AppProgress,
  ctx: DetectorContext,
  observedAt: Date,
): { emissions: Emission[]; progress: AppProgress; recheckAt: Date | undefined } => {
  const health = facts.app.status?.health;
  const status = health?.status ?? '';
  const since = health?.lastTransitionTime ?? observedAt.toISOString();
  if (status === 'Degraded' && start.healthIncident === null) {
    const due = Date.parse(since) + ctx.healthDebounceMs;
    if (observedAt.getTime() < due) return { emissions: [], progress: start, recheckAt: new Date(due) };
    const incidentId = deterministicId([facts.uid, 'health-degraded', since]);
    const progress: AppProgress = { ...start, healthIncident: { id: incidentId, since } };
    const event = incidentEvent(
      'incident.detected',
      facts,
      incidentId,
      since,
      `health degraded: ${health?.message ?? 'no message'}`,
      ctx,
      { cause: 'health', healthSince: since },
    );
    return { emissions: [{ event, cluster: facts.cluster, progress }], progress, recheckAt: undefined };
  }
  if (status === 'Healthy' && start.healthIncident !== null) {
    const progress: AppProgress = { ...start, healthIncident: null };
    const event = incidentEvent(
      'incident.resolved',
      facts,
      start.healthIncident.id,
      since,
      'health back to Healthy',
      ctx,
      { cause: 'health', healthSince: since },
    );
    return { emissions: [{ event, cluster: facts.cluster, progress }], progress, recheckAt: undefined };
  }
  // Unknown, Missing, Progressing and Suspended are not incidents; a Degraded incident stays open through them.
  return { emissions: [], progress: start, recheckAt: undefined };
};

/** The event that an app is gone: its deletion began, it was DELETED, or a full list no longer has it. */
export const removalEmission = (
  app: Application,
  progress: AppProgress | undefined,
  ctx: DetectorContext,
  observedAt: Date,
): Emission | undefined => {
  const start = progress ?? initialProgress(app, ctx);
  if (start.removed) return undefined;
  const facts = factsOf(app, ctx);
  const next: AppProgress = { ...start, removed: true };
  const event = createEvent({
    type: 'service.removed',
    specVersion: ctx.specVersion,
    id: deterministicId([facts.uid, 'service.removed']),
    source: facts.source,
    timestamp: app.metadata.deletionTimestamp ?? observedAt.toISOString(),
    subject: {
      id: facts.service,
      source: facts.source,
      content: {
        environment: { id: facts.environmentId, source: `/argocd/${encodeURIComponent(facts.cluster)}` },
      },
    },
    customData: argocdData(facts, { lastHistoryId: start.lastHistoryId, revision: start.lastRevision ?? '' }),
    customDataContentType: 'application/json',
  }) as CDEvent;
  return { event, cluster: facts.cluster, progress: next };
};

/**
 * Turns the difference between what an app records and what was already emitted into events, in
 * order: deployments from `status.history`, then sync incidents from `operationState`, then health
 * incidents, then removal. Pure: the same app and progress always give the same events and ids,
 * whoever observes them and whenever.
 */
export const detectTransitions = (
  app: Application,
  previous: AppProgress | undefined,
  ctx: DetectorContext,
  observedAt: Date,
): Detection => {
  const facts = factsOf(app, ctx);
  let progress = previous ?? initialProgress(app, ctx);
  if (progress.removed) return { emissions: [], progress, recheckAt: undefined };
  const emissions: Emission[] = [];

  const history = historyEmissions(facts, progress, ctx, observedAt);
  emissions.push(...history.emissions);
  progress = history.progress;

  let recheckAt: Date | undefined;
  const op = app.status?.operationState;
  const reconciledAt = app.status?.reconciledAt;
  // As the Notifications controller does: an operation that finished after the last reconciliation
  // has not been looked at by the controller yet, so its health and outcome may be stale.
  const settled = !(
    op?.finishedAt !== undefined &&
    reconciledAt !== undefined &&
    later(op.finishedAt, reconciledAt)
  );
  if (settled) {
    const operation = operationEmissions(facts, progress, ctx);
    emissions.push(...operation.emissions);
    progress = operation.progress;
    const health = healthEmissions(facts, progress, ctx, observedAt);
    emissions.push(...health.emissions);
    progress = health.progress;
    recheckAt = health.recheckAt;
  }

  if (app.metadata.deletionTimestamp !== undefined) {
    const removal = removalEmission(app, progress, ctx, observedAt);
    if (removal !== undefined) {
      emissions.push(removal);
      progress = removal.progress;
    }
  }
  return { emissions, progress, recheckAt };
};
