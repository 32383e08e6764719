import type { Application } from '../argocd/types.js';
import type { DetectorContext } from './context.js';
import { factsOf } from './identity.js';

/**
 * Deployments remembered per app, newest last: enough to classify a deployment against the ones
 * before it (`deployments.ts` LOOKBACK) when Argo CD's history no longer shows them.
 */
export const MAX_REMEMBERED_DEPLOYMENTS = 10;

/** A deployment the agent handled: its history id (none for one taken from an operation) and version. */
export interface RememberedDeployment {
  readonly id: number | null;
  /** The revision(s), and a digest of the rendering parameters when there are any (`deployments.ts` versionOf). */
  readonly version: string;
}

export interface OpenIncident {
  readonly id: string;
  /** When it began: the operation's `startedAt`, the health's or the condition's transition time. */
  readonly since: string;
}

/**
 * What the agent has already emitted for one app. Persisted (NATS KV) after every publish, so a
 * restarted agent, on this machine or another, continues exactly where the last one stopped.
 */
export interface AppProgress {
  readonly v: 2;
  /** The app's logical uid: the key of its progress. */
  readonly uid: string;
  /** `context.source` of the app when last seen: a new uid at the same address is the same app. */
  readonly address: string;
  readonly name: string;
  readonly cluster: string;
  readonly namespace: string;
  /** Highest `status.history[].id` handled (turned into an event or deliberately skipped). */
  readonly lastHistoryId: number | null;
  /** `deployStartedAt` of that entry: a history that restarted at 0 reuses ids, never start times. */
  readonly lastHistoryStartedAt: string | null;
  /** Oldest first, at most MAX_REMEMBERED_DEPLOYMENTS. */
  readonly recent: readonly RememberedDeployment[];
  /** The last finished operation evaluated (`operations.ts` operationKey). */
  readonly lastOperation: string | null;
  readonly syncIncident: OpenIncident | null;
  readonly healthIncident: OpenIncident | null;
  /**
   * When this agent first saw the app Degraded, for an Argo CD that stamps no
   * `health.lastTransitionTime` (before 2.14, and 2.14.12+/3.0.3+/3.1+ until the health next changes).
   * Kept in progress so a restart neither restarts nor repeats the debounce.
   */
  readonly degradedSince: string | null;
  readonly conditionIncident: OpenIncident | null;
  /** When this agent first saw an error condition that carried no transition time. */
  readonly conditionSince: string | null;
  /**
   * Argo CD said the app is gone (or, on the Kubernetes source, a complete list no longer has it).
   * Not final: an app that shows up again is followed again.
   */
  readonly removed: boolean;
}

/** Progress as agents before this one wrote it (`v: 1`). */
interface ProgressV1 {
  readonly v: 1;
  readonly uid: string;
  readonly name: string;
  readonly cluster: string;
  readonly namespace: string;
  readonly lastHistoryId: number | null;
  readonly lastRevision: string | null;
  readonly revisions: readonly string[];
  readonly lastOperation: string | null;
  readonly syncIncident: { readonly id: string; readonly startedAt: string } | null;
  readonly healthIncident: { readonly id: string; readonly since: string } | null;
  readonly removed: boolean;
}

export const initialProgress = (app: Application, ctx: DetectorContext): AppProgress => {
  const facts = factsOf(app, ctx);
  return {
    v: 2,
    uid: facts.uid,
    address: facts.source,
    name: app.metadata.name,
    cluster: facts.cluster,
    namespace: facts.namespace,
    lastHistoryId: null,
    lastHistoryStartedAt: null,
    recent: [],
    lastOperation: null,
    syncIncident: null,
    healthIncident: null,
    degradedSince: null,
    conditionIncident: null,
    conditionSince: null,
    removed: false,
  };
};

/**
 * Progress read back from KV or the spool, whichever agent version wrote it; undefined for what is
 * not progress. A v1 record keeps its place in the history and its open incidents; its remembered
 * revisions become versions without ids (they still tell a rollback).
 */
export const readProgress = (value: unknown): AppProgress | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as { v?: unknown };
  if (record.v === 2) return value as AppProgress;
  if (record.v !== 1) return undefined;
  const old = value as ProgressV1;
  return {
    v: 2,
    uid: old.uid,
    address: '',
    name: old.name,
    cluster: old.cluster,
    namespace: old.namespace,
    lastHistoryId: old.lastHistoryId,
    lastHistoryStartedAt: null,
    recent: old.revisions.slice(-MAX_REMEMBERED_DEPLOYMENTS).map((version) => ({ id: null, version })),
    lastOperation: old.lastOperation,
    syncIncident:
      old.syncIncident === null ? null : { id: old.syncIncident.id, since: old.syncIncident.startedAt },
    healthIncident: old.healthIncident,
    degradedSince: null,
    conditionIncident: null,
    conditionSince: null,
    removed: old.removed,
  };
};

export const rememberDeployment = (
  recent: readonly RememberedDeployment[],
  deployment: RememberedDeployment,
): RememberedDeployment[] => [...recent, deployment].slice(-MAX_REMEMBERED_DEPLOYMENTS);
