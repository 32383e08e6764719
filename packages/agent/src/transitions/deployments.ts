import { createHash } from 'node:crypto';
import type { ApplicationSource, InitiatedBy, OperationState, RevisionHistory } from '../argocd/types.js';
import { entryRevision, sourcesOf } from '../argocd/types.js';
import type { DetectorContext } from './context.js';
import type { Emission } from './emission.js';
import { occurrenceId, type ServiceChange, serviceEvent } from './events.js';
import type { AppFacts } from './identity.js';
import type { AppProgress, RememberedDeployment } from './progress.js';
import { MAX_REMEMBERED_DEPLOYMENTS, rememberDeployment } from './progress.js';
import { artifactPurl } from './purl.js';

/** Argo CD's default `spec.revisionHistoryLimit` (application_defaults.go). */
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;

/**
 * One deployment as Argo CD recorded it: a `status.history` entry, or, for an app that keeps no
 * history (`revisionHistoryLimit: 0`), its successful full sync operation.
 */
export interface Deployment {
  /** The history id; null when taken from an operation. */
  readonly historyId: number | null;
  readonly revision: string;
  readonly revisions: readonly string[] | undefined;
  readonly sources: readonly ApplicationSource[];
  readonly startedAt: string;
  readonly finishedAt: string | undefined;
  readonly initiatedBy: InitiatedBy | undefined;
}

const fromHistory = (entry: RevisionHistory, facts: AppFacts): Deployment => ({
  historyId: entry.id,
  revision: entryRevision(entry),
  revisions: entry.revisions,
  sources: sourcesOf(entry).length > 0 ? sourcesOf(entry) : sourcesOf(facts.app.spec),
  startedAt: entry.deployStartedAt ?? entry.deployedAt ?? '',
  finishedAt: entry.deployedAt,
  initiatedBy: entry.initiatedBy,
});

const fromOperation = (op: OperationState, facts: AppFacts): Deployment => {
  const result = op.syncResult ?? {};
  const sources = sourcesOf(result);
  return {
    historyId: null,
    revision: entryRevision(result),
    revisions: result.revisions,
    sources: sources.length > 0 ? sources : sourcesOf(facts.app.spec),
    startedAt: op.startedAt ?? '',
    finishedAt: op.finishedAt,
    initiatedBy: op.operation?.initiatedBy,
  };
};

/** What a source renders with besides its revision: Helm values and parameters, Kustomize images, ... */
const RENDERING_KEYS = ['helm', 'kustomize', 'directory', 'plugin'] as const;

const canonical = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};

/**
 * A digest of how the deployment's sources render, or '' when none sets rendering parameters. Two
 * syncs of one revision with other Helm values or Kustomize images (Argo CD Image Updater's default
 * write-back) deploy different things: the digest tells them apart.
 */
export const renderingDigest = (sources: readonly ApplicationSource[]): string => {
  const rendering = sources.map((source) => {
    const picked: Record<string, unknown> = {};
    for (const key of RENDERING_KEYS) if (source[key] !== undefined) picked[key] = source[key];
    return picked;
  });
  if (rendering.every((r) => Object.keys(r).length === 0)) return '';
  return createHash('sha256').update(canonical(rendering)).digest('hex').slice(0, 16);
};

/** What a deployment put in place: its revision(s) and, when set, its rendering parameters. */
export const versionOf = (deployment: Deployment): string => {
  const digest = renderingDigest(deployment.sources);
  return digest === '' ? deployment.revision : `${deployment.revision}+${digest}`;
};

/**
 * How many deployments up to and including the one before are compared with a new one to classify
 * it. Argo CD keeps the last `revisionHistoryLimit` entries, so when an entry is appended every
 * observer sees the same ones before it: the kind is the same for all. Below 2 Argo CD shows no
 * predecessor, and the agent's memory stands in (then the kind depends on what the agent saw).
 */
export const lookbackSize = (limit: number): number =>
  Math.max(2, Math.min(limit, MAX_REMEMBERED_DEPLOYMENTS));

