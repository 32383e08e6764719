import { type Logger, type LongRunning, type Readiness, statusOf } from '@argus/runtime';
import type { NatsConnection } from '@nats-io/nats-core';
import { ChangeDetector, sourceNotListedReason } from './change-detector.js';
import { Heartbeat } from './heartbeat.js';
import type { AgentMetrics } from './metrics.js';
import { Publisher } from './publishing.js';
import type { AppSource } from './sources/source.js';
import { openAgentsBucket, ProgressStore } from './state/progress-store.js';
import type { DetectorContext } from './transitions/context.js';

export interface AgentConfig {
  readonly nc: NatsConnection;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly instance: string;
  /** hub-and-spoke, distributed, managed, argocd-agent */
  readonly architecture: string;
  readonly source: AppSource;
  readonly detector: Omit<DetectorContext, 'clusterNames' | 'argocdAgent'>;
  /** How long an app may be missing from the API source's lists before it counts as removed, in ms. @default DEFAULT_ABSENT_REMOVAL_MS (15 min) */
  readonly absentRemovalMs?: number;
  /** File of the on-disk spool. */
  readonly spoolFile: string;
  /** Most entries the spool keeps. @default DEFAULT_MAX_SPOOL (100,000) */
  readonly maxSpool?: number;
  /** Heartbeat interval, in ms. @default DEFAULT_HEARTBEAT_MS (15 s) */
  readonly heartbeatMs?: number;
  readonly version: string;
  /** JetStream replicas of the KV buckets the agent creates. @default 1 */
  readonly replicas?: number;
}

/**
 * Watches one Argo CD through a source, turns each change into CDEvents (ChangeDetector), and
 * publishes them in order through an on-disk outbox (Publisher), with a heartbeat in NATS KV.
 * Progress is saved in KV after each acknowledged publish, so a restart (same machine or another)
 * neither repeats nor skips.
 */
export class Agent implements LongRunning {
  readonly #config: AgentConfig;
  readonly #logger: Logger;
  readonly #startedAt = new Date().toISOString();
  #publisher: Publisher | undefined;
  #detector: ChangeDetector | undefined;
  #heartbeat: Heartbeat | undefined;
  readonly #ended: Promise<void>;
  #end: () => void = () => undefined;

  constructor(config: AgentConfig) {
    this.#config = config;
    this.#logger = config.logger.child({ component: 'agent' });
    this.#ended = new Promise((resolve) => {
      this.#end = resolve;
    });
  }

  /** Loads progress, replays the spool, then follows the source in the background. */
  async start(): Promise<void> {
    const { nc, instance, logger, metrics, source } = this.#config;
    const replicas = this.#config.replicas ?? 1;
    const store = await ProgressStore.open(nc, instance, replicas);
    const agentsKv = await openAgentsBucket(nc, replicas);
    const saved = { apps: await store.loadApps(), environments: await store.loadEnvironments() };
    const publisher = await Publisher.open({
      nc,
      logger,
      metrics,
      instance,
      spoolFile: this.#config.spoolFile,
      maxSpool: this.#config.maxSpool,
      store,
    });
    this.#publisher = publisher;
    const heartbeat = new Heartbeat({
      kv: agentsKv,
      logger: this.#logger,
      intervalMs: this.#config.heartbeatMs,
      state: () => ({
        instance,
        architecture: this.#config.architecture,
        source: source.name,
        version: this.#config.version,
        ...(this.#detector?.followed() ?? { clusters: [], apps: 0 }),
        startedAt: this.#startedAt,
        spoolDepth: this.spoolDepth,
      }),
    });
    this.#heartbeat = heartbeat;
    const detector = new ChangeDetector({
      logger,
      metrics,
      source,
      detector: this.#config.detector,
      argocdAgent: this.#config.architecture === 'argocd-agent',
      absentRemovalMs: this.#config.absentRemovalMs,
      spool: (event, cluster, progress, environments) =>
        publisher.spool(event, cluster, progress, environments),
      onListed: () => void heartbeat.beat(),
    });
    await detector.load(saved, publisher.pending());
    this.#detector = detector;
    this.#logger.info(
      { apps: detector.known, spooled: publisher.depth, source: source.name },
      'agent started: progress loaded',
    );
    publisher.start();
    detector.start();
    await heartbeat.start();
  }

  /**
   * Stops in reverse order of start: heartbeat (its timer at once; a beat in progress is waited for
   * last), detection (the change being handled finishes), publishing.
   */
  async stop(): Promise<void> {
    const heartbeatStopped = this.#heartbeat?.stop();
    await this.#detector?.stop();
    await this.#publisher?.stop();
    await heartbeatStopped;
    this.#logger.info({ published: this.published, spooled: this.spoolDepth }, 'agent stopped');
    this.#end();
  }

  /** Resolves once stopped: every part has ended. */
  closed(): Promise<void> {
    return this.#ended;
  }

  /**
   * Ready once everything seen so far is on the bus. Events waiting in the spool are the one reason
   * while there are any (NATS is the problem then, not the source); otherwise the source's.
   */
  status(): Readiness {
    const spool = this.#publisher?.status();
    if (spool !== undefined && !spool.ready) return spool;
    return this.#detector?.status() ?? statusOf([sourceNotListedReason(this.#config.source)]);
  }

  /** The source delivered a full list and the spool is empty: everything seen so far is on the bus. */
  get synced(): boolean {
    return this.status().ready;
  }

  get spoolDepth(): number {
    return this.#publisher?.depth ?? 0;
  }

  get published(): number {
    return this.#publisher?.published ?? 0;
  }
}
