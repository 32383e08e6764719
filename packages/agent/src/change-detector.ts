import { type Logger, type LongRunning, type Readiness, statusOf } from '@argus/runtime';
import { isOlderResourceVersion } from './argocd/resource-version.js';
import type { Application } from './argocd/types.js';
import { logicalUid } from './argocd/types.js';
import type { AgentMetrics } from './metrics.js';
import { DEFAULT_ABSENT_REMOVAL_MS } from './options.js';
import type { AppSource, SourceEvent } from './sources/source.js';
import type { Spool } from './spool.js';
import type { OutboxEntry } from './state/outbox.js';
import type { DetectorContext } from './transitions/context.js';
import { DEFAULT_REVISION_HISTORY_LIMIT } from './transitions/deployments.js';
import { detectTransitions, rememberedApp, removalEmission } from './transitions/detect.js';
import type { Detection, Emission } from './transitions/emission.js';
import { appEntered, appLeft, type EnvironmentsState, renameApp } from './transitions/environments.js';
import { factsOf } from './transitions/identity.js';
import { type AppProgress, readProgress } from './transitions/progress.js';

export interface ChangeDetectorConfig {
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly source: AppSource;
  readonly detector: Omit<DetectorContext, 'clusterNames' | 'argocdAgent'>;
  /** The agent watches an Argo CD Agent principal (`--architecture argocd-agent`). */
  readonly argocdAgent: boolean;
  /** How long an app may be missing from the API source's lists before it counts as removed. @default DEFAULT_ABSENT_REMOVAL_MS */
  readonly absentRemovalMs?: number | undefined;
  /** Where detected events and checkpoints go, in order (`Publisher.spool`). */
  readonly spool: Spool;
  /** A complete list was handled (or the source said it is ready): what the agent reports has changed. */
  readonly onListed: () => void;
}

/** Why the agent is not ready while its source has not delivered a full list yet. */
export const sourceNotListedReason = (source: AppSource): string =>
  `source: ${source.lastError ?? 'not listed yet'}`;

/** What the agent follows now, for its heartbeat. */
export interface FollowedApps {
  readonly clusters: readonly string[];
  readonly apps: number;
}

/**
 * Turns what a source reports into CDEvents: keeps each app's progress (what was emitted already),
 * runs the detector on every change, tracks environments, apps that moved to a new uid, apps missing
 * from a list and time-based rechecks, and hands every event to the spool in order.
 */
export class ChangeDetector implements LongRunning {
  readonly #config: ChangeDetectorConfig;
  readonly #logger: Logger;
  #ctx: DetectorContext | undefined;
  readonly #progress = new Map<string, AppProgress>();
  /** The last state of each app, trimmed to what a recheck or a removal needs (`rememberedApp`). */
  readonly #lastSeen = new Map<string, Application>();
  #environments: EnvironmentsState = { v: 1, environments: {} };
  readonly #rechecks = new Map<string, NodeJS.Timeout>();
  /** The logical uid of each Application object seen (its own metadata.uid): a rewritten source-uid is the same app. */
  readonly #logicalByObject = new Map<string, string>();
  /** Address -> logical uid of apps that are gone: an app seen again there under a new uid is the same app. */
  readonly #removedByAddress = new Map<string, string>();
  /** Apps missing from the API source's lists, and since when (ms): removed once the grace has passed. */
  readonly #absentSince = new Map<string, number>();
  #stopping = false;
  #queue: Promise<void> = Promise.resolve();
  #synced = false;
  #following: Promise<void> | undefined;
  readonly #ended: Promise<void>;
  #end: () => void = () => undefined;