/**
 * deployed: the first of the app's history (id 0), or the first an agent ever sees of an app that
 * keeps none; a re-sync: the same version as the one just before; rolledback: the version of an
 * earlier one within the lookback; upgraded: anything else.
 */
const classify = (
  version: string,
  first: boolean,
  previous: string | undefined,
  earlier: readonly string[],
): ServiceChange | 'resync' => {
  if (first) return 'service.deployed';
  if (previous === version) return 'resync';
  if (earlier.includes(version)) return 'service.rolledback';
  return 'service.upgraded';
};

/** Helm parameters and Kustomize images: the small, human-readable part of what a deployment rendered with. */
const renderingSummary = (sources: readonly ApplicationSource[]): Record<string, unknown> => {
  const parameters = sources.flatMap((s) => (s.helm?.parameters as unknown[] | undefined) ?? []);
  const images = sources.flatMap((s) => (s.kustomize?.images as unknown[] | undefined) ?? []);
  return {
    ...(parameters.length === 0 ? {} : { helmParameters: parameters }),
    ...(images.length === 0 ? {} : { kustomizeImages: images }),
  };
};

/** The deployed artifact: for a source hydrator app, the dry commit behind the hydrated one. */
const artifactOf = (deployment: Deployment, facts: AppFacts): string => {
  const hydrator = facts.app.spec?.sourceHydrator;
  const digest = renderingDigest(deployment.sources);
  if (hydrator?.drySource !== undefined) {
    const status = facts.app.status?.sourceHydrator;
    const matches = [status?.lastSuccessfulOperation, status?.currentOperation].find(
      (op) => op?.hydratedSHA !== undefined && op.hydratedSHA === deployment.revision,
    );
    const dry = matches?.drySHA ?? status?.lastSuccessfulOperation?.drySHA ?? '';
    return artifactPurl(hydrator.drySource, dry, digest);
  }
  const primary = deployment.sources.find((s) => (s.chart ?? '') !== '') ?? deployment.sources[0];
  const index = primary === undefined ? -1 : deployment.sources.indexOf(primary);
  const primaryRevision =
    (index >= 0 ? deployment.revisions?.[index] : undefined) ??
    (deployment.revisions === undefined ? deployment.revision : '');
  return artifactPurl(primary, primaryRevision, digest);
};

const deploymentEmission = (
  kind: ServiceChange,
  deployment: Deployment,
  facts: AppFacts,
  ctx: DetectorContext,
  observedAt: Date,
  progress: AppProgress,
): Emission => ({
  event: serviceEvent(
    kind,
    facts,
    // The kind is not part of the id: one deployment has one id even for an observer that could not classify it alike.
    occurrenceId(
      facts,
      'deployment',
      deployment.historyId === null ? 'operation' : String(deployment.historyId),
      deployment.startedAt,
      deployment.revision,
    ),
    deployment.finishedAt ?? (deployment.startedAt === '' ? observedAt.toISOString() : deployment.startedAt),
    artifactOf(deployment, facts),
    ctx,
    {
      historyId: deployment.historyId,
      revision: deployment.revision,
      ...(deployment.revisions === undefined ? {} : { revisions: deployment.revisions }),
      deployStartedAt: deployment.startedAt,
      initiatedBy: deployment.initiatedBy ?? {},
      ...renderingSummary(deployment.sources),
    },
  ),
  cluster: facts.cluster,
  progress,
});

/** What history handling saw besides events: entries trimmed unseen, or a history that restarted. */
export interface HistoryNotes {
  /** Entries appended and trimmed away between two looks: never turned into events. */
  readonly trimmedUnseen: number;
  /** The history restarted (emptied: `revisionHistoryLimit` 0 or 1, or status lost by a replace). */
  readonly restarted: boolean;
}

