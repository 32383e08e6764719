import {
  BatchPublisher,
  DEFAULT_ACK_WAIT_MS,
  ensureHubConsumer,
  ensureStreams,
  HUB_CONSUMER,
  jetStreamManagerOf,
  jetStreamOf,
  RAW_STREAM,
  type StreamOptions,
} from '@argus/bus';
import { DEFAULT_MAX_EVENT_BYTES, TimeRange } from '@argus/cdevents';
import { type Logger, type LongRunning, PeriodicTask, type Readiness, statusOf } from '@argus/runtime';
import type { Store } from '@argus/store';
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { HubMetrics, type HubStats, PipelineCounts } from './metrics.js';
import { type Accepted, type AdmitConfig, admitBatch, type Refused } from './pipeline/admit.js';
import { ByteBudget, DEFAULT_MAX_IN_FLIGHT_BYTES } from './pipeline/budget.js';
import { ClusterCap } from './pipeline/cluster-cap.js';
import { ConsumeLoop, DEFAULT_BATCH_MAX_WAIT_MS, DEFAULT_BATCH_SIZE } from './pipeline/consume.js';
import { DEFAULT_DEDUPE_CACHE_SIZE, Dedupe } from './pipeline/dedupe.js';
import { type DeadLetterStageConfig, deadLetterBatch } from './pipeline/dlq.js';
import { type Failpoints, NO_FAILPOINTS } from './pipeline/failpoints.js';
import { PipelineHealth } from './pipeline/health.js';
import { republishBatch } from './pipeline/republish.js';
import { type StageRetry, stageRetry } from './pipeline/retry.js';
import { Serial } from './pipeline/serial.js';
import { StoreStage } from './pipeline/store.js';
import { EMPTY_REGISTRY, type Registry } from './registry.js';

export interface HubConfig {
  readonly nc: NatsConnection;
  readonly store: Store;
  readonly logger: Logger;
  readonly registry?: Registry;
  /** @default DEFAULT_BATCH_SIZE (2000) */
  readonly batchSize?: number;
  /** @default DEFAULT_BATCH_MAX_WAIT_MS (100 ms) */
  readonly batchMaxWaitMs?: number;
  /** @default DEFAULT_MAX_EVENT_BYTES (1 MiB) */
  readonly maxEventBytes?: number;
  /** Accepted `context.timestamp` range; events outside are dead-lettered as timestamp-out-of-range. @default 400 days back, 1 day ahead */
  readonly timeRange?: TimeRange;
  /**
   * Bytes of messages held at once (pulled and not yet acked): the consumer reads no further until
   * some are released. @default DEFAULT_MAX_IN_FLIGHT_BYTES (64 MiB)
   */
  readonly maxInFlightBytes?: number;
  /** A stage failing this long (ms) makes the hub not ready; a schema problem does at once. @default 30000 */
  readonly stallAfterMs?: number;
  /** @default DEFAULT_DEDUPE_CACHE_SIZE (200000) */
  readonly dedupeCacheSize?: number;
  /** @default HUB_CONSUMER ('argus-hub') */
  readonly consumerName?: string;
  /** Distinct clusters one instance may report; events for more are dead-lettered too-many-clusters. @default 64 */
  readonly maxClustersPerInstance?: number;
  /** @default DEFAULT_ACK_WAIT_MS (30 s) */
  readonly ackWaitMs?: number;
  readonly streams?: StreamOptions;
  readonly metrics?: HubMetrics;
  /** Fault injection for tests (`--failpoint`, see `failpoints()`). @default NO_FAILPOINTS */
  readonly failpoints?: Failpoints;
}

/** Batches being processed at once: one validating, one inserting, one republishing. */
export const MAX_BATCHES_IN_FLIGHT = 3;
/** How often the consumer's backlog is read for the lag gauge, in ms. */
const LAG_POLL_MS = 5000;
/**
 * Short pull expiries: after a JetStream leader change a pull request can be lost, and the client
 * only notices when it expires (30 s by default); 5 s bounds how long the hub stalls.
 */
