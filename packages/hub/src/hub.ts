import {
  BatchPublisher,
  ensureHubConsumer,
  ensureStreams,
  HEADERS,
  jetStreamManagerOf,
  jetStreamOf,
  RAW_STREAM,
  receivedHeaderPairs,
  receivedHeaders,
  type StreamOptions,
} from '@argus/bus';
import { metricTypeLabel, TimeRange } from '@argus/cdevents';
import type { Logger } from '@argus/runtime';
import { type Store, toEventRow } from '@argus/store';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { RejectedMessage } from './errors.js';
import { HubMetrics, type HubStats } from './metrics.js';
import { ByteBudget, DEFAULT_MAX_IN_FLIGHT_BYTES } from './pipeline/budget.js';
import { ClusterCap } from './pipeline/cluster-cap.js';
import { BatchCollector } from './pipeline/collect.js';
import { RecentIdentities } from './pipeline/dedupe.js';
import { publishDeadLetter } from './pipeline/dlq.js';
import { type FailureKind, PipelineHealth, storeFailureKind } from './pipeline/health.js';
import { InsertStage } from './pipeline/insert.js';
import { prepareStoredEvent, republish, type StoredEvent } from './pipeline/republish.js';
import { retryUntilDone } from './pipeline/retry.js';
import { tagEvent } from './pipeline/tag.js';
import { validateMessage } from './pipeline/validate.js';
import { EMPTY_REGISTRY, type Registry } from './registry.js';

export interface HubConfig {
  readonly nc: NatsConnection;
  readonly store: Store;
  readonly logger: Logger;
  readonly registry?: Registry;
  /** @default 2000 */
  readonly batchSize?: number;
  /** @default 100 */
  readonly batchMaxWaitMs?: number;
  /** @default 1048576 */
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
  /** @default 200000 */
  readonly dedupeCacheSize?: number;
  /** @default 'argus-hub' */
  readonly consumerName?: string;
  /** Distinct clusters one instance may report; events for more are dead-lettered too-many-clusters. @default 64 */
  readonly maxClustersPerInstance?: number;
  /** @default 30000 */
  readonly ackWaitMs?: number;
  readonly streams?: StreamOptions;
  readonly metrics?: HubMetrics;
  /**
   * Fault injection for tests (env ARGUS_FAILPOINT): `kill-after-insert` SIGKILLs the process right
   * after a batch is stored and before any of it is acked, the worst moment for a crash.
   */
  readonly failpoint?: 'kill-after-insert' | undefined;
  /**
   * Fault injection for tests (env ARGUS_FAILPOINT=fail-inserts-for=<duration>): every ClickHouse
   * insert fails until this time (epoch ms), as a server that is down or refusing writes would.
   */
  readonly failInsertsUntil?: number | undefined;
}

/** What storing a batch found: rows ClickHouse refused, and first deliveries of events stored before. */
interface StoreOutcome {
  readonly refused: Map<Accepted, RejectedMessage>;
  /** Stored and republished earlier (before a restart, past the duplicate window): not republished again. */
  readonly repeats: ReadonlySet<Accepted>;
}

/** An admitted message: what the later stages need of it, and no more (batches live a while). */
interface Accepted {
  readonly msg: JsMsg;
  readonly stored: StoredEvent;
}

const decoder = new TextDecoder();

