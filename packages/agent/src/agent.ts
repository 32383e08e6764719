import { appendFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  BatchPublisher,
  isPayloadTooLarge,
  jetStreamOf,
  type OutgoingMessage,
  publishRaw,
  rawMessage,
} from '@argus/bus';
import {
  BindingError,
  type CDEvent,
  metricTypeLabel,
  parse,
  serialize,
  ValidationError,
} from '@argus/cdevents';
import type { Logger } from '@argus/runtime';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { isOlderResourceVersion } from './argocd/resource-version.js';
import type { Application } from './argocd/types.js';
import { logicalUid } from './argocd/types.js';
import type { AgentMetrics } from './metrics.js';
import { DEFAULT_ABSENT_REMOVAL_MS } from './options.js';
import type { AppSource, SourceEvent } from './sources/source.js';
import { Outbox, type OutboxEntry, OutboxFullError } from './state/outbox.js';
import { openAgentsBucket, ProgressStore, writeHeartbeat } from './state/progress-store.js';
import type { DetectorContext } from './transitions/context.js';
import { DEFAULT_REVISION_HISTORY_LIMIT } from './transitions/deployments.js';
import { detectTransitions, rememberedApp, removalEmission } from './transitions/detect.js';
import type { Detection, Emission } from './transitions/emission.js';
import { appEntered, appLeft, type EnvironmentsState, renameApp } from './transitions/environments.js';
import { factsOf } from './transitions/identity.js';
import { type AppProgress, readProgress } from './transitions/progress.js';

export interface AgentConfig {
  readonly nc: NatsConnection;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly instance: string;
  /** hub-and-spoke, distributed, managed, argocd-agent */
  readonly architecture: string;
  readonly source: AppSource;
  readonly detector: Omit<DetectorContext, 'clusterNames' | 'argocdAgent'>;
  /** How long an app may be missing from the API source's lists before it counts as removed. @default 900000 */
  readonly absentRemovalMs?: number;
  /** File of the on-disk spool. */
  readonly spoolFile: string;
  /** @default 100000 */
  readonly maxSpool?: number;
  /** @default 15000 */
  readonly heartbeatMs?: number;
  readonly version: string;
  /** JetStream replicas of the KV buckets the agent creates. @default 1 */
  readonly replicas?: number;
}

/**
 * Failures that retrying the same entry cannot cure: larger than the server's max_payload (the client
 * refuses it before sending), or a spooled event that no longer parses.
 */
const isUnpublishable = (err: unknown): err is Error =>
  isPayloadTooLarge(err) || err instanceof ValidationError || err instanceof BindingError;

/**
 * Spooled entries published at once while a backlog drains (the first list of a large instance): their
 * publishes are pipelined and their progress written once all are acknowledged, instead of two round
 * trips per event (a first list of 20,000 apps: 31 -> 19-20 s of agent CPU, docs/benchmarks.md). A kill
 * repeats at most one batch, absorbed by `Nats-Msg-Id`. Bounded, as is what a batch holds in memory.
 */
export const PUBLISH_BATCH_MAX = 256;

/** JetStream ack timeout of a publish, alone or in a batch. */
const PUBLISH_TIMEOUT_MS = 5000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Watches one Argo CD through a source, turns each change into CDEvents with the detector, and
 * publishes them in order through an on-disk outbox. Progress is saved in NATS KV after each
 * acknowledged publish, so a restart (same machine or another) neither repeats nor skips.
 */
export class Agent {
  readonly #config: AgentConfig;
  readonly #logger: Logger;
  readonly #js: JetStreamClient;
  readonly #batches: BatchPublisher;
  #store: ProgressStore | undefined;
  #outbox: Outbox | undefined;
  #agentsKv: KV | undefined;
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
  #wake: (() => void) | undefined;
  #tasks: Promise<unknown>[] = [];
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();
  readonly #startedAt = new Date().toISOString();
  #synced = false;
  #published = 0;