const PULL_EXPIRES_MS = 5000;
/**
 * Bytes one pull asks JetStream for, before the budget: enough for several of the largest messages
 * (a pull must fit the next message, or it ends without it) and small beside the budget.
 */
const pullMaxBytes = (budget: number, maxPayload: number): number =>
  Math.max(4 * maxPayload, Math.floor(budget / 4));
/** nats-server's max_payload when it does not say (1 MiB). */
const NATS_DEFAULT_MAX_PAYLOAD = 1_048_576;
/** What a message costs in the budget: its payload (headers are a few hundred bytes at most). */
const messageBytes = (msg: JsMsg): number => msg.data.length;

/**
 * The loop that wires the stages (docs/architecture.md draws it): consume -> admit (validate,
 * dedupe, tag) -> store -> dead-letter and republish -> ack, acking each message only after its
 * event is stored (or dead-lettered). Several hubs share one durable consumer and split the work.
 */
export class Hub implements LongRunning {
  readonly metrics: HubMetrics;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #publisher: BatchPublisher;
  readonly #store: Store;
  readonly #logger: Logger;
  #registry: Registry;
  readonly #batchSize: number;
  readonly #batchMaxWaitMs: number;
  readonly #consumerName: string;
  readonly #ackWaitMs: number;
  readonly #streams: StreamOptions;
  readonly #counts: PipelineCounts;
  readonly #dedupe: Dedupe;
  readonly #budget: ByteBudget;
  readonly #clusterCap: ClusterCap;
  readonly #health: PipelineHealth;
  readonly #admit: AdmitConfig;
  readonly #storeStage: StoreStage;
  readonly #deadLetters: DeadLetterStageConfig;
  readonly #consume: ConsumeLoop<JsMsg>;
  readonly #storing = new Serial();
  readonly #publishing = new Serial();
  readonly #batchesInFlight = new Set<Promise<void>>();
  readonly #stopping = new AbortController();
  #lagPoll: PeriodicTask | undefined;

  /** The registry events are tagged with now. */
  get registry(): Registry {
    return this.#registry;
  }

  /** Tags the next messages with another registry (a reload: no restart, no message lost). */
  replaceRegistry(registry: Registry): void {
    this.#registry = registry;
  }