/** Runs tasks one at a time in submission order: keeps inserts (and republishes) in batch order. */
class Serial {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** Batches being processed at once: one validating, one inserting, one republishing. */
export const MAX_BATCHES_IN_FLIGHT = 3;
/**
 * Bytes one pull asks JetStream for, before the budget: enough for several of the largest messages
 * (a pull must fit the next message, or it ends without it) and small beside the budget.
 */
const pullMaxBytes = (budget: number, maxPayload: number): number =>
  Math.max(4 * maxPayload, Math.floor(budget / 4));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** What a message costs in the budget: its payload (headers are a few hundred bytes at most). */
const messageBytes = (msg: JsMsg): number => msg.data.length;

/**
 * consume -> validate -> dedupe -> tag -> store -> republish, acking each message only after its
 * event is stored (or dead-lettered). Several hubs share one durable consumer and split the work.
 */
export class Hub {
  readonly metrics: HubMetrics;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #publisher: BatchPublisher;
  readonly #store: Store;
  readonly #logger: Logger;
  #registry: Registry;
  readonly #recent: RecentIdentities;
  readonly #batchSize: number;
  readonly #batchMaxWaitMs: number;
  readonly #maxEventBytes: number;
  readonly #consumerName: string;
  readonly #ackWaitMs: number;
  readonly #streams: StreamOptions;
  readonly #failpoint: HubConfig['failpoint'];
  readonly #timeRange: TimeRange;
  readonly #budget: ByteBudget;
  readonly #clusterCap: ClusterCap;
  readonly #health: PipelineHealth;
  readonly #insertStage: InsertStage<StoredEvent>;
  readonly #counts = {
    consumed: 0,
    stored: 0,
    duplicates: 0,
    deadLetters: 0,
    republished: 0,
    storeErrors: 0,
  };
  #messages: ConsumerMessages | undefined;
  readonly #storeStage = new Serial();
  readonly #publishStage = new Serial();
  /** Identities of batches still being processed; their messages stay unacked until stored. */
  readonly #inFlight = new Set<string>();
  readonly #batchesInFlight = new Set<Promise<void>>();
  #running: Promise<void> | undefined;
  #stopping = false;
  readonly #stopped = new AbortController();
  #consuming = false;
  #lagTimer: NodeJS.Timeout | undefined;

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
    this.#recent = new RecentIdentities(config.dedupeCacheSize ?? 200_000);
    this.#batchSize = config.batchSize ?? 2000;
    this.#batchMaxWaitMs = config.batchMaxWaitMs ?? 100;
    this.#maxEventBytes = config.maxEventBytes ?? 1_048_576;
    this.#consumerName = config.consumerName ?? 'argus-hub';
    this.#ackWaitMs = config.ackWaitMs ?? 30_000;
    this.#streams = config.streams ?? {};
    this.metrics = config.metrics ?? new HubMetrics();
    this.#failpoint = config.failpoint;
    this.#timeRange = config.timeRange ?? new TimeRange();
    this.#budget = new ByteBudget(config.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES);
    this.#clusterCap = new ClusterCap(config.maxClustersPerInstance);
    this.#health = new PipelineHealth(
      config.stallAfterMs === undefined ? {} : { stallAfterMs: config.stallAfterMs },
    );
    this.#insertStage = new InsertStage<StoredEvent>({
      store: this.#store,
      logger: this.#logger,
      failInsertsUntil: config.failInsertsUntil ?? 0,
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
    await ensureHubConsumer(jsm, {
      durableName: this.#consumerName,
      ackWaitMs: this.#ackWaitMs,
      maxAckPending: Math.max(this.#batchSize * 4, 1000),
    });
    this.#running = this.#consumeLoop();
    this.#lagTimer = setInterval(() => void this.#pollLag(jsm), 5000);
    this.#lagTimer.unref();
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

  /** Stops consuming and waits for the batch in hand to finish (stored and acked, or left for redelivery). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#stopped.abort();
    clearInterval(this.#lagTimer);
    this.#messages?.stop();
    await this.#running;
    this.#publisher.close();
    this.#logger.info(this.stats(), 'hub stopped');
  }

  get consuming(): boolean {
    return this.#consuming;
  }

  /** Why the pipeline is not getting events through (a stage failing, a schema problem); empty when it is. */
  readiness(): string[] {
    return this.#health.reasons();
  }

  /** Bytes of messages held now, and the most held at once since the start. */
  inFlightBytes(): { held: number; peak: number; limit: number } {
    return { held: this.#budget.held, peak: this.#budget.peak, limit: this.#budget.limit };
  }

  stats(): HubStats {
    return { ...this.#counts };
  }

  async #pollLag(jsm: JetStreamManager): Promise<void> {
    try {
      const info = await jsm.consumers.info(RAW_STREAM, this.#consumerName);
      this.metrics.consumerLag.set(info.num_pending);
    } catch {
      // Lag is informational; NATS being away is reported by readiness.
    }
  }

  async #consumeLoop(): Promise<void> {
    let delay = 250;
    while (!this.#stopping) {
      try {
        const consumer = await this.#js.consumers.get(RAW_STREAM, this.#consumerName);
        // Short pull expiries: after a JetStream leader change a pull request can be lost, and the client
        // only notices when it expires (30 s by default); 5 s bounds how long the hub stalls.
        const collector = new BatchCollector<JsMsg>(
          this.#batchSize,
          this.#batchMaxWaitMs,
          (batch) => this.#submit(batch),
          // Batches share the budget, so the three in flight never wait on one that holds it all.
          { maxBytes: Math.ceil(this.#budget.limit / MAX_BATCHES_IN_FLIGHT), sizeOf: messageBytes },
        );
        // Pulls bounded by bytes, read as an iterator: nats.js sends the next pull only when the
        // messages before it have been read, so a full budget stops the pulling too (a callback
        // cannot push back: 8,000 unacked 900 KB messages were read into memory that way).
        const messages = await consumer.consume({
          max_bytes: pullMaxBytes(this.#budget.limit, this.#nc.info?.max_payload ?? 1_048_576),
          expires: 5000,
        });
        this.#messages = messages;
        this.#consuming = true;
        delay = 250;
        for await (const msg of messages) {
          this.#budget.take(messageBytes(msg));
          collector.push(msg);
          if (this.#budget.exhausted) await this.#budget.available();
        }
        const ended = await messages.closed();
        // What arrived before the end is processed either way: acks of a consumer that is gone are
        // ignored by JetStream, which then redelivers.
        await collector.flush();
        await Promise.all(this.#batchesInFlight);
        if (ended instanceof Error) throw ended;
      } catch (err) {
        if (this.#stopping) break;
        this.#logger.warn({ err, retryInMs: delay }, 'consuming failed; retrying');
        await sleep(delay);
        delay = Math.min(delay * 2, 10_000);
      } finally {
        this.#consuming = false;
      }
    }
  }

  /**
   * Retries a stage until it succeeds, recording its failures and successes for readiness.
   * `kindOf` tells a failure no retry can mend without an operator (`schema`) from the others.
   */
  #retry<T>(
    what: string,
    fn: () => Promise<T>,
    batch: readonly JsMsg[],
    kindOf: (error: unknown) => FailureKind = () => 'transient',
    onError?: () => void,
  ): Promise<T> {
    return retryUntilDone(
      async () => {
        const result = await fn();
        this.#health.succeeded(what);
        return result;
      },
      {
        what,
        logger: this.#logger,
        stopped: () => this.#stopping,
        stopSignal: this.#stopped.signal,
        // Tell JetStream the batch is in progress, so it is not redelivered to another replica meanwhile.
        onWait: () => {
          for (const msg of batch) msg.working();
        },
        onError: (error) => {
          const kind = kindOf(error);
          this.#health.failed(what, kind, error);
          if (kind === 'schema') {
            this.#logger.error(
              { err: error, what, messages: batch.length },
              'ClickHouse refuses the hub for a schema, settings or storage problem: nothing is stored until an operator fixes it (the batch is kept and retried; /readyz says not ready)',
            );
          }
          onError?.();
        },
      },
    );
  }

  /** Starts a batch and returns once fewer than MAX_BATCHES_IN_FLIGHT are being processed. */
  async #submit(batch: JsMsg[]): Promise<void> {
    let bytes = 0;
    for (const msg of batch) bytes += messageBytes(msg);
    const work = this.#processBatch(batch)
      .catch((err: unknown) => {
        // Its messages stay unacked: JetStream redelivers them after ack_wait.
        if (!this.#stopping)
          this.#logger.error({ err, messages: batch.length }, 'batch failed; left for redelivery');
      })
      .finally(() => this.#budget.release(bytes));
    this.#batchesInFlight.add(work);
    void work.finally(() => this.#batchesInFlight.delete(work));
    if (this.#batchesInFlight.size >= MAX_BATCHES_IN_FLIGHT) await Promise.race(this.#batchesInFlight);
  }

  async #processBatch(batch: JsMsg[]): Promise<void> {
    const endTimer = this.metrics.batchSeconds.startTimer();
    this.metrics.batchSize.observe(batch.length);
    this.#counts.consumed += batch.length;
    this.metrics.consumed.inc(batch.length);
    const receivedAt = new Date();
    const stage = this.metrics.stageSeconds.startTimer({ stage: 'validate' });
    const accepted: Accepted[] = [];
    const rejected: { msg: JsMsg; rejection: RejectedMessage }[] = [];
    const inBatch = new Set<string>();
    for (const msg of batch) {
      try {
        const outcome = this.#admit(msg, inBatch, receivedAt);
        if (outcome instanceof RejectedMessage) rejected.push({ msg, rejection: outcome });
        else if (outcome !== undefined) accepted.push(outcome);
      } catch (err) {
        // A bug, not bad input: dead-letter this message with what happened rather than leave the
        // whole batch (good events included) to be redelivered and fail again forever.
        this.#logger.error(
          { err, subject: msg.subject, seq: msg.info.streamSequence },
          'unexpected error on a message',
        );
        const error = err instanceof Error ? err : new Error(String(err));
        rejected.push({ msg, rejection: new RejectedMessage('internal-error', error.name, error.message) });
      }
    }

    stage();
    for (const a of accepted) this.#inFlight.add(a.stored.identity);
    try {
      const { refused, repeats } = await this.#storeStage.run(() => this.#storeBatch(batch, accepted));
      const stored =
        refused.size === 0 && repeats.size === 0 ? accepted : accepted.filter((a) => !refused.has(a));
      for (const [a, rejection] of refused) rejected.push({ msg: a.msg, rejection });
      const toPublish = repeats.size === 0 ? stored : stored.filter((a) => !repeats.has(a));
      await this.#publishStage.run(() => this.#publishBatch(batch, toPublish, rejected));
      const ack = this.metrics.stageSeconds.startTimer({ stage: 'ack' });
      for (const msg of batch) msg.ack();
      for (const a of stored) this.#recent.add(a.stored.identity);
      ack();
    } finally {
      for (const a of accepted) this.#inFlight.delete(a.stored.identity);
    }
    endTimer();
    this.#logger.debug(
      { messages: batch.length, accepted: accepted.length, refused: rejected.length },
      'batch done',
    );
  }

  /** Validates, de-duplicates and tags one message: its row, its refusal, or undefined for a repeat. */
  #admit(msg: JsMsg, inBatch: Set<string>, receivedAt: Date): Accepted | RejectedMessage | undefined {
    const headers = receivedHeaders(msg);
    const result = validateMessage(
      { subject: msg.subject, headers, data: msg.data },
      this.#maxEventBytes,
      this.#timeRange,
      receivedAt.getTime(),
    );
    if (result instanceof RejectedMessage) return result;
    if (
      this.#recent.has(result.identity) ||
      this.#inFlight.has(result.identity) ||
      inBatch.has(result.identity)
    ) {
      this.#countDuplicate('recent');
      return undefined;
    }
    const destination = headers?.get(HEADERS.cluster) ?? '';
    const tags = tagEvent(
      this.#registry,
      result.instance,
      destination === '' ? undefined : destination,
      result.validated.event.context.source,
    );
    if (tags instanceof RejectedMessage) return tags;
    const tooMany = this.#clusterCap.refusal(tags.instance, tags.cluster);
    if (tooMany !== undefined) return new RejectedMessage('too-many-clusters', 'ClusterLimit', tooMany);
    const { event, specVersion } = result.validated;
    const row = toEventRow({
      event,
      subjectType: result.subjectType,
      predicate: result.predicate,
      specVersion,
      identity: result.identity,
      raw: decoder.decode(result.body),
      tags,
      receivedAt,
    });
    const stored = prepareStoredEvent(result, row);
    if (stored instanceof RejectedMessage) return stored;
    inBatch.add(result.identity);
    return { msg, stored };
  }

  /**
   * Stores what is not stored yet: redelivered identities are looked up first (a crash between insert
   * and ack). Returns the events ClickHouse refused as data, each with its refusal.
   */
  async #storeBatch(batch: readonly JsMsg[], accepted: readonly Accepted[]): Promise<StoreOutcome> {
    const lookup = this.metrics.stageSeconds.startTimer({ stage: 'lookup' });
    const redelivered = accepted.filter((a) => a.msg.info.redelivered).map((a) => a.stored.identity);
    const alreadyStored =
      redelivered.length === 0
        ? new Set<string>()
        : await this.#retry(
            'look up redelivered events',
            () => this.#store.existingIdentities(redelivered),
            batch,
            storeFailureKind,
          );
    // A first delivery the recent-identity cache does not know may still repeat an event stored long
    // ago (a restart empties the cache; JetStream's window is 15 minutes; producers without message
    // ids have none): stored and republished then, it is neither now. One query a batch, within the
    // batch's time range (a repeat has its event's timestamp).
    const fresh = accepted.filter((a) => !a.msg.info.redelivered);
    const repeats = new Set<Accepted>();
    if (fresh.length > 0) {
      let since = fresh[0]?.stored.row.timestamp ?? '';
      let until = since;
      for (const a of fresh) {
        const t = a.stored.row.timestamp;
        if (t < since) since = t;
        if (t > until) until = t;
      }
      const stored = await this.#retry(
        'look up repeated events',
        () =>
          this.#store.existingIdentities(
            fresh.map((a) => a.stored.identity),
            { since, until },
          ),
        batch,
        storeFailureKind,
      );
      for (const a of fresh) {
        if (!stored.has(a.stored.identity)) continue;
        repeats.add(a);
        alreadyStored.add(a.stored.identity);
      }
    }
    const toInsert = accepted.filter((a) => !alreadyStored.has(a.stored.identity));
    for (let i = 0; i < alreadyStored.size; i++) this.#countDuplicate('store');
    lookup();
    if (toInsert.length === 0) return { refused: new Map(), repeats };
    const insert = this.metrics.stageSeconds.startTimer({ stage: 'insert' });
    const storedRefused = await this.#insertStage.insert(
      toInsert.map((a) => a.stored),
      (what, fn) =>
        this.#retry(what, fn, batch, storeFailureKind, () => {
          this.#counts.storeErrors++;
          this.metrics.storeErrors.inc();
        }),
    );
    const refused = new Map<Accepted, RejectedMessage>();
    for (const a of toInsert) {
      const rejection = storedRefused.get(a.stored);
      if (rejection !== undefined) refused.set(a, rejection);
    }
    const rows = toInsert.filter((a) => !refused.has(a)).map((a) => a.stored.row);
    this.#counts.stored += rows.length;
    // One labelled increment per type and batch: prom-client hashes the labels on every call.
    const byType = new Map<string, number>();
    for (const row of rows) {
      const type = metricTypeLabel(row.type);
      byType.set(type, (byType.get(type) ?? 0) + 1);
    }
    for (const [type, n] of byType) this.metrics.stored.inc({ type }, n);
    insert();
    if (this.#failpoint === 'kill-after-insert') {
      this.#logger.warn({ rows: rows.length }, 'failpoint kill-after-insert: SIGKILL before ack');
      process.kill(process.pid, 'SIGKILL');
    }
    return { refused, repeats };
  }

  /** Dead letters first (their originals may then be acked), then the stored events on the unified stream. */
  async #publishBatch(
    batch: readonly JsMsg[],
    accepted: readonly Accepted[],
    rejected: readonly { msg: JsMsg; rejection: RejectedMessage }[],
  ): Promise<void> {
    if (rejected.length > 0) {
      const deadLetters = this.metrics.stageSeconds.startTimer({ stage: 'dead-letter' });
      await this.#retry(
        'publish dead letters',
        () =>
          Promise.all(
            rejected.map(({ msg, rejection }) =>
              publishDeadLetter(
                this.#js,
                {
                  subject: msg.subject,
                  data: msg.data,
                  headers: receivedHeaderPairs(msg),
                  sequence: msg.info.streamSequence,
                },
                rejection,
                this.#nc.info?.max_payload,
              ),
            ),
          ),
        batch,
      );
      for (const { msg, rejection } of rejected) {
        this.#counts.deadLetters++;
        this.metrics.deadLetters.inc({ reason: rejection.reason });
        this.#logger.warn(
          {
            reason: rejection.reason,
            detail: rejection.message,
            subject: msg.subject,
            seq: msg.info.streamSequence,
          },
          'message refused; sent to CDEVENTS_DLQ',
        );
      }
      deadLetters();
    }
    if (accepted.length === 0) return;
    const publish = this.metrics.stageSeconds.startTimer({ stage: 'republish' });
    const acks = await this.#retry(
      'republish on CDEVENTS',
      () =>
        republish(
          this.#publisher,
          accepted.map((a) => a.stored),
        ),
      batch,
    );
    const fresh = acks.filter((a) => !a.duplicate).length;
    this.#counts.republished += fresh;
    this.metrics.republished.inc(fresh);
    publish();
  }

  #countDuplicate(layer: 'recent' | 'store'): void {
    this.#counts.duplicates++;
    this.metrics.duplicates.inc({ layer });
  }
}
