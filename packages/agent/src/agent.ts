import { appendFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isPayloadTooLarge, publishRaw } from '@argus/bus';
import { BindingError, type CDEvent, parse, serialize, ValidationError } from '@argus/cdevents';
import type { Logger } from '@argus/runtime';
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Application } from './argocd/types.js';
import { logicalUid } from './argocd/types.js';
import type { AgentMetrics } from './metrics.js';
import type { AppSource, SourceEvent } from './sources/source.js';
import { Outbox, type OutboxEntry, OutboxFullError } from './state/outbox.js';
import { openAgentsBucket, ProgressStore, writeHeartbeat } from './state/progress-store.js';
import type { DetectorContext } from './transitions/context.js';
import {
  type AppProgress,
  detectTransitions,
  type Emission,
  rememberedApp,
  removalEmission,
} from './transitions/detect.js';
import { appEntered, appLeft, type EnvironmentsState } from './transitions/environments.js';

export interface AgentConfig {
  readonly nc: NatsConnection;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly instance: string;
  /** hub-and-spoke, distributed, managed, argocd-agent */
  readonly architecture: string;
  readonly source: AppSource;
  readonly detector: Omit<DetectorContext, 'clusterNames'>;
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
  #store: ProgressStore | undefined;
  #outbox: Outbox | undefined;
  #agentsKv: KV | undefined;
  #ctx: DetectorContext | undefined;
  readonly #progress = new Map<string, AppProgress>();
  /** The last state of each app, trimmed to what a recheck or a removal needs (`rememberedApp`). */
  readonly #lastSeen = new Map<string, Application>();
  #environments: EnvironmentsState = { v: 1, environments: {} };
  readonly #rechecks = new Map<string, NodeJS.Timeout>();
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
    this.#js = jetstream(config.nc);
  }

  /** Loads progress, replays the spool, then follows the source in the background. */
  async start(): Promise<void> {
    const { nc, instance } = this.#config;
    this.#store = await ProgressStore.open(nc, instance, this.#config.replicas ?? 1);
    this.#agentsKv = await openAgentsBucket(nc, this.#config.replicas ?? 1);
    for (const [uid, progress] of await this.#store.loadApps()) this.#progress.set(uid, progress);
    this.#environments = await this.#store.loadEnvironments();
    this.#outbox = await Outbox.open(this.#config.spoolFile, this.#config.maxSpool ?? 100_000);
    // The spool is ahead of KV: what it holds was detected but not yet acknowledged.
    await this.#applySpoolProgress();
    this.#ctx = { ...this.#config.detector, clusterNames: await this.#config.source.clusterNames() };
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
      const progress = entry.progress as AppProgress | undefined;
      if (progress !== undefined) this.#progress.set(progress.uid, progress);
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
      event.type === 'snapshot'
        ? { change: 'snapshot' }
        : {
            change: event.type,
            app: event.app.metadata.name,
            resourceVersion: event.app.metadata.resourceVersion,
          },
      'argo cd change',
    );
    if (event.type === 'snapshot') {
      const present = new Set<string>();
      // Apps arrive as the list is read: each is handled, trimmed and dropped before the next is parsed.
      for await (const app of event.apps) {
        present.add(logicalUid(app));
        await this.#handleApp(app, now);
      }
      // Absent from a complete list: removed while we were not looking (the stream never says so).
      for (const [uid, progress] of this.#progress) {
        if (!present.has(uid) && !progress.removed) await this.#handleRemoval(uid, now);
      }
      this.#config.metrics.apps.set(present.size);
      this.#synced = true;
      // The clusters and apps just listed, without waiting for the next beat (the first one, at start,
      // was written before any app was seen).
      void this.#heartbeat();
      return;
    }
    if (event.type === 'upsert') {
      // Argo CD's stream opens with every app again, right after the list: an object at the version
      // already handled cannot show anything new (time-based rechecks have their own timers).
      const seen = this.#lastSeen.get(logicalUid(event.app))?.metadata.resourceVersion;
      if (seen !== undefined && seen === event.app.metadata.resourceVersion) return;
      await this.#handleApp(event.app, now);
      return;
    }
    this.#lastSeen.set(logicalUid(event.app), rememberedApp(event.app));
    await this.#handleRemoval(logicalUid(event.app), now);
  }

  async #handleApp(app: Application, now: Date): Promise<void> {
    const ctx = this.#ctx;
    if (ctx === undefined) return;
    const uid = logicalUid(app);
    this.#lastSeen.set(uid, rememberedApp(app));
    const before = this.#progress.get(uid);
    const detection = detectTransitions(app, before, ctx, now);
    // The app's first deployment puts it into its environment (and may create the environment).
    let entered = (before?.lastHistoryId ?? null) !== null;
    for (const emission of detection.emissions) {
      const type = emission.event.context.type;
      if (
        !entered &&
        type.startsWith('dev.cdevents.service.') &&
        !type.startsWith('dev.cdevents.service.removed')
      ) {
        entered = true;
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
      if (type.startsWith('dev.cdevents.service.removed')) await this.#leave(emission);
    }
    // Progress that moved without an event (a re-sync, a finished operation) is saved with the next
    // event of the app; until then it can be derived again from Argo CD's state.
    this.#progress.set(uid, detection.progress);
    this.#scheduleRecheck(uid, detection.recheckAt);
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
    await this.#spool(emission.event, emission.cluster, emission.progress, undefined);
    this.#progress.set(uid, emission.progress);
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

  async #spool(
    event: CDEvent,
    cluster: string,
    progress: AppProgress | undefined,
    environments: EnvironmentsState | undefined,
  ): Promise<void> {
    const outbox = this.#outbox;
    if (outbox === undefined) return;
    try {
      await outbox.append({
        event: serialize(event),
        cluster,
        ...(progress === undefined ? {} : { progress }),
        ...(environments === undefined ? {} : { environments }),
      });
    } catch (err) {
      if (!(err instanceof OutboxFullError)) throw err;
      // Deployments are re-derived from Argo CD's history after the outage; other transitions are lost here.
      this.#logger.error({ err, type: event.context.type, depth: err.depth }, 'spool full: event dropped');
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
      const entry = await outbox.peek();
      if (entry === undefined) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, 1000).unref();
        });
        this.#wake = undefined;
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
        });
        this.#config.metrics.publishSeconds.observe((performance.now() - started) / 1000);
        if (ack.duplicate) this.#config.metrics.duplicates.inc();
        await this.#retire(entry, store, outbox);
        this.#published++;
        this.#logger.debug({ type: event.context.type, id: event.context.id }, 'published');
        this.#config.metrics.events.inc({ type: event.context.type });
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

  /** The oldest spooled entry is done with (published or dead-lettered): its progress saved, then acked. */
  async #retire(entry: OutboxEntry, store: ProgressStore, outbox: Outbox): Promise<void> {
    if (entry.progress !== undefined) await store.saveApp(entry.progress as AppProgress);
    if (entry.environments !== undefined)
      await store.saveEnvironments(entry.environments as EnvironmentsState);
    await outbox.ack();
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
      await this.#retire(entry, store, outbox);
    } catch (moveError) {
      this.#logger.warn({ err: moveError, file }, 'cannot move an unpublishable event to the dead letters');
      return false;
    }
    this.#config.metrics.deadLetters.inc({ reason });
    this.#logger.error(
      { reason, detail: err.message, bytes: entry.event.length, file },
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
