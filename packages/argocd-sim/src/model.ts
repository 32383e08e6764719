import { createHash } from 'node:crypto';
import { type Condition, setCondition } from './conditions.js';
import {
  type AppHealth,
  appHealth,
  defaultTree,
  inflateResourceHealth,
  type ResourceState,
  storedResources,
  worstHealth,
} from './health.js';
import { appendHistory, DEFAULT_REVISION_HISTORY_LIMIT } from './history.js';
import { type HydrationRequest, hydrated, hydrating } from './hydrator.js';
import {
  failedAttempt,
  MSG_RUNNING,
  MSG_SUCCEEDED,
  MSG_TERMINATED,
  MSG_TIMEOUT,
  type OperationContext,
  type OperationState,
  operationOf,
  syncResultOf,
  syncSourceOf,
} from './operation.js';
import { type ArgoCdVersion, profileFor, type VersionProfile } from './profiles.js';
import { AUTO_SYNC_RETRY, type RetryStrategy } from './retry.js';
import type {
  AppDefinition,
  Application,
  AttemptOutcome,
  ClusterSpec,
  HelmSource,
  ResourceRef,
  SourceSpec,
  SyncRequest,
  WatchEvent,
  WatchType,
} from './types.js';

export type {
  AppDefinition,
  Application,
  AttemptOutcome,
  ClusterSpec,
  HistoryEntry,
  ResourceRef,
  SourceSpec,
  SyncRequest,
  WatchEvent,
  WatchType,
} from './types.js';

/** The requested resourceVersion is older than the kept window: a watch must relist (410 Gone). */
export class ExpiredResourceVersionError extends Error {
  override name = 'ExpiredResourceVersionError';
  readonly requested: number;
  readonly oldest: number;
  constructor(requested: number, oldest: number) {
    super(`too old resource version: ${requested} (${oldest})`);
    this.requested = requested;
    this.oldest = oldest;
  }
}

export class UnknownAppError extends Error {
  override name = 'UnknownAppError';
  constructor(name: string) {
    super(`no application named ${JSON.stringify(name)}`);
  }
}

/** A step that the app's state or the version profile does not allow (e.g. a retry with no failed attempt). */
export class InvalidStepError extends Error {
  override name = 'InvalidStepError';
  readonly app: string;
  constructor(app: string, message: string) {
    super(`${app}: ${message}`);
    this.app = app;
  }
}

export interface SimulatedArgoCDOptions {
  /** The instance's name: seeds deterministic uids. */
  readonly name: string;
  /** Namespace of the control plane (`status.controllerNamespace`) and the default app namespace. @default 'argocd' */
  readonly namespace?: string;
  readonly clusters?: readonly ClusterSpec[];
  /** Current time of the simulation. @default the wall clock */
  readonly clock?: () => Date;
  /** Watch events kept for resuming watches. @default 1000 */
  readonly historyWindow?: number;
  /** The Argo CD release whose shapes are written (see `profiles.ts`). @default '3.1' */
  readonly version?: ArgoCdVersion;
}

/** Default length of the watch log, in events. */
export const DEFAULT_HISTORY_WINDOW_EVENTS = 1000;
const IN_CLUSTER: ClusterSpec = { name: 'in-cluster', server: 'https://kubernetes.default.svc' };
const SOURCE_UID = 'argocd.argoproj.io/source-uid';
const PRINCIPAL_UID = 'argocd.argoproj.io/principal-uid';
// controller/state.go `CompareAppState`: a manifest that does not render.
const MSG_COMPARISON_ERROR =
  'Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = Manifest generation error (cached): `helm template` failed';

const clone = <T>(value: T): T => structuredClone(value);