  constructor(config: HubConfig) {
    this.#nc = config.nc;
    this.#js = jetStreamOf(config.nc);
    this.#publisher = new BatchPublisher(config.nc);
    this.#store = config.store;
    this.#logger = config.logger.child({ component: 'hub' });
    this.#registry = config.registry ?? EMPTY_REGISTRY;
    this.#dedupe = new Dedupe(config.dedupeCacheSize ?? DEFAULT_DEDUPE_CACHE_SIZE);
    this.#batchSize = config.batchSize ?? DEFAULT_BATCH_SIZE;
    this.#batchMaxWaitMs = config.batchMaxWaitMs ?? DEFAULT_BATCH_MAX_WAIT_MS;
    this.#consumerName = config.consumerName ?? HUB_CONSUMER;
    this.#ackWaitMs = config.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    this.#streams = config.streams ?? {};
    this.metrics = config.metrics ?? new HubMetrics();
    this.#counts = new PipelineCounts(this.metrics);
    this.#budget = new ByteBudget(config.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES);
    this.#clusterCap = new ClusterCap(config.maxClustersPerInstance);
    this.#health = new PipelineHealth(
      config.stallAfterMs === undefined ? {} : { stallAfterMs: config.stallAfterMs },
    );
    this.#admit = {
      maxEventBytes: config.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES,
      timeRange: config.timeRange ?? new TimeRange(),
      dedupe: this.#dedupe,
      clusterCap: this.#clusterCap,
      registry: () => this.#registry,
      logger: this.#logger,
    };
    this.#storeStage = new StoreStage({
      store: this.#store,
      logger: this.#logger,
      metrics: this.metrics,
      counts: this.#counts,
      failpoints: config.failpoints ?? NO_FAILPOINTS,
    });
    this.#deadLetters = {
      js: this.#js,
      maxPayload: () => this.#nc.info?.max_payload,
      counts: this.#counts,
      logger: this.#logger,
    };
    this.#consume = new ConsumeLoop<JsMsg>({
      open: async () => {
        const consumer = await this.#js.consumers.get(RAW_STREAM, this.#consumerName);
        // Pulls bounded by bytes (see ConsumeLoop on why they are read as an iterator).
        return consumer.consume({
          max_bytes: pullMaxBytes(this.#budget.limit, this.#nc.info?.max_payload ?? NATS_DEFAULT_MAX_PAYLOAD),
          expires: PULL_EXPIRES_MS,
        });
      },
      batchSize: this.#batchSize,
      batchMaxWaitMs: this.#batchMaxWaitMs,
      budget: this.#budget,
      batchesInFlight: MAX_BATCHES_IN_FLIGHT,
      sizeOf: messageBytes,
      // The insert is what a batch waits for: one overdue batch keeps filling until the store is free.
      busy: () => this.#storing.idle(),
      submit: (batch) => this.#submit(batch),
      drained: async () => {
        await Promise.all(this.#batchesInFlight);
      },
      logger: this.#logger,
    });
  }

  /** Creates missing streams and the consumer, then starts consuming in the background. */
  async start(): Promise<void> {
    const jsm = await jetStreamManagerOf(this.#nc);
    const report = await ensureStreams(jsm, this.#streams);
    if (report.created.length > 0) this.#logger.info({ streams: report.created }, 'streams created');
    if (report.limited.length > 0) {
      this.#logger.info({ streams: report.limited }, 'streams without a storage limit given one (max_bytes)');
    }
    for (const d of report.drift) {
      this.#logger.warn(d, `stream ${d.stream} differs from the Argus defaults (left as is)`);
    }
    await this.#primeClusterCap();
    // max_ack_pending stays the bus's DEFAULT_MAX_ACK_PENDING: the byte budget bounds what a hub holds.
    await ensureHubConsumer(jsm, { durableName: this.#consumerName, ackWaitMs: this.#ackWaitMs });
    this.#consume.start();
    this.#lagPoll = PeriodicTask.every(LAG_POLL_MS, () => this.#pollLag(jsm));
    this.#lagPoll.start();
    this.#logger.info(
      { consumer: this.#consumerName, batchSize: this.#batchSize, batchMaxWaitMs: this.#batchMaxWaitMs },
      'hub consuming CDEVENTS_RAW',
    );
  }

  /** What is stored counts toward the cluster cap, so a restart does not open it again (at most the cap's number per instance is read). */
  async #primeClusterCap(): Promise<void> {
    try {
      this.#clusterCap.prime(
        await this.#store.rows<{ instance: string; cluster: string }>(
          `SELECT instance, cluster FROM ${this.#store.table('cdevents')} WHERE cluster != '' GROUP BY instance, cluster LIMIT ${this.#clusterCap.max} BY instance`,
        ),
      );
    } catch (err) {
      // Not fatal: the store's own trouble is reported by readiness; the cap then counts from now.
      this.#logger.warn({ err }, 'could not read the stored clusters; the cluster cap counts from now');
    }
  }

  /**
   * Stops consuming and waits for the batches in hand to finish (stored and acked, or left for
   * redelivery). A retry's wait ends at once: a stop never waits out a backoff.
   */
  async stop(): Promise<void> {
    this.#stopping.abort();
    const lagPoll = this.#lagPoll?.stop();
    await this.#consume.stop();
    await lagPoll;
    this.#publisher.close();
    this.#logger.info(this.stats(), 'hub stopped');
  }

  /** Resolves once the hub has stopped consuming and its batches have settled. */
  closed(): Promise<void> {
    return this.#consume.closed();
  }

  /** Ready, or why the pipeline is not getting events through (not consuming, a stage failing, a schema problem). */
  status(): Readiness {
    const reasons = this.#health.reasons();
    return statusOf(
      this.#consume.consuming ? reasons : ['hub: not consuming (nats unavailable?)', ...reasons],
    );
  }

  /** Bytes of messages held now, and the most held at once since the start. */
  inFlightBytes(): { held: number; peak: number; limit: number } {
    return { held: this.#budget.held, peak: this.#budget.peak, limit: this.#budget.limit };
  }

  stats(): HubStats {
    return this.#counts.snapshot();
  }

  async #pollLag(jsm: JetStreamManager): Promise<void> {
    try {
      const info = await jsm.consumers.info(RAW_STREAM, this.#consumerName);
      this.metrics.consumerLag.set(info.num_pending);
    } catch {
      // Lag is informational; NATS being away is reported by readiness.
    }
  }

  /** Starts a batch and returns once fewer than MAX_BATCHES_IN_FLIGHT are being processed. */
  async #submit(batch: JsMsg[]): Promise<void> {
    let bytes = 0;
    for (const msg of batch) bytes += messageBytes(msg);
    const work = this.#processBatch(batch)
      .catch((err: unknown) => {
        // Its messages stay unacked: JetStream redelivers them after ack_wait.
        if (!this.#stopping.signal.aborted)
          this.#logger.error({ err, messages: batch.length }, 'batch failed; left for redelivery');
      })
      .finally(() => this.#budget.release(bytes));
    this.#batchesInFlight.add(work);
    void work.finally(() => this.#batchesInFlight.delete(work));
    if (this.#batchesInFlight.size >= MAX_BATCHES_IN_FLIGHT) await Promise.race(this.#batchesInFlight);
  }

  /** One batch through the stages: admit, store (in batch order), dead-letter and republish (in batch order), ack. */
  async #processBatch(batch: JsMsg[]): Promise<void> {
    const endTimer = this.metrics.batchSeconds.startTimer();
    this.metrics.batchSize.observe(batch.length);
    this.#counts.consumed(batch.length);
    const retry = stageRetry(
      { health: this.#health, logger: this.#logger, stopping: this.#stopping.signal },
      batch,
    );

    const admitting = this.metrics.stageSeconds.startTimer({ stage: 'validate' });
    const { accepted, refused, repeats } = admitBatch(this.#admit, batch, new Date());
    this.#counts.duplicates('recent', repeats);
    admitting();

    const identities = accepted.map((a) => a.prepared.identity);
    let deadLettered = refused.length;
    this.#dedupe.hold(identities);
    try {
      const outcome = await this.#storing.run(() => this.#storeStage.store(accepted, retry));
      const stored = outcome.refused.size === 0 ? accepted : accepted.filter((a) => !outcome.refused.has(a));
      const deadLetters: Refused[] = [...refused];
      for (const [a, rejection] of outcome.refused) deadLetters.push({ msg: a.msg, rejection });
      deadLettered = deadLetters.length;
      const toPublish: Accepted[] =
        outcome.repeats.size === 0 ? stored : stored.filter((a) => !outcome.repeats.has(a));
      await this.#publishing.run(() => this.#publish(deadLetters, toPublish, retry));

      const acking = this.metrics.stageSeconds.startTimer({ stage: 'ack' });
      for (const msg of batch) msg.ack();
      this.#dedupe.remember(stored.map((a) => a.prepared.identity));
      acking();
    } finally {
      this.#dedupe.release(identities);
    }
    endTimer();
    this.#logger.debug(
      { messages: batch.length, accepted: accepted.length, refused: deadLettered },
      'batch done',
    );
  }

  /** Dead letters first (their originals may then be acked), then the stored events on the unified stream. */
  async #publish(
    deadLetters: readonly Refused[],
    stored: readonly Accepted[],
    retry: StageRetry,
  ): Promise<void> {
    if (deadLetters.length > 0) {
      const timer = this.metrics.stageSeconds.startTimer({ stage: 'dead-letter' });
      await deadLetterBatch(this.#deadLetters, deadLetters, retry);
      timer();
    }
    if (stored.length === 0) return;
    const timer = this.metrics.stageSeconds.startTimer({ stage: 'republish' });
    await republishBatch(
      this.#publisher,
      stored.map((a) => a.prepared),
      retry,
      this.#counts,
    );
    timer();
  }
}
