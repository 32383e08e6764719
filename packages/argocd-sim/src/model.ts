import { createHash } from 'node:crypto';

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
    revisionHistoryLimit?: number;
    syncPolicy?: Record<string, unknown>;
  };
  status: Record<string, unknown> & {
    history?: HistoryEntry[];
  };
};

export interface SourceSpec {
  repoURL: string;
  path?: string;
  chart?: string;
  targetRevision?: string;
}

export interface HistoryEntry {
  id: number;
  revision?: string;
  revisions?: string[];
  deployStartedAt: string;
  deployedAt: string;
  initiatedBy: { automated?: boolean; username?: string };
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
}

export interface AppDefinition {
  readonly name: string;
  readonly project?: string;
  readonly destination: { readonly server?: string; readonly name?: string; readonly namespace: string };
  readonly source?: SourceSpec;
  readonly sources?: readonly SourceSpec[];
  readonly revisionHistoryLimit?: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly uid?: string;
}

export interface SyncRequest {
  /** Single-source revision (commit SHA or chart version). */
  readonly revision?: string;
  /** Multi-source revisions, one per source. */
  readonly revisions?: readonly string[];
  /** Fail the operation with this message: no history entry is recorded. */
  readonly fail?: string;
  readonly initiatedBy?: { readonly automated?: boolean; readonly username?: string };
}

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

export interface SimulatedArgoCDOptions {
  /** The instance's name: seeds deterministic uids. */
  readonly name: string;
  /** Namespace the Application objects live in. @default 'argocd' */
  readonly namespace?: string;
  readonly clusters?: readonly ClusterSpec[];
  /** Current time of the simulation. @default the wall clock */
  readonly clock?: () => Date;
  /** Watch events kept for resuming watches. @default 1000 */
  readonly historyWindow?: number;
}

const IN_CLUSTER: ClusterSpec = { name: 'in-cluster', server: 'https://kubernetes.default.svc' };

const clone = <T>(value: T): T => structuredClone(value);

