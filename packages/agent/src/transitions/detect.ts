import type { Application, ApplicationDestination } from '../argocd/types.js';
import { PRINCIPAL_UID_ANNOTATION, SOURCE_UID_ANNOTATION } from '../argocd/types.js';
import { conditionEmissions } from './conditions.js';
import { type DetectorContext, SERVICE_ANNOTATION } from './context.js';
import { historyEmissions } from './deployments.js';
import type { Detection, Emission } from './emission.js';
import { occurrenceId, serviceEvent } from './events.js';
import { degradedResources, healthEmissions } from './health.js';
import { factsOf } from './identity.js';
import { operationEmissions } from './operations.js';
import { type AppProgress, initialProgress } from './progress.js';

/**
 * Whether Argo CD's controller has looked at the app since its operation ended, decided exactly as
 * the Notifications controller decides it (notification_controller/controller/controller.go
 * `isAppSyncStatusRefreshed`): only a Failed, Error or Succeeded operation can be ahead, when it has
 * no `finishedAt`, or finished after both `reconciledAt` and `observedAt` (a missing one counts as
 * never). A Running operation, a retry pending included, never holds the app back.
 */
export const syncStatusRefreshed = (app: Application): boolean => {
  const op = app.status?.operationState;
  const phase = op?.phase;
  if (op === undefined || phase === undefined) return true;
  if (phase !== 'Failed' && phase !== 'Error' && phase !== 'Succeeded') return true;
  if (op.finishedAt === undefined) return false;
  const finished = Date.parse(op.finishedAt);
  const time = (value: string | undefined) =>
    value === undefined ? Number.NEGATIVE_INFINITY : Date.parse(value);
  return !(finished > time(app.status?.reconciledAt) && finished > time(app.status?.observedAt));
};

/**
 * The parts of an app the agent keeps once it has handled it: identity, destination, project, and the
 * status a recheck needs (sync and health words, health since when, the degraded resources, error
 * conditions). What Argo CD recorded beyond that (history, operation, managed fields) is in the app's
 * progress once handled; 5,000 apps kept whole would cost tens of MB.
 */
export const rememberedApp = (app: Application): Application => {
  const { name, namespace, uid, resourceVersion, deletionTimestamp, annotations } = app.metadata;
  // Built by assignment onto literals, never by conditional spreads: V8 gives every object made of
  // spreads a hidden class of its own (2 per app, ~10 MB with 20,000 apps), while assignments in one
  // order share one. Values every app repeats (servers, namespaces, health words) are interned.
  const metadata: Application['metadata'] = { name };
  if (namespace !== undefined) metadata.namespace = intern(namespace);
  if (uid !== undefined) metadata.uid = uid;
  if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
  if (deletionTimestamp !== undefined) metadata.deletionTimestamp = deletionTimestamp;
  for (const key of [SOURCE_UID_ANNOTATION, PRINCIPAL_UID_ANNOTATION, SERVICE_ANNOTATION]) {
    const value = annotations?.[key];
    if (value === undefined) continue;
    metadata.annotations ??= {};
    metadata.annotations[key] = value;
  }
  const { spec, status } = app;
  const kept: { spec: NonNullable<Application['spec']>; status: NonNullable<Application['status']> } = {
    spec: {},
    status: {},
  };
  if (spec?.project !== undefined) kept.spec.project = intern(spec.project);
  if (spec?.destination !== undefined) {
    const { server, name: cluster, namespace: target } = spec.destination;
    const destination: ApplicationDestination = {};
    if (server !== undefined) destination.server = intern(server);
    if (cluster !== undefined) destination.name = intern(cluster);
    if (target !== undefined) destination.namespace = intern(target);
    kept.spec.destination = destination;
  }
  if (status?.sync?.status !== undefined) kept.status.sync = { status: intern(status.sync.status) };
  if (status?.health !== undefined) {
    const { status: word, message, lastTransitionTime } = status.health;
    const health: NonNullable<NonNullable<Application['status']>['health']> = {};
    if (word !== undefined) health.status = intern(word);
    if (message !== undefined) health.message = message;
    if (lastTransitionTime !== undefined) health.lastTransitionTime = lastTransitionTime;
    kept.status.health = health;
  }
  if (status?.reconciledAt !== undefined) kept.status.reconciledAt = status.reconciledAt;
  if (status?.controllerNamespace !== undefined)
    kept.status.controllerNamespace = intern(status.controllerNamespace);
  const degraded = degradedResources(app);
  if (degraded.length > 0) kept.status.resources = degraded;
  const errors = (status?.conditions ?? []).filter((c) => (c.type ?? '').endsWith('Error'));
  if (errors.length > 0) kept.status.conditions = errors;
  if (status?.sourceHydrator?.currentOperation?.phase === 'Failed')
    kept.status.sourceHydrator = { currentOperation: status.sourceHydrator.currentOperation };
  return { metadata, spec: kept.spec, status: kept.status };
};