export const historyEmissions = (
  facts: AppFacts,
  start: AppProgress,
  ctx: DetectorContext,
  observedAt: Date,
): { emissions: Emission[]; progress: AppProgress; notes: HistoryNotes } => {
  const history = [...(facts.app.status?.history ?? [])].sort((a, b) => a.id - b.id);
  const newest = history.at(-1);
  const firstVisible = history[0]?.id ?? 0;
  const quiet = { trimmedUnseen: 0, restarted: false };
  if (newest === undefined) return { emissions: [], progress: start, notes: quiet };
  const last = start.lastHistoryId;
  const atLast = last === null ? undefined : history.find((e) => e.id === last);
  const restarted =
    last !== null &&
    (newest.id < last ||
      (atLast !== undefined &&
        start.lastHistoryStartedAt !== null &&
        (atLast.deployStartedAt ?? '') !== start.lastHistoryStartedAt));
  const fresh = last === null;
  const limit = facts.app.spec?.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
  const lookback = lookbackSize(limit);
  const trimmedUnseen = !fresh && !restarted && firstVisible > last + 1 ? firstVisible - last - 1 : 0;

  let recent: readonly RememberedDeployment[] = restarted ? [] : start.recent;
  let progress = start;
  const emissions: Emission[] = [];
  const versions = new Map<number, string>();
  for (const entry of history) versions.set(entry.id, versionOf(fromHistory(entry, facts)));
  for (const entry of history) {
    if (!fresh && !restarted && entry.id <= (last ?? -1)) continue;
    const deployment = fromHistory(entry, facts);
    const version = versions.get(entry.id) ?? versionOf(deployment);
    const known = (id: number): string | undefined =>
      versions.get(id) ?? recent.find((r) => r.id === id)?.version;
    const earlier: string[] = [];
    const from = Math.max(0, entry.id - lookback + 1);
    for (let id = from; id < entry.id - 1; id++) {
      const v = known(id);
      if (v !== undefined) earlier.push(v);
    }
    const kind = classify(version, entry.id === 0, entry.id > 0 ? known(entry.id - 1) : undefined, earlier);
    recent = rememberDeployment(recent, { id: entry.id, version });
    progress = {
      ...progress,
      lastHistoryId: entry.id,
      lastHistoryStartedAt: entry.deployStartedAt ?? null,
      recent,
    };
    // An observer that never saw the app emits what it can classify as every other observer does:
    // the entries whose whole lookback Argo CD still shows, and always the newest (what runs now).
    const classifiable = !fresh || entry.id === newest.id || from >= firstVisible;
    const emitted = kind === 'resync' ? (ctx.emitResyncs ? 'service.deployed' : undefined) : kind;
    if (classifiable && emitted !== undefined) {
      emissions.push(deploymentEmission(emitted, deployment, facts, ctx, observedAt, progress));
    }
  }
  return { emissions, progress, notes: { trimmedUnseen, restarted } };
};

/**
 * A successful, complete, real sync of an app that keeps no history (`revisionHistoryLimit: 0`,
 * documented by Argo CD as a storage saving): the deployment the history would have recorded.
 */
export const operationDeployment = (
  facts: AppFacts,
  op: OperationState,
  start: AppProgress,
  ctx: DetectorContext,
  observedAt: Date,
): { emission: Emission | undefined; progress: AppProgress } => {
  const deployment = fromOperation(op, facts);
  const version = versionOf(deployment);
  const previous = start.recent.at(-1)?.version;
  const earlier = start.recent.slice(0, -1).map((r) => r.version);
  const kind = classify(version, start.recent.length === 0, previous, earlier);
  const progress: AppProgress = { ...start, recent: rememberDeployment(start.recent, { id: null, version }) };
  const emitted = kind === 'resync' ? (ctx.emitResyncs ? 'service.deployed' : undefined) : kind;
  return {
    emission:
      emitted === undefined
        ? undefined
        : deploymentEmission(emitted, deployment, facts, ctx, observedAt, progress),
    progress,
  };
};

/** The app keeps no history: its deployments are read from its operations. */
export const keepsNoHistory = (facts: AppFacts): boolean => facts.app.spec?.revisionHistoryLimit === 0;