const uuidFrom = (seed: string): string => {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const seconds = (date: Date): string => `${date.toISOString().slice(0, 19)}Z`;

const isOci = (source: SourceSpec | undefined): boolean => source?.repoURL.startsWith('oci://') === true;

/**
 * A simulated Argo CD instance: Applications mutated the way Argo CD's controller mutates them, in the
 * shapes of one release (`version`), with a Kubernetes-style resourceVersion and a bounded log of watch events.
 */
export class SimulatedArgoCD {
  readonly name: string;
  readonly namespace: string;
  readonly profile: VersionProfile;
  readonly #clock: () => Date;
  readonly #historyWindow: number;
  #clusters: ClusterSpec[];
  /** Keyed by `<app namespace>/<name>`. */
  readonly #apps = new Map<string, Application>();
  /** The live resource tree (what Redis holds for the API server from 3.0 on). */
  readonly #trees = new Map<string, ResourceState[]>();
  readonly #operations = new Map<string, OperationContext>();
  readonly #log: WatchEvent[] = [];
  readonly #listeners = new Set<(event: WatchEvent) => void>();
  #resourceVersion = 1000;

  constructor(options: SimulatedArgoCDOptions) {
    this.name = options.name;
    this.namespace = options.namespace ?? 'argocd';
    this.#clusters = [...(options.clusters ?? [IN_CLUSTER])];
    this.#clock = options.clock ?? (() => new Date());
    this.#historyWindow = options.historyWindow ?? DEFAULT_HISTORY_WINDOW_EVENTS;
    this.profile = profileFor(options.version);
  }

  get version(): ArgoCdVersion {
    return this.profile.version;
  }

  get resourceVersion(): number {
    return this.#resourceVersion;
  }

  get clusters(): readonly ClusterSpec[] {
    return this.#clusters;
  }

  /** A cluster secret added at runtime. */
  addCluster(cluster: ClusterSpec): void {
    this.#clusters = [...this.#clusters.filter((c) => c.server !== cluster.server), { ...cluster }];
  }

  /** A cluster renamed at runtime (e.g. the in-cluster cluster given a name by a cluster secret). */
  renameCluster(server: string, name: string): void {
    this.#clusters = this.#clusters.map((c) => (c.server === server ? { ...c, name } : c));
  }

  /** How many apps there are (without copying them, as `list()` does). */
  get appCount(): number {
    return this.#apps.size;
  }

  /** A consistent list: every app and the resourceVersion it is valid at. */
  list(): { resourceVersion: string; items: Application[] } {
    return { resourceVersion: String(this.#resourceVersion), items: [...this.#apps.values()].map(clone) };
  }

  /** `name` is `<namespace>/<name>` or a bare name (the instance namespace first, else the only match). */
  get(name: string): Application | undefined {
    const key = this.#find(name);
    return key === undefined ? undefined : clone(this.#apps.get(key));
  }

  /**
   * The app as the API server's Watch sends it: from 3.0 (`resourceHealthSource: appTree`) resource health
   * is re-inflated from the live tree (`server/application/application.go` `inferResourcesStatusHealth`).
   * The List does not do this.
   */
  withTreeHealth(app: Application): Application {
    if (app.status.resourceHealthSource !== 'appTree' || !Array.isArray(app.status.resources)) return app;
    const tree = this.#trees.get(`${app.metadata.namespace}/${app.metadata.name}`) ?? [];
    const copy = clone(app);
    copy.status.resources = inflateResourceHealth(app.status.resources as Record<string, unknown>[], tree);
    return copy;
  }

  /** Events after `resourceVersion`, oldest first; throws when the window no longer reaches back that far. */
  eventsSince(resourceVersion: number): WatchEvent[] {
    const oldest = this.#log[0]?.resourceVersion ?? this.#resourceVersion + 1;
    if (resourceVersion < oldest - 1 && resourceVersion < this.#resourceVersion) {
      throw new ExpiredResourceVersionError(resourceVersion, oldest);
    }
    return this.#log.filter((e) => e.resourceVersion > resourceVersion);
  }

  subscribe(listener: (event: WatchEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(type: WatchType, app: Application, tombstone = false): void {
    this.#resourceVersion++;
    app.metadata.resourceVersion = String(this.#resourceVersion);
    const event: WatchEvent = {
      type,
      app: clone(app),
      resourceVersion: this.#resourceVersion,
      ...(tombstone ? { tombstone: true } : {}),
    };
    this.#log.push(event);
    if (this.#log.length > this.#historyWindow) this.#log.splice(0, this.#log.length - this.#historyWindow);
    for (const listener of this.#listeners) listener(event);
  }

  #find(name: string): string | undefined {
    if (name.includes('/')) return this.#apps.has(name) ? name : undefined;
    const own = `${this.namespace}/${name}`;
    if (this.#apps.has(own)) return own;
    const matches = [...this.#apps.keys()].filter((k) => k.endsWith(`/${name}`));
    return matches.length === 1 ? matches[0] : undefined;
  }

  #key(name: string): string {
    const key = this.#find(name);
    if (key === undefined) throw new UnknownAppError(name);
    return key;
  }

  #app(name: string): Application {
    const app = this.#apps.get(this.#key(name));
    if (app === undefined) throw new UnknownAppError(name);
    return app;
  }

  #now(): string {
    return seconds(this.#clock());
  }

  createApp(definition: AppDefinition): Application {
    const namespace = definition.namespace ?? this.namespace;
    const key = `${namespace}/${definition.name}`;
    const profile = this.profile;
    if (definition.sourceHydrator !== undefined && !profile.sourceHydrator) {
      throw new InvalidStepError(
        key,
        `spec.sourceHydrator needs Argo CD 2.14+, profile is ${profile.version}`,
      );
    }
    const sources = definition.sources ?? (definition.source === undefined ? [] : [definition.source]);
    if (sources.some(isOci) && !profile.ociSources) {
      throw new InvalidStepError(key, `oci:// sources need Argo CD 3.1+, profile is ${profile.version}`);
    }
    if (this.#apps.has(key)) throw new InvalidStepError(key, 'an application of that name already exists');
    const now = this.#now();
    const legacy = definition.upgradedFromLegacy === true;
    const app: Application = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {
        name: definition.name,
        namespace,
        uid: definition.uid ?? uuidFrom(`${this.name}/${namespace}/${definition.name}`),
        resourceVersion: '0',
        generation: 1,
        creationTimestamp: now,
        finalizers: ['resources-finalizer.argocd.argoproj.io'],
        annotations: {
          'argocd.argoproj.io/tracking-id': `${definition.name}:argoproj.io/Application:${namespace}/${definition.name}`,
          ...definition.annotations,
        },
      },
      spec: {
        project: definition.project ?? 'default',
        destination: { ...definition.destination },
        ...(definition.sourceHydrator !== undefined
          ? { sourceHydrator: clone(definition.sourceHydrator) }
          : definition.sources === undefined
            ? { source: clone(definition.source ?? { repoURL: '' }) }
            : { sources: definition.sources.map((s) => clone(s)) }),
        revisionHistoryLimit: definition.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT,
        syncPolicy: {
          automated: { prune: true, selfHeal: true },
          syncOptions: ['CreateNamespace=true'],
          ...(definition.retry === undefined ? {} : { retry: clone(definition.retry) }),
        },
      },
      status: {
        controllerNamespace: this.namespace,
        // A ≤2.13 controller wrote only the status; every fresh app starts Missing.
        health: legacy
          ? { status: 'Healthy' }
          : appHealth(profile.healthTransition, undefined, 'Missing', now),
        sync: {
          status: legacy ? 'Synced' : 'OutOfSync',
          comparedTo: { destination: { ...definition.destination } },
        },
        reconciledAt: now,
        sourceType:
          definition.sources === undefined && definition.source?.chart === undefined ? 'Directory' : 'Helm',
        summary: {},
        // As a ≤2.13 controller left it: resource health inline, no resourceHealthSource or sourceHydrator,
        // until a reconcile by this release rewrites them.
        resources: legacy
          ? storedResources(defaultTree(definition.name, definition.destination.namespace), true)
          : [],
        ...(legacy ? {} : this.#versionedStatus()),
      },
    };
    this.#trees.set(key, legacy ? defaultTree(definition.name, definition.destination.namespace) : []);
    this.#apps.set(key, app);
    this.#emit('ADDED', app);
    return clone(app);
  }

  /** Fields every status of the profile carries. */
  #versionedStatus(): Record<string, unknown> {
    return {
      // 3.0+: `--persist-resource-health=false` by default (controller/health.go).
      ...(this.profile.persistResourceHealth ? {} : { resourceHealthSource: 'appTree' }),
      // 2.14+: a non-pointer struct, serialised as {} when unused (types.go `SourceHydratorStatus`).
      ...(this.profile.sourceHydrator ? { sourceHydrator: {} } : {}),
    };
  }

  #tree(app: Application): ResourceState[] {
    return this.#trees.get(`${app.metadata.namespace}/${app.metadata.name}`) ?? [];
  }

  /** `status.resources` from the tree: with health up to 2.14, without it from 3.0. */
  #writeResources(app: Application): void {
    app.status.resources = storedResources(this.#tree(app), this.profile.persistResourceHealth);
  }

  /** One reconcile (`persistAppStatus`): resources, app health from the tree, `reconciledAt`. */
  #reconcile(app: Application): void {
    const now = this.#now();
    const previous = app.status.health as Partial<AppHealth> | undefined;
    app.status.health = appHealth(this.profile.healthTransition, previous, worstHealth(this.#tree(app)), now);
    this.#writeResources(app);
    if (!this.profile.persistResourceHealth) app.status.resourceHealthSource = 'appTree';
    if (this.profile.sourceHydrator && app.status.sourceHydrator === undefined)
      app.status.sourceHydrator = {};
    app.status.reconciledAt = now;
  }

  #setConditions(app: Application, type: string, message: string | undefined): void {
    const next = setCondition(
      (app.status.conditions as Condition[] | undefined) ?? [],
      type,
      message,
      this.#now(),
    );
    if (next.length === 0) delete app.status.conditions;
    else app.status.conditions = next;
  }

  #resolve(app: Application, revision: string): string {
    // 3.1+ util/oci/client.go `ResolveRevision`: a tag resolves to its manifest digest.
    if (isOci(app.spec.source) && !revision.startsWith('sha256:')) {
      return `sha256:${createHash('sha256').update(`${app.spec.source?.repoURL}:${revision}`).digest('hex')}`;
    }
    return revision;
  }

  /**
   * A sync operation (`controller/appcontroller.go` `processRequestedAppOperation`): Running, then one
   * attempt (see `finishSync`). A failure with a retry left stays Running (`retrySync` plays the next
   * attempt); without `automated` or `retry` the first failure is final, as a manual sync without retry.
   */
  sync(name: string, request: SyncRequest): Application {
    const key = this.#key(name);
    const app = this.#app(key);
    if (this.#inProgress(app)) throw new InvalidStepError(key, 'another operation is already running');
    const startedAt = this.#now();
    const multi = app.spec.sources !== undefined;
    const revisions = request.revisions ?? (request.revision === undefined ? undefined : [request.revision]);
    const revision = this.#resolve(app, revisions?.join(',') ?? '');
    const automated = request.automated === true;
    const initiatedBy = request.initiatedBy ?? { automated: true };
    const specRetry = (app.spec.syncPolicy as { retry?: RetryStrategy } | undefined)?.retry;
    // `autoSync`: `Retry: {Limit: 5}` unless `spec.syncPolicy.retry` is set.
    const retry = request.retry ?? (automated ? (specRetry ?? AUTO_SYNC_RETRY) : {});
    const context: OperationContext = {
      revision,
      revisions: revisions === undefined ? undefined : [...revisions],
      multi,
      dryRun: request.dryRun === true,
      resources: [...(request.resources ?? [])],
      automated,
      initiatedBy: automated ? { automated: true } : { ...initiatedBy },
      retry: clone(retry),
      startedAt,
    };
    this.#operations.set(key, context);
    // The request (API `Sync` or `autoSync`, util/argo/argo.go `SetAppOperation`, 2.8-3.x): `operation`
    // set and the previous `operationState` dropped, in one update before the controller starts it.
    app.operation = operationOf(context);
    delete app.status.operationState;
    this.#emit('MODIFIED', app);
    const state: OperationState = {
      operation: operationOf(context),
      phase: 'Running',
      message: MSG_RUNNING,
      startedAt,
    };
    app.status.operationState = state;
    app.status.sync = { ...(app.status.sync as object), status: 'OutOfSync' };
    this.#emit('MODIFIED', app);
    if (request.hold === true) return clone(app);
    return this.#attempt(key, request);
  }

  #inProgress(app: Application): boolean {
    const phase = (app.status.operationState as { phase?: string } | undefined)?.phase;
    return phase === 'Running' || phase === 'Terminating';
  }

  #state(app: Application): OperationState | undefined {
    return app.status.operationState as OperationState | undefined;
  }

  /** Ends a held operation's current attempt: success, or `fail`/`error` (with retries if left). */
  finishSync(name: string, outcome: AttemptOutcome = {}): Application {
    const key = this.#key(name);
    const state = this.#state(this.#app(key));
    if (state?.phase !== 'Running' || state.finishedAt !== undefined) {
      throw new InvalidStepError(key, 'no sync attempt is running');
    }
    return this.#attempt(key, outcome);
  }

  /**
   * The next attempt of a failed operation with a retry left: `finishedAt` and `syncResult` are removed
   * first ("retrying operation. remove previous failure time", `processRequestedAppOperation`), then the
   * attempt ends as `outcome` says.
   */
  retrySync(name: string, outcome: AttemptOutcome = {}): Application {
    const key = this.#key(name);
    const app = this.#app(key);
    const state = this.#state(app);
    if (state?.phase !== 'Running' || state.finishedAt === undefined) {
      throw new InvalidStepError(key, 'no failed attempt is waiting for a retry');
    }
    delete state.finishedAt;
    delete state.syncResult;
    this.#emit('MODIFIED', app);
    return this.#attempt(key, outcome);
  }

  #attempt(key: string, outcome: AttemptOutcome): Application {
    const app = this.#app(key);
    const context = this.#operations.get(key);
    const state = this.#state(app);
    if (state === undefined || context === undefined) throw new InvalidStepError(key, 'no operation');
    const message = outcome.error ?? outcome.fail;
    if (message !== undefined) {
      const now = this.#clock();
      const { state: next, final } = failedAttempt(
        { ...state, syncResult: syncResultOf(app, context) },
        { message, phase: outcome.error === undefined ? 'Failed' : 'Error', retryable: true },
        context.retry,
        now,
        seconds(now),
        this.profile,
      );
      app.status.operationState = next;
      // A completed operation's patch also clears `operation` (`setOperationState`).
      if (final) delete app.operation;
      this.#emit('MODIFIED', app);
      // No refresh is requested for a Running state: reconciledAt stays behind finishedAt.
      if (final) this.#afterCompletion(key, app, context, false);
      return clone(app);
    }
    const finishedAt = this.#now();
    if (!context.dryRun && context.resources.length === 0) {
      // controller/sync.go `SyncAppState` → state.go `persistRevisionHistory`: its own patch, phase still Running.
      app.status.history = appendHistory(
        app.status.history ?? [],
        {
          startedAt: context.startedAt,
          deployedAt: finishedAt,
          initiatedBy: context.initiatedBy,
          ...(context.multi
            ? { revisions: context.revisions ?? [], sources: app.spec.sources ?? [] }
            : { revision: context.revision, source: syncSourceOf(app) }),
        },
        app.spec.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT,
        this.profile,
      );
      this.#emit('MODIFIED', app);
    }
    app.status.operationState = {
      ...state,
      phase: 'Succeeded',
      message: MSG_SUCCEEDED,
      finishedAt,
      syncResult: syncResultOf(app, context),
    };
    delete app.operation;
    this.#emit('MODIFIED', app);
    this.#afterCompletion(key, app, context, true);
    return clone(app);
  }

  /** A completed, non-dry-run operation requests a refresh (`processRequestedAppOperation`). */
  #afterCompletion(key: string, app: Application, context: OperationContext, succeeded: boolean): void {
    this.#operations.delete(key);
    if (context.dryRun) return;
    const auto = (app.spec.syncPolicy as { automated?: unknown } | undefined)?.automated !== undefined;
    if (succeeded && context.resources.length === 0) {
      const multi = context.multi;
      app.status.sync = {
        status: 'Synced',
        ...(multi ? { revisions: context.revisions } : { revision: context.revision }),
        comparedTo: {
          destination: app.spec.destination,
          ...(multi ? { sources: app.spec.sources } : { source: syncSourceOf(app) }),
        },
      };
      app.status.summary = {
        images: [`ghcr.io/example/${app.metadata.name}:${context.revision.slice(0, 12)}`],
      };
      this.#trees.set(key, defaultTree(app.metadata.name, app.spec.destination.namespace));
      if (auto) this.#setConditions(app, 'SyncError', undefined);
    } else if (!succeeded && auto) {
      // `autoSync` refuses to retry a revision whose last attempt failed (same text 2.8-3.x).
      const message = (app.status.operationState as { message?: string }).message ?? '';
      this.#setConditions(app, 'SyncError', `Failed sync attempt to ${context.revision}: ${message}`);
    }
    this.#reconcile(app);
    this.#emit('MODIFIED', app);
  }

  /**
   * Terminate (API `TerminateOperation` sets Terminating; gitops-engine then ends it Failed
   * "Operation terminated", with "(retried N times)." when attempts were retried; no retry follows).
   */
  terminate(name: string): Application {
    const key = this.#key(name);
    const app = this.#app(key);
    const state = this.#state(app);
    const context = this.#operations.get(key);
    if (state?.phase !== 'Running' || context === undefined)
      throw new InvalidStepError(key, 'no operation is running');
    state.phase = 'Terminating';
    this.#emit('MODIFIED', app);
    const now = this.#clock();
    app.status.operationState = failedAttempt(
      state,
      { message: MSG_TERMINATED, phase: 'Failed', retryable: false },
      context.retry,
      now,
      seconds(now),
      this.profile,
    ).state;
    delete app.operation;
    this.#emit('MODIFIED', app);
    this.#afterCompletion(key, app, context, false);
    return clone(app);
  }

  /**
   * `--sync-timeout` reached (2.14+): Terminating "operation is terminating due to timeout", then the
   * attempt fails "Operation terminated" and, unlike a user's Terminate, is retried if a retry is left
   * (the `terminating` flag was read before the timeout set the phase).
   */
  timeOut(name: string): Application {
    const key = this.#key(name);
    const app = this.#app(key);
    const state = this.#state(app);
    if (!this.profile.syncTimeout) {
      throw new InvalidStepError(key, `sync timeouts need Argo CD 2.14+, profile is ${this.profile.version}`);
    }
    if (state?.phase !== 'Running' || state.finishedAt !== undefined) {
      throw new InvalidStepError(key, 'no sync attempt is running');
    }
    state.phase = 'Terminating';
    state.message = MSG_TIMEOUT;
    this.#emit('MODIFIED', app);
    return this.#attempt(key, { fail: MSG_TERMINATED });
  }

  /** A self-heal: auto-sync of the same revision (a new history entry with an unchanged revision). */
  selfHeal(name: string): Application {
    const last = this.#app(name).status.history?.at(-1);
    if (last === undefined) throw new Error(`${name} has never been synced`);
    return this.sync(name, {
      ...(last.revisions === undefined ? { revision: last.revision ?? '' } : { revisions: last.revisions }),
      automated: true,
    });
  }

  /** A rollback: a sync to the revision of an older history entry. */
  rollback(name: string, historyId: number, username = 'admin'): Application {
    const entry = this.#app(name).status.history?.find((h) => h.id === historyId);
    if (entry === undefined) throw new Error(`${name} has no history entry ${historyId}`);
    return this.sync(name, {
      ...(entry.revisions === undefined
        ? { revision: entry.revision ?? '' }
        : { revisions: entry.revisions }),
      initiatedBy: { username },
    });
  }

  /**
   * Parameters or values changed in the spec with no new commit (Argo CD Image Updater's default
   * `argocd` write-back, or an edit): one spec update; the next sync of the same revision records a new
   * history entry with the changed `source` (controller/sync.go → `persistRevisionHistory`).
   */
  updateSource(
    name: string,
    change: { readonly helm?: HelmSource; readonly kustomize?: { images?: string[] } },
    sourceIndex = 0,
  ): Application {
    const app = this.#app(name);
    const target = app.spec.sources?.[sourceIndex] ?? app.spec.source;
    if (target === undefined) throw new InvalidStepError(name, `no source ${sourceIndex}`);
    if (change.helm !== undefined) target.helm = { ...target.helm, ...clone(change.helm) };
    if (change.kustomize !== undefined)
      target.kustomize = { ...target.kustomize, ...clone(change.kustomize) };
    app.metadata.generation++;
    app.status.sync = { ...(app.status.sync as object), status: 'OutOfSync' };
    this.#emit('MODIFIED', app);
    return clone(app);
  }

  /**
   * Degradation of named resources (default: the app's Deployment). The message goes to resource
   * health, never to `health.message` at app level (no release up to 3.5 writes it); 3.0+ keeps resource
   * health out of the stored object (the API stream shows it).
   */
  degrade(name: string, message?: string, resources?: readonly ResourceRef[]): Application {
    const key = this.#key(name);
    const app = this.#app(key);
    // gitops-engine pkg/health/health_deployment.go, for the app's own Deployment.
    const text = message ?? `Deployment ${JSON.stringify(app.metadata.name)} exceeded its progress deadline`;
    const tree = this.#trees.get(key) ?? [];
    if (tree.length === 0) tree.push(...defaultTree(app.metadata.name, app.spec.destination.namespace));
    const targets = resources ?? [
      { group: 'apps', kind: 'Deployment', name: app.metadata.name, message: text },
    ];
    for (const target of targets) {
      let live = tree.find((r) => r.kind === target.kind && r.name === target.name);
      if (live === undefined) {
        live = {
          ...(target.group === undefined ? {} : { group: target.group }),
          version: 'v1',
          kind: target.kind,
          namespace: target.namespace ?? app.spec.destination.namespace,
          name: target.name,
          status: 'Synced',
          health: { status: 'Healthy' },
        };
        tree.push(live);
      }
      live.health = { status: 'Degraded', message: target.message ?? text };
    }
    this.#trees.set(key, tree);
    this.#reconcile(app);
    this.#emit('MODIFIED', app);
    return clone(app);
  }

  recover(name: string): Application {
    const key = this.#key(name);
    const app = this.#app(key);
    const tree = this.#trees.get(key) ?? [];
    this.#trees.set(
      key,
      tree.length === 0
        ? defaultTree(app.metadata.name, app.spec.destination.namespace)
        : tree.map((r) => ({ ...r, health: { status: 'Healthy' } })),
    );
    this.#reconcile(app);
    this.#emit('MODIFIED', app);
    return clone(app);
  }

  /** A refresh: the controller reconciled the app (`reconciledAt`, and health as the profile writes it). */
  refresh(name: string): Application {
    const app = this.#app(name);
    this.#reconcile(app);
    this.#emit('MODIFIED', app);
    return clone(app);
  }

  /**
   * A commit that breaks rendering (Helm/Kustomize): a ComparisonError condition, sync status Unknown,
   * no operation (controller/state.go `CompareAppState`). `clearConditions` ends it.
   */
  comparisonError(name: string, message = MSG_COMPARISON_ERROR): Application {
    const app = this.#app(name);
    this.#setConditions(app, 'ComparisonError', message);
    app.status.sync = { ...(app.status.sync as object), status: 'Unknown' };
    this.#reconcile(app);
    this.#emit('MODIFIED', app);
    return clone(app);
  }

  /** A SyncError condition (auto-sync refusing to run, e.g. "auto-sync will wipe out all resources"). */
  syncError(name: string, message: string): Application {
    const app = this.#app(name);
    this.#setConditions(app, 'SyncError', message);
    this.#reconcile(app);
    this.#emit('MODIFIED', app);
    return clone(app);
  }

  /** The next reconcile after a fix: the condition(s) removed; an Unknown sync status becomes OutOfSync. */
  clearConditions(name: string, type?: string): Application {
    const app = this.#app(name);
    const types = type === undefined ? ['ComparisonError', 'SyncError'] : [type];
    for (const t of types) this.#setConditions(app, t, undefined);
    if ((app.status.sync as { status?: string }).status === 'Unknown') {
      app.status.sync = { ...(app.status.sync as object), status: 'OutOfSync' };
    }
    this.#reconcile(app);
    this.#emit('MODIFIED', app);
    return clone(app);
  }

  /**
   * The source hydrator (2.14+) renders a dry commit: Hydrating, then Hydrated; the dry SHA is kept only
   * here, in `status.sourceHydrator` (types.go `SourceHydratorStatus`). A sync to `hydratedSha` follows
   * unless `fail` is given (phase Failed, no operation).
   */
  hydrate(name: string, request: HydrationRequest): Application {
    const key = this.#key(name);
    const app = this.#app(key);
    const spec = app.spec.sourceHydrator;
    if (spec === undefined) throw new InvalidStepError(key, 'the app has no spec.sourceHydrator');
    const previous = (app.status.sourceHydrator ?? {}) as Record<string, unknown>;
    const startedAt = this.#now();
    app.status.sourceHydrator = { ...previous, currentOperation: hydrating(spec, startedAt) };
    this.#emit('MODIFIED', app);
    app.status.sourceHydrator = hydrated(previous, spec, request, startedAt, this.#now());
    this.#emit('MODIFIED', app);
    if (request.fail !== undefined) return clone(app);
    // The hydrator requests a refresh; auto-sync then deploys the hydrated commit.
    return this.sync(key, { revision: request.hydratedSha, automated: true });
  }

  /**
   * argocd-agent v0.8+ principal failover: the spoke copy's `source-uid` is rewritten in place to the
   * new principal's uid and `principal-uid` is added (agent/inbound.go `updateManagedApplicationIdentity`).
   */
  failover(name: string, sourceUid: string, principalUid: string): Application {
    const app = this.#app(name);
    app.metadata.annotations = {
      ...app.metadata.annotations,
      [SOURCE_UID]: sourceUid,
      [PRINCIPAL_UID]: principalUid,
    };
    this.#emit('MODIFIED', app);
    return clone(app);
  }

  /**
   * argocd-agent v0.5+: a spoke copy deleted by hand is re-created from the principal with the same
   * `source-uid` (agent/outbound.go `addAppDeletionToQueue` → `RevertUserInitiatedDeletion`): a new
   * object uid and a fresh status.
   */
  recreateCopy(name: string): Application {
    const key = this.#key(name);
    const old = this.#app(key);
    const sourceUid = old.metadata.annotations?.[SOURCE_UID];
    if (sourceUid === undefined)
      throw new InvalidStepError(key, `not an argocd-agent copy (no ${SOURCE_UID})`);
    this.delete(key);
    const definition: AppDefinition = {
      name: old.metadata.name,
      namespace: old.metadata.namespace,
      project: old.spec.project,
      destination: old.spec.destination,
      ...(old.spec.source === undefined ? {} : { source: old.spec.source }),
      ...(old.spec.sources === undefined ? {} : { sources: old.spec.sources }),
      ...(old.spec.revisionHistoryLimit === undefined
        ? {}
        : { revisionHistoryLimit: old.spec.revisionHistoryLimit }),
      annotations: old.metadata.annotations ?? {},
      uid: uuidFrom(`${old.metadata.uid}/recreated/${this.#resourceVersion}`),
    };
    return this.createApp(definition);
  }

  /**
   * `kubectl replace` (or a `Replace=true` parent sync): the CRD has no status subresource, so the
   * status is lost; the next reconcile writes a fresh one with an empty history (ids restart at 0).
   */
  replaceWithoutStatus(name: string): Application {
    const key = this.#key(name);
    const app = this.#app(key);
    app.status = {};
    delete app.operation;
    app.metadata.generation++;
    this.#operations.delete(key);
    this.#emit('MODIFIED', app);
    app.status = {
      controllerNamespace: this.namespace,
      sync: { status: 'OutOfSync', comparedTo: { destination: { ...app.spec.destination } } },
      summary: {},
      resources: [],
    };
    this.#reconcile(app);
    this.#emit('MODIFIED', app);
    return clone(app);
  }

  /** Deletion: first the deletionTimestamp (finalizers running), then the object is gone. */
  delete(name: string): void {
    this.startDelete(name);
    this.finishDelete(name);
  }

  /**
   * The finalizer phase of a deletion: `deletionTimestamp` set; it can last minutes, with more updates
   * (`refresh`) before `finishDelete`.
   */
  startDelete(name: string): Application {
    const app = this.#app(name);
    app.metadata.deletionTimestamp = this.#now();
    app.metadata.finalizers = ['resources-finalizer.argocd.argoproj.io'];
    this.#emit('MODIFIED', app);
    return clone(app);
  }

  /**
   * The finalizers are done: the object is gone (DELETED). With `tombstone`, the API server's informer
   * saw the deletion only as a `DeletedFinalStateUnknown` (a missed watch event), which its broadcaster
   * ignores (`server/application/broadcaster.go` `OnDelete` takes only `*Application`): the API stream
   * sends nothing, the Kubernetes watch still sends DELETED.
   */
  finishDelete(name: string, options: { readonly tombstone?: boolean } = {}): void {
    const key = this.#key(name);
    const app = this.#app(key);
    if (app.metadata.deletionTimestamp === undefined) throw new InvalidStepError(key, 'startDelete first');
    this.#apps.delete(key);
    this.#trees.delete(key);
    this.#operations.delete(key);
    this.#emit('DELETED', app, options.tombstone === true);
  }
}