  constructor(config: ChangeDetectorConfig) {
    this.#config = config;
    this.#logger = config.logger.child({ component: 'agent' });
    this.#ended = new Promise((resolve) => {
      this.#end = resolve;
    });
  }

  /**
   * The progress saved in KV, then what the spool holds on top of it (oldest first; it is ahead of KV:
   * detected but not yet acknowledged), and the source's cluster names.
   */
  async load(
    saved: { apps: ReadonlyMap<string, AppProgress>; environments: EnvironmentsState },
    spooled: AsyncIterable<OutboxEntry>,
  ): Promise<void> {
    for (const [uid, progress] of saved.apps) this.#setProgress(uid, progress);
    this.#environments = saved.environments;
    // Keep the newest progress per app.
    for await (const entry of spooled) {
      const progress = readProgress(entry.progress);
      if (progress !== undefined) this.#setProgress(progress.uid, progress);
      if (entry.environments !== undefined) this.#environments = entry.environments as EnvironmentsState;
    }
    this.#ctx = {
      ...this.#config.detector,
      argocdAgent: this.#config.argocdAgent,
      clusterNames: await this.#config.source.clusterNames(),
    };
  }

  /** Apps with progress (removed ones included). */
  get known(): number {
    return this.#progress.size;
  }

  /** The source delivered a full list (or said it is ready). */
  get synced(): boolean {
    return this.#synced;
  }

  /** The clusters and apps followed now (removed apps left out). */
  followed(): FollowedApps {
    const clusters = new Set<string>();
    let apps = 0;
    for (const p of this.#progress.values()) {
      if (p.removed) continue;
      clusters.add(p.cluster);
      apps++;
    }
    return { clusters: [...clusters].sort(), apps };
  }

  /** Ready once the source delivered a full list (or said it is ready); until then, why not. */
  status(): Readiness {
    return statusOf(this.#synced ? [] : [sourceNotListedReason(this.#config.source)]);
  }

  /** Follows the source in the background (after `load`). */
  start(): void {
    if (this.#stopping) return;
    this.#following ??= this.#follow();
  }

  /**
   * Stops following: the source, the rechecks; resolves once the change being handled is done and
   * the source's stream has ended.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#rechecks.values()) clearTimeout(timer);
    this.#config.source.stop();
    await this.#queue.catch(() => undefined);
    await this.#following?.catch(() => undefined);
    this.#end();
  }

  /** Resolves once stopped. */
  closed(): Promise<void> {
    return this.#ended;
  }

  /** Follows the source until it ends or `stop()`: every change handled in arrival order. */
  async #follow(): Promise<void> {
    const { source, metrics } = this.#config;
    let reconnects = source.reconnects;
    for await (const event of source.events()) {
      if (this.#stopping) break;
      if (source.reconnects !== reconnects) {
        metrics.reconnects.inc(source.reconnects - reconnects);
        reconnects = source.reconnects;
      }
      await this.#enqueue(() => this.#handle(event));
    }
  }

  /** Source events and rechecks are handled one at a time, in arrival order. */
  #enqueue(work: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(work).catch((err: unknown) => {
      this.#logger.error({ err }, 'handling an Argo CD change failed');
    });
    return this.#queue;
  }

  async #handle(event: SourceEvent): Promise<void> {
    const now = new Date();
    this.#logger.debug(
      event.type === 'snapshot' || event.type === 'ready'
        ? { change: event.type }
        : {
            change: event.type,
            app: event.app.metadata.name,
            resourceVersion: event.app.metadata.resourceVersion,
          },
      'argo cd change',
    );
    if (event.type === 'ready') {
      this.#synced = true;
      this.#config.onListed();
      return;
    }
    if (event.type === 'snapshot') {
      if (event.clusterNames !== undefined && this.#ctx !== undefined) {
        this.#ctx = { ...this.#ctx, clusterNames: event.clusterNames };
      }
      const present = new Set<string>();
      const addresses = new Set<string>();
      // Apps arrive as the list is read: each is handled, trimmed and dropped before the next is parsed.
      for await (const app of event.apps) {
        const uid = logicalUid(app);
        present.add(uid);
        if (this.#ctx !== undefined) addresses.add(factsOf(app, this.#ctx).source);
        this.#absentSince.delete(uid);
        // The stream's burst (or a change since) brought this state or a newer one already.
        if (this.#handledAlready(uid, app)) continue;
        await this.#handleApp(app, now);
      }
      await this.#handleAbsent(present, addresses, now);
      this.#config.metrics.apps.set(present.size);
      this.#synced = true;
      // The clusters and apps just listed, reported without waiting for the next heartbeat (the first
      // one, at start, was written before any app was seen).
      this.#config.onListed();
      return;
    }
    const uid = logicalUid(event.app);
    // Argo CD's stream opens with every app again, from a snapshot of its own that may be older than
    // the list just handled: an object at or before the version handled cannot show anything new
    // (and must not take the app back to an older state; time-based rechecks have their own timers).
    if (this.#handledAlready(uid, event.app)) return;
    this.#absentSince.delete(uid);
    if (event.type === 'upsert') {
      await this.#handleApp(event.app, now);
      return;
    }
    this.#lastSeen.set(uid, rememberedApp(event.app));
    await this.#handleRemoval(uid, now);
  }

  /** This state of the app, or a newer one, was handled already (resource versions ordered as KEP-5504 allows). */
  #handledAlready(uid: string, app: Application): boolean {
    const seen = this.#lastSeen.get(uid)?.metadata.resourceVersion;
    const version = app.metadata.resourceVersion;
    return version !== undefined && (seen === version || isOlderResourceVersion(version, seen));
  }

  /**
   * Apps a complete list no longer has. The Kubernetes API lists every Application in the agent's
   * scope (or refuses the list): absence there is deletion. The Argo CD API lists what the token may
   * read, so absence there is removal only after DEFAULT_ABSENT_REMOVAL_MS, and an app that shows up
   * again is followed again either way.
   */
  async #handleAbsent(
    present: ReadonlySet<string>,
    addresses: ReadonlySet<string>,
    now: Date,
  ): Promise<void> {
    const graceMs =
      this.#config.source.name === 'api' ? (this.#config.absentRemovalMs ?? DEFAULT_ABSENT_REMOVAL_MS) : 0;
    for (const [uid, progress] of this.#progress) {
      if (present.has(uid) || progress.removed) continue;
      if (addresses.has(progress.address)) {
        // The same app under another uid (an Argo CD Agent principal failover gives new uids): not gone.
        this.#logger.info(
          { app: progress.name, uid, address: progress.address },
          'app listed under a new uid: the old one is retired',
        );
        const retired: AppProgress = { ...progress, removed: true };
        this.#setProgress(uid, retired);
        this.#lastSeen.delete(uid);
        await this.#config.spool(undefined, progress.cluster, retired, undefined);
        continue;
      }
      const since = this.#absentSince.get(uid);
      if (graceMs > 0 && since === undefined) {
        this.#absentSince.set(uid, now.getTime());
        this.#logger.info(
          { app: progress.name, uid, graceMs },
          'app missing from the Argo CD list (deleted, or hidden from the token): removed if it stays missing',
        );
        continue;
      }
      if (since !== undefined && now.getTime() - since < graceMs) continue;
      this.#absentSince.delete(uid);
      await this.#handleRemoval(uid, now);
    }
  }

  /**
   * The progress of an app seen under a new logical uid at an address the agent already follows: the
   * Argo CD Agent rewrote its `source-uid` after a principal failover (v0.8+), re-created a spoke copy,
   * or the app was re-created. One app keeps one progress, so it is neither removed nor deployed again.
   */
  async #adopt(app: Application, uid: string): Promise<AppProgress | undefined> {
    const ctx = this.#ctx;
    if (ctx === undefined) return undefined;
    const address = factsOf(app, ctx).source;
    // The same object under a rewritten source-uid, else an app that is gone from this address.
    const objectUid = app.metadata.uid;
    const sameObject = objectUid === undefined ? undefined : this.#logicalByObject.get(objectUid);
    const other =
      sameObject !== undefined && sameObject !== uid && this.#progress.get(sameObject)?.address === address
        ? sameObject
        : this.#removedByAddress.get(address);
    const progress = other === undefined || other === uid ? undefined : this.#progress.get(other);
    if (other === undefined || progress === undefined) return undefined;
    const moved: AppProgress = { ...progress, uid };
    this.#deleteProgress(other);
    this.#lastSeen.delete(other);
    this.#absentSince.delete(other);
    clearTimeout(this.#rechecks.get(other));
    this.#rechecks.delete(other);
    this.#environments = renameApp(this.#environments, other, uid);
    this.#logger.info(
      { app: app.metadata.name, from: other, to: uid, address },
      'app seen under a new uid: following it on',
    );
    // The old key is kept as removed (no event), so a restart does not report the app gone.
    await this.#config.spool(undefined, progress.cluster, { ...progress, removed: true }, this.#environments);
    return moved;
  }

  /** Every change of an app's progress goes through here, to keep the index of removed addresses. */
  #setProgress(uid: string, progress: AppProgress): void {
    const before = this.#progress.get(uid);
    if (before?.removed === true && this.#removedByAddress.get(before.address) === uid)
      this.#removedByAddress.delete(before.address);
    this.#progress.set(uid, progress);
    if (progress.removed && progress.address !== '') this.#removedByAddress.set(progress.address, uid);
  }

  #deleteProgress(uid: string): void {
    const before = this.#progress.get(uid);
    if (before !== undefined && this.#removedByAddress.get(before.address) === uid)
      this.#removedByAddress.delete(before.address);
    this.#progress.delete(uid);
  }

  async #handleApp(app: Application, now: Date): Promise<void> {
    const ctx = this.#ctx;
    if (ctx === undefined) return;
    const uid = logicalUid(app);
    this.#lastSeen.set(uid, rememberedApp(app));
    const before = this.#progress.get(uid) ?? (await this.#adopt(app, uid));
    if (app.metadata.uid !== undefined) this.#logicalByObject.set(app.metadata.uid, uid);
    const detection = detectTransitions(app, before, ctx, now);
    this.#note(app, detection);
    // The last event carries the progress of the whole look (what was evaluated after it emitted
    // nothing); without events, progress that moved is saved on its own: what only the agent knows
    // (when it first saw a Degraded health, which history it has handled) must survive a restart.
    const emissions = detection.emissions.map((e, i, all) =>
      i === all.length - 1 ? { ...e, progress: detection.progress } : e,
    );
    for (const emission of emissions) {
      const type = emission.event.context.type;
      const removal = type.startsWith('dev.cdevents.service.removed');
      // A deployment puts the app into its environment (and may create the environment).
      if (type.startsWith('dev.cdevents.service.') && !removal) {
        const { cluster, namespace } = emission.progress;
        const change = appEntered(
          this.#environments,
          uid,
          cluster,
          namespace,
          emission.event.context.timestamp,
          ctx.specVersion,
        );
        this.#environments = change.state;
        if (change.event !== undefined)
          await this.#config.spool(change.event, change.cluster, undefined, change.state);
      }
      await this.#config.spool(emission.event, emission.cluster, emission.progress, undefined);
      if (removal) await this.#leave(emission);
    }
    if (emissions.length === 0 && JSON.stringify(detection.progress) !== JSON.stringify(before)) {
      await this.#config.spool(undefined, detection.progress.cluster, detection.progress, undefined);
    }
    this.#setProgress(uid, detection.progress);
    this.#scheduleRecheck(uid, detection.recheckAt);
  }

  /** Logs and counts what a detection saw that no event says. */
  #note(app: Application, detection: Detection): void {
    const { trimmedUnseen, historyRestarted } = detection.notes;
    if (trimmedUnseen > 0) {
      this.#config.metrics.historyTrimmedUnseen.inc(trimmedUnseen);
      this.#logger.warn(
        {
          app: app.metadata.name,
          trimmed: trimmedUnseen,
          limit: app.spec?.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT,
        },
        'history entries were trimmed by Argo CD before the agent saw them: those deployments are not reported',
      );
    }
    if (historyRestarted) {
      this.#config.metrics.historyRestarts.inc();
      this.#logger.info(
        { app: app.metadata.name },
        "the app's history restarted (emptied, or its status replaced): following it from id 0",
      );
    }
  }

  async #leave(emission: Emission): Promise<void> {
    const ctx = this.#ctx;
    if (ctx === undefined) return;
    const change = appLeft(
      this.#environments,
      emission.progress.uid,
      emission.progress.cluster,
      emission.progress.namespace,
      emission.event.context.timestamp,
      ctx.specVersion,
    );
    this.#environments = change.state;
    if (change.event !== undefined)
      await this.#config.spool(change.event, change.cluster, undefined, change.state);
  }

  async #handleRemoval(uid: string, now: Date): Promise<void> {
    const ctx = this.#ctx;
    const progress = this.#progress.get(uid);
    if (ctx === undefined || progress?.removed === true) return;
    const app = this.#lastSeen.get(uid) ?? this.#appFromProgress(progress);
    if (app === undefined) return;
    const emission = removalEmission(app, progress, ctx, now);
    if (emission === undefined) return;
    // The object is gone: a later object at its address is found through the removed addresses.
    if (app.metadata.uid !== undefined && this.#logicalByObject.get(app.metadata.uid) === uid)
      this.#logicalByObject.delete(app.metadata.uid);
    await this.#config.spool(emission.event, emission.cluster, emission.progress, undefined);
    this.#setProgress(uid, emission.progress);
    await this.#leave(emission);
    clearTimeout(this.#rechecks.get(uid));
    this.#rechecks.delete(uid);
  }

  /** A stand-in Application for an app removed while the agent was down (only its progress is known). */
  #appFromProgress(progress: AppProgress | undefined): Application | undefined {
    if (progress === undefined) return undefined;
    return {
      metadata: { name: progress.name, uid: progress.uid },
      spec: { destination: { name: progress.cluster, namespace: progress.namespace } },
    };
  }

  #scheduleRecheck(uid: string, at: Date | undefined): void {
    clearTimeout(this.#rechecks.get(uid));
    this.#rechecks.delete(uid);
    if (at === undefined || this.#stopping) return;
    const timer = setTimeout(
      () => {
        this.#rechecks.delete(uid);
        const app = this.#lastSeen.get(uid);
        if (app !== undefined) void this.#enqueue(() => this.#handleApp(app, new Date()));
      },
      Math.max(0, at.getTime() - Date.now()) + 10,
    );
    timer.unref();
    this.#rechecks.set(uid, timer);
  }
}