const uuidFrom = (seed: string): string => {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const seconds = (date: Date): string => `${date.toISOString().slice(0, 19)}Z`;

/**
 * A simulated Argo CD instance: Applications mutated the way Argo CD's controller mutates them, with
 * a Kubernetes-style resourceVersion and a bounded log of watch events.
 */
export class SimulatedArgoCD {
  readonly name: string;
  readonly namespace: string;
  readonly clusters: readonly ClusterSpec[];
  readonly #clock: () => Date;
  readonly #historyWindow: number;
  readonly #apps = new Map<string, Application>();
  readonly #log: WatchEvent[] = [];
  readonly #listeners = new Set<(event: WatchEvent) => void>();
  #resourceVersion = 1000;

  constructor(options: SimulatedArgoCDOptions) {
    this.name = options.name;
    this.namespace = options.namespace ?? 'argocd';
    this.clusters = options.clusters ?? [IN_CLUSTER];
    this.#clock = options.clock ?? (() => new Date());
    this.#historyWindow = options.historyWindow ?? 1000;
  }

  get resourceVersion(): number {
    return this.#resourceVersion;
  }

  /** A consistent list: every app and the resourceVersion it is valid at. */
  list(): { resourceVersion: string; items: Application[] } {
    return { resourceVersion: String(this.#resourceVersion), items: [...this.#apps.values()].map(clone) };
  }

  get(name: string): Application | undefined {
    const app = this.#apps.get(name);
    return app === undefined ? undefined : clone(app);
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

  #emit(type: WatchType, app: Application): void {
    this.#resourceVersion++;
    app.metadata.resourceVersion = String(this.#resourceVersion);
    const event: WatchEvent = { type, app: clone(app), resourceVersion: this.#resourceVersion };
    this.#log.push(event);
    if (this.#log.length > this.#historyWindow) this.#log.splice(0, this.#log.length - this.#historyWindow);
    for (const listener of this.#listeners) listener(event);
  }

  #app(name: string): Application {
    const app = this.#apps.get(name);
    if (app === undefined) throw new UnknownAppError(name);
    return app;
  }

  createApp(definition: AppDefinition): Application {
    const now = this.#clock();
    const app: Application = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {
        name: definition.name,
        namespace: this.namespace,
        uid: definition.uid ?? uuidFrom(`${this.name}/${this.namespace}/${definition.name}`),
        resourceVersion: '0',
        generation: 1,
        creationTimestamp: seconds(now),
        finalizers: ['resources-finalizer.argocd.argoproj.io'],
        annotations: {
          'argocd.argoproj.io/tracking-id': `${definition.name}:argoproj.io/Application:${this.namespace}/${definition.name}`,
          ...definition.annotations,
        },
      },
      spec: {
        project: definition.project ?? 'default',
        destination: { ...definition.destination },
        ...(definition.sources === undefined
          ? { source: { ...(definition.source ?? { repoURL: '' }) } }
          : { sources: definition.sources.map((s) => ({ ...s })) }),
        revisionHistoryLimit: definition.revisionHistoryLimit ?? 10,
        syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true'] },
      },
      status: {
        controllerNamespace: this.namespace,
        health: { status: 'Missing', lastTransitionTime: seconds(now) },
        sync: { status: 'OutOfSync', comparedTo: { destination: { ...definition.destination } } },
        reconciledAt: seconds(now),
        sourceType:
          definition.sources === undefined && definition.source?.chart === undefined ? 'Directory' : 'Helm',
        summary: {},
        resources: [],
      },
    };
    this.#apps.set(definition.name, app);
    this.#emit('ADDED', app);
    return clone(app);
  }

  #setHealth(app: Application, status: string, message?: string): void {
    const current = app.status.health as { status?: string } | undefined;
    if (current?.status === status) return;
    app.status.health = {
      status,
      lastTransitionTime: seconds(this.#clock()),
      ...(message === undefined ? {} : { message }),
    };
  }

  /**
   * A sync operation: Running first, then Succeeded (a history entry, Synced, Healthy) or, with
   * `fail`, Failed without a history entry. Each step is its own watch event.
   */
  sync(name: string, request: SyncRequest): Application {
    const app = this.#app(name);
    const startedAt = seconds(this.#clock());
    const multi = app.spec.sources !== undefined;
    const revisions = request.revisions ?? (request.revision === undefined ? undefined : [request.revision]);
    const revision = revisions?.join(',') ?? '';
    const initiatedBy = request.initiatedBy ?? { automated: true };
    const operation = {
      initiatedBy,
      retry: { limit: 5 },
      sync: multi
        ? { revisions, syncOptions: ['CreateNamespace=true'] }
        : { revision, syncOptions: ['CreateNamespace=true'] },
    };
    app.status.operationState = {
      operation,
      phase: 'Running',
      message: 'one or more tasks are running',
      startedAt,
    };
    app.status.sync = { ...(app.status.sync as object), status: 'OutOfSync' };
    this.#emit('MODIFIED', app);

    const finishedAt = seconds(this.#clock());
    const syncResult = multi
      ? { revision: '', revisions, source: { repoURL: '' }, sources: app.spec.sources, resources: [] }
      : { revision, source: app.spec.source, resources: [] };
    if (request.fail !== undefined) {
      app.status.operationState = {
        operation,
        phase: 'Failed',
        message: request.fail,
        startedAt,
        finishedAt,
        syncResult,
      };
      app.status.reconciledAt = finishedAt;
      this.#emit('MODIFIED', app);
      return clone(app);
    }
    const history = app.status.history ?? [];
    const entry: HistoryEntry = multi
      ? {
          id: (history.at(-1)?.id ?? -1) + 1,
          revisions: [...(revisions ?? [])],
          deployStartedAt: startedAt,
          deployedAt: finishedAt,
          initiatedBy,
          source: { repoURL: '' },
          sources: (app.spec.sources ?? []).map((s, i) => ({
            ...s,
            targetRevision: revisions?.[i] ?? s.targetRevision ?? '',
          })),
        }
      : {
          id: (history.at(-1)?.id ?? -1) + 1,
          revision,
          deployStartedAt: startedAt,
          deployedAt: finishedAt,
          initiatedBy,
          source: { ...(app.spec.source ?? { repoURL: '' }) },
        };
    history.push(entry);
    const limit = app.spec.revisionHistoryLimit ?? 10;
    app.status.history = history.slice(-limit);
    app.status.operationState = {
      operation,
      phase: 'Succeeded',
      message: 'successfully synced (all tasks run)',
      startedAt,
      finishedAt,
      syncResult,
    };
    app.status.sync = {
      status: 'Synced',
      ...(multi ? { revisions } : { revision }),
      comparedTo: {
        destination: app.spec.destination,
        ...(multi ? { sources: app.spec.sources } : { source: app.spec.source }),
      },
    };
    app.status.reconciledAt = finishedAt;
    app.status.summary = { images: [`ghcr.io/example/${name}:${revision.slice(0, 12)}`] };
    app.status.resources = [
      {
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        namespace: app.spec.destination.namespace,
        name,
        status: 'Synced',
        health: { status: 'Healthy' },
      },
      {
        version: 'v1',
        kind: 'Service',
        namespace: app.spec.destination.namespace,
        name,
        status: 'Synced',
        health: { status: 'Healthy' },
      },
    ];
    this.#setHealth(app, 'Healthy');
    this.#emit('MODIFIED', app);
    return clone(app);
  }

  /** A self-heal: the same revision synced again (a new history entry with an unchanged revision). */
  selfHeal(name: string): Application {
    const last = this.#app(name).status.history?.at(-1);
    if (last === undefined) throw new Error(`${name} has never been synced`);
    return this.sync(name, {
      ...(last.revisions === undefined ? { revision: last.revision ?? '' } : { revisions: last.revisions }),
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

  degrade(name: string, message = 'Deployment "app" exceeded its progress deadline'): Application {
    const app = this.#app(name);
    this.#setHealth(app, 'Degraded', message);
    app.status.reconciledAt = seconds(this.#clock());
    this.#emit('MODIFIED', app);
    return clone(app);
  }

  recover(name: string): Application {
    const app = this.#app(name);
    this.#setHealth(app, 'Healthy');
    app.status.reconciledAt = seconds(this.#clock());
    this.#emit('MODIFIED', app);
    return clone(app);
  }

  /** A refresh: the controller reconciled the app; only `reconciledAt` changes. */
  refresh(name: string): Application {
    const app = this.#app(name);
    app.status.reconciledAt = seconds(this.#clock());
    this.#emit('MODIFIED', app);
    return clone(app);
  }

  /** Deletion: first the deletionTimestamp (finalizers running), then the object is gone. */
  delete(name: string): void {
    const app = this.#app(name);
    app.metadata.deletionTimestamp = seconds(this.#clock());
    app.metadata.finalizers = ['resources-finalizer.argocd.argoproj.io'];
    this.#emit('MODIFIED', app);
    this.#apps.delete(name);
    this.#emit('DELETED', app);
  }
}