/**
 * One copy of each short string many apps repeat (JSON.parse gives every app its own): bounded, so
 * values unique per app cannot grow it without end; past the bound strings are kept as they come.
 */
const INTERNED_MAX = 4096;
const interned = new Map<string, string>();
const intern = (value: string): string => {
  const known = interned.get(value);
  if (known !== undefined) return known;
  if (interned.size < INTERNED_MAX) interned.set(value, value);
  return value;
};

/**
 * The event that an app is gone: its deletion began, it was DELETED, or a complete list no longer has
 * it. Its id names the last deployment the app had, which every observer of the removal knows, so an
 * app removed, re-created and removed again is two removals.
 */
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
  const lastDeployment = `${start.lastHistoryId ?? ''}@${start.lastHistoryStartedAt ?? ''}`;
  const event = serviceEvent(
    'service.removed',
    facts,
    occurrenceId(facts, 'service.removed', lastDeployment),
    app.metadata.deletionTimestamp ?? observedAt.toISOString(),
    undefined,
    ctx,
    { lastHistoryId: start.lastHistoryId, revision: start.recent.at(-1)?.version.split('+')[0] ?? '' },
  );
  return { event, cluster: facts.cluster, progress: next };
};

/**
 * Turns the difference between what an app records and what was already emitted into events, in
 * order: deployments from `status.history` (history is patched before the operation's phase flips,
 * so it is read at once), then, once the controller has looked at the app after its operation,
 * sync incidents (and deployments of apps that keep no history) from `operationState`, health
 * incidents and error-condition incidents; then removal. Pure: the same app and progress always give
 * the same events and ids, whoever observes them.
 */
export const detectTransitions = (
  app: Application,
  previous: AppProgress | undefined,
  ctx: DetectorContext,
  observedAt: Date,
): Detection => {
  const facts = factsOf(app, ctx);
  const deleting = app.metadata.deletionTimestamp !== undefined;
  let progress: AppProgress = previous ?? initialProgress(app, ctx);
  // Removed, and still (or again) being deleted: nothing more to say. Seen again otherwise: followed again.
  if (progress.removed && deleting) {
    return {
      emissions: [],
      progress,
      recheckAt: undefined,
      notes: { trimmedUnseen: 0, historyRestarted: false },
    };
  }
  progress = {
    ...progress,
    removed: false,
    address: facts.source,
    cluster: facts.cluster,
    namespace: facts.namespace,
    name: app.metadata.name,
  };
  const emissions: Emission[] = [];

  const history = historyEmissions(facts, progress, ctx, observedAt);
  emissions.push(...history.emissions);
  progress = history.progress;

  let recheckAt: Date | undefined;
  if (syncStatusRefreshed(app)) {
    const operation = operationEmissions(facts, progress, ctx, observedAt);
    emissions.push(...operation.emissions);
    progress = operation.progress;
    for (const step of [healthEmissions, conditionEmissions]) {
      const result = step(facts, progress, ctx, observedAt);
      emissions.push(...result.emissions);
      progress = result.progress;
      if (result.recheckAt !== undefined && (recheckAt === undefined || result.recheckAt < recheckAt)) {
        recheckAt = result.recheckAt;
      }
    }
  }

  if (deleting) {
    const removal = removalEmission(app, progress, ctx, observedAt);
    if (removal !== undefined) {
      emissions.push(removal);
      progress = removal.progress;
    }
  }
  return {
    emissions,
    progress,
    recheckAt,
    notes: { trimmedUnseen: history.notes.trimmedUnseen, historyRestarted: history.notes.restarted },
  };
};