  constructor(config: AgentConfig) {
    this.#config = config;
    this.#logger = config.logger.child({ component: 'agent' });
    this.#js = jetStreamOf(config.nc);
    this.#batches = new BatchPublisher(config.nc, { timeoutMs: PUBLISH_TIMEOUT_MS });
  }

  /** Loads progress, replays the spool, then follows the source in the background. */
  async start(): Promise<void> {
    const { nc, instance } = this.#config;
    this.#store = await ProgressStore.open(nc, instance, this.#config.replicas ?? 1);
    this.#agentsKv = await openAgentsBucket(nc, this.#config.replicas ?? 1);
    for (const [uid, progress] of await this.#store.loadApps()) this.#setProgress(uid, progress);
    this.#environments = await this.#store.loadEnvironments();
    this.#outbox = await Outbox.open(this.#config.spoolFile, this.#config.maxSpool ?? 100_000);
    // The spool is ahead of KV: what it holds was detected but not yet acknowledged.
    await this.#applySpoolProgress();
    this.#ctx = {
      ...this.#config.detector,
      argocdAgent: this.#config.architecture === 'argocd-agent',
      clusterNames: await this.#config.source.clusterNames(),
    };
    this.#logger.info(
      { apps: this.#progress.size, spooled: this.#outbox.depth, source: this.#config.source.name },
      'agent started: progress loaded',
    );
    this.#tasks = [this.#publishLoop(), this.#followSource()];
    await this.#heartbeat();
    this.#heartbeatTimer = setInterval(() => void this.#heartbeat(), this.#config.heartbeatMs ?? 15_000);
    this.#heartbeatTimer.unref();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#heartbeatTimer);
    for (const timer of this.#rechecks.values()) clearTimeout(timer);
    this.#config.source.stop();
    this.#wake?.();
    await Promise.allSettled(this.#tasks);
    await this.#queue.catch(() => undefined);
    this.#batches.close();
    await this.#outbox?.close();
    this.#logger.info({ published: this.#published, spooled: this.#outbox?.depth ?? 0 }, 'agent stopped');
  }

  /** The source delivered a full list and the spool is empty: everything seen so far is on the bus. */
  get synced(): boolean {
    return this.#synced && (this.#outbox?.depth ?? 0) === 0;
  }

  get spoolDepth(): number {
    return this.#outbox?.depth ?? 0;
  }

  get published(): number {
    return this.#published;
  }

  async #applySpoolProgress(): Promise<void> {
    // Walk the spool file's entries (oldest first) and keep the newest progress per app.
    const outbox = this.#outbox;
    if (outbox === undefined) return;
    for await (const entry of outbox.pending()) {
      const progress = readProgress(entry.progress);
      if (progress !== undefined) this.#setProgress(progress.uid, progress);
      if (entry.environments !== undefined) this.#environments = entry.environments as EnvironmentsState;
    }
  }

  async #followSource(): Promise<void> {
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
      void this.#heartbeat();
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
      // The clusters and apps just listed, without waiting for the next beat (the first one, at start,
      // was written before any app was seen).
      void this.#heartbeat();
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
        await this.#spool(undefined, progress.cluster, retired, undefined);
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
    await this.#spool(undefined, progress.cluster, { ...progress, removed: true }, this.#environments);
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
          await this.#spool(change.event, change.cluster, undefined, change.state);
      }
      await this.#spool(emission.event, emission.cluster, emission.progress, undefined);
      if (removal) await this.#leave(emission);
    }
    if (emissions.length === 0 && JSON.stringify(detection.progress) !== JSON.stringify(before)) {
      await this.#spool(undefined, detection.progress.cluster, detection.progress, undefined);
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
    if (change.event !== undefined) await this.#spool(change.event, change.cluster, undefined, change.state);
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
    await this.#spool(emission.event, emission.cluster, emission.progress, undefined);
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

  /**
   * Queues an event (or, without one, a checkpoint: progress to save in its turn) behind everything
   * spooled before it, so progress is never saved ahead of the events it follows.
   */
  async #spool(
    event: CDEvent | undefined,
    cluster: string,
    progress: AppProgress | undefined,
    environments: EnvironmentsState | undefined,
  ): Promise<void> {
    const outbox = this.#outbox;
    if (outbox === undefined) return;
    try {
      await outbox.append({
        ...(event === undefined ? {} : { event: serialize(event) }),
        cluster,
        ...(progress === undefined ? {} : { progress }),
        ...(environments === undefined ? {} : { environments }),
      });
    } catch (err) {
      if (!(err instanceof OutboxFullError)) throw err;
      // Deployments are re-derived from Argo CD's history after the outage; other transitions are lost here.
      this.#logger.error(
        { err, type: event?.context.type ?? 'checkpoint', depth: err.depth },
        'spool full: event dropped',
      );
      return;
    }
    this.#config.metrics.spoolDepth.set(outbox.depth);
    this.#wake?.();
  }

  async #publishLoop(): Promise<void> {
    const outbox = this.#outbox;
    const store = this.#store;
    if (outbox === undefined || store === undefined) return;
    let delay = 250;
    while (!this.#stopping) {
      const entries = await outbox.peekMany(PUBLISH_BATCH_MAX);
      const entry = entries[0];
      if (entry === undefined) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, 1000).unref();
        });
        this.#wake = undefined;
        continue;
      }
      // A backlog goes out in batches; a batch that cannot be prepared or is not acknowledged whole
      // falls back to its oldest entry alone, with the retries and dead letters below.
      if (entries.length > 1 && (await this.#publishBatch(entries, store, outbox))) {
        delay = 250;
        continue;
      }
      if (this.#stopping) break;
      if (entry.event === undefined) {
        // A checkpoint: progress that moved without an event, saved in order.
        try {
          await this.#retire([entry], store, outbox);
        } catch (err) {
          if (this.#stopping) break;
          this.#logger.warn({ err, retryInMs: delay }, 'saving progress failed; kept in the spool');
          await sleep(delay);
          delay = Math.min(delay * 2, 5000);
        }
        continue;
      }
      try {
        const event = parse(entry.event);
        const started = performance.now();
        const ack = await publishRaw(this.#js, event, {
          instance: this.#config.instance,
          cluster: entry.cluster,
          architecture: this.#config.architecture,
          msgIdKey: store.messageIdKey,
          timeoutMs: PUBLISH_TIMEOUT_MS,
        });
        this.#config.metrics.publishSeconds.observe((performance.now() - started) / 1000);
        if (ack.duplicate) this.#config.metrics.duplicates.inc();
        await this.#retire([entry], store, outbox);
        this.#published++;
        this.#logger.debug({ type: event.context.type, id: event.context.id }, 'published');
        this.#config.metrics.events.inc({ type: metricTypeLabel(event.context.type) });
        delay = 250;
      } catch (err) {
        if (this.#stopping) break;
        // Retrying cannot help and would hold up every event behind this one. Should moving it fail
        // too (disk full, NATS away for the progress), the loop retries like any failed publish.
        if (isUnpublishable(err) && (await this.#deadLetter(entry, err))) continue;
        this.#config.metrics.publishErrors.inc();
        this.#logger.warn(
          { err, retryInMs: delay, spooled: outbox.depth },
          'publish failed; event kept in the spool',
        );
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  /**
   * Publishes the events of several spooled entries at once (in spool order on the one connection, so
   * JetStream stores them in that order) and retires them all once every one is acknowledged. False,
   * with nothing retired, when an entry cannot be prepared or the batch is not acknowledged whole: the
   * caller then handles the oldest entry alone (acknowledged ones repeat as duplicates, by `Nats-Msg-Id`).
   */
  async #publishBatch(
    entries: readonly OutboxEntry[],
    store: ProgressStore,
    outbox: Outbox,
  ): Promise<boolean> {
    const messages: OutgoingMessage[] = [];
    const types: string[] = [];
    try {
      for (const entry of entries) {
        if (entry.event === undefined) continue;
        const event = parse(entry.event);
        types.push(event.context.type);
        messages.push(
          rawMessage(event, {
            instance: this.#config.instance,
            cluster: entry.cluster,
            architecture: this.#config.architecture,
            msgIdKey: store.messageIdKey,
          }),
        );
      }
    } catch {
      return false;
    }
    try {
      const started = performance.now();
      const acks = await this.#batches.publish(messages);
      const seconds = (performance.now() - started) / 1000;
      for (const ack of acks) {
        this.#config.metrics.publishSeconds.observe(seconds);
        if (ack.duplicate) this.#config.metrics.duplicates.inc();
      }
      await this.#retire(entries, store, outbox);
    } catch (err) {
      this.#logger.debug({ err, entries: entries.length }, 'batch not acknowledged whole; one at a time');
      return false;
    }
    this.#published += types.length;
    for (const type of types) this.#config.metrics.events.inc({ type: metricTypeLabel(type) });
    return true;
  }

  /**
   * The oldest spooled entries are done with (published or dead-lettered): their progress saved (the
   * last of each app, and of the environments), then acked.
   */
  async #retire(entries: readonly OutboxEntry[], store: ProgressStore, outbox: Outbox): Promise<void> {
    const apps = new Map<string, AppProgress>();
    let environments: unknown;
    for (const entry of entries) {
      const progress = readProgress(entry.progress);
      if (progress !== undefined) apps.set(progress.uid, progress);
      if (entry.environments !== undefined) environments = entry.environments;
    }
    await store.saveApps(apps.values());
    if (environments !== undefined) await store.saveEnvironments(environments as EnvironmentsState);
    await outbox.ack(entries.length);
    this.#config.metrics.spoolDepth.set(outbox.depth);
  }

  /**
   * Moves the oldest spooled entry, which can never be published, to `dead-letters.jsonl` beside the
   * spool with the reason, keeps its progress (so it is not derived and refused again), and goes on.
   */
  async #deadLetter(entry: OutboxEntry, err: Error): Promise<boolean> {
    const outbox = this.#outbox;
    const store = this.#store;
    if (outbox === undefined || store === undefined) return false;
    const file = join(dirname(this.#config.spoolFile), 'dead-letters.jsonl');
    const reason = isPayloadTooLarge(err) ? 'too-large-for-nats' : err.name;
    try {
      await appendFile(
        file,
        `${JSON.stringify({ at: new Date().toISOString(), reason, detail: err.message, entry })}\n`,
      );
      await this.#retire([entry], store, outbox);
    } catch (moveError) {
      this.#logger.warn({ err: moveError, file }, 'cannot move an unpublishable event to the dead letters');
      return false;
    }
    this.#config.metrics.deadLetters.inc({ reason });
    this.#logger.error(
      { reason, detail: err.message, bytes: entry.event?.length ?? 0, file },
      'event can never be published; moved to the dead letters beside the spool',
    );
    return true;
  }

  async #heartbeat(): Promise<void> {
    const kv = this.#agentsKv;
    if (kv === undefined) return;
    const clusters = new Set<string>();
    for (const p of this.#progress.values()) if (!p.removed) clusters.add(p.cluster);
    try {
      await writeHeartbeat(kv, {
        instance: this.#config.instance,
        architecture: this.#config.architecture,
        source: this.#config.source.name,
        version: this.#config.version,
        clusters: [...clusters].sort(),
        apps: [...this.#progress.values()].filter((p) => !p.removed).length,
        startedAt: this.#startedAt,
        lastSeen: new Date().toISOString(),
        spoolDepth: this.spoolDepth,
      });
    } catch (err) {
      this.#logger.debug({ err }, 'heartbeat not written (NATS unavailable?)');
    }
  }
}
