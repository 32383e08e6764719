import { appendFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  BatchPublisher,
  HEADERS,
  HeaderList,
  isPayloadTooLarge,
  jetStreamOf,
  maxPayloadProblem,
  publishRawMessage,
  type RawMessage,
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
import { Backoff, type Logger, type LongRunning, type Readiness, sleep, statusOf } from '@argus/runtime';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { AgentMetrics } from './metrics.js';
import { DEFAULT_MAX_SPOOL } from './options.js';
import { Outbox, type OutboxEntry, OutboxFullError, type SpooledMessage } from './state/outbox.js';
import type { ProgressStore } from './state/progress-store.js';
import type { EnvironmentsState } from './transitions/environments.js';
import { type AppProgress, readProgress } from './transitions/progress.js';

/**
 * Spooled entries published at once while a backlog drains (the first list of a large instance): their
 * publishes are pipelined and their progress written once all are acknowledged, instead of two round
 * trips per event (a first list of 20,000 apps: 31 -> 19-20 s of agent CPU, docs/benchmarks.md). A kill
 * repeats at most one batch, absorbed by `Nats-Msg-Id`. Bounded, as is what a batch holds in memory.
 */
export const PUBLISH_BATCH_MAX = 256;

/** JetStream ack timeout of a publish, alone or in a batch. */
const PUBLISH_TIMEOUT_MS = 5000;

/** The CloudEvents type attribute's header in NATS binary mode (`toNatsBinary`): the event's type without parsing it. */
const CE_TYPE_HEADER = 'ce-type';
const CE_ID_HEADER = 'ce-id';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A failed publish or progress write is tried again after 250 ms, doubling up to 5 s. */
const RETRY_INITIAL_MS = 250;
const RETRY_MAX_MS = 5000;

/**
 * Failures that retrying the same entry cannot cure: larger than the server's max_payload (refused
 * before it is sent), or an event spooled by an earlier version that no longer parses or cannot be
 * carried.
 */
const isUnpublishable = (err: unknown): err is Error =>
  isPayloadTooLarge(err) || err instanceof ValidationError || err instanceof BindingError;

export interface PublisherConfig {
  readonly nc: NatsConnection;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly instance: string;
  /** File of the on-disk spool; its dead letters go beside it (`dead-letters.jsonl`). */
  readonly spoolFile: string;
  /** @default DEFAULT_MAX_SPOOL */
  readonly maxSpool?: number | undefined;
  /** Where progress is saved once the events it follows are acknowledged (and the message-id key). */
  readonly store: ProgressStore;
}

/**
 * Publishes what the detection spools, in order, through the on-disk outbox: every event is turned
 * into its NATS message (subject, headers, JSON body) once, when it is spooled, and leaves the spool
 * only when JetStream acknowledged it and the progress it carries is saved in KV. A backlog drains in
 * batches; an entry that can never be published moves to the dead letters beside the spool.
 */
export class Publisher implements LongRunning {
  readonly #config: PublisherConfig;
  readonly #logger: Logger;
  readonly #js: JetStreamClient;
  readonly #batches: BatchPublisher;
  readonly #outbox: Outbox;
  #published = 0;
  #stopping = false;
  /** Aborted by stop: ends a retry's wait at once. */
  readonly #stopped = new AbortController();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  readonly #ended: Promise<void>;
  #end: () => void = () => undefined;

  private constructor(config: PublisherConfig, outbox: Outbox) {
    this.#ended = new Promise((resolve) => {
      this.#end = resolve;
    });
    this.#config = config;
    this.#logger = config.logger.child({ component: 'agent' });
    this.#js = jetStreamOf(config.nc);
    this.#batches = new BatchPublisher(config.nc, { timeoutMs: PUBLISH_TIMEOUT_MS });
    this.#outbox = outbox;
  }

  /** Opens the spool, keeping what a previous process left unacknowledged. */
  static async open(config: PublisherConfig): Promise<Publisher> {
    return new Publisher(config, await Outbox.open(config.spoolFile, config.maxSpool ?? DEFAULT_MAX_SPOOL));
  }

  get depth(): number {
    return this.#outbox.depth;
  }

  get published(): number {
    return this.#published;
  }

  /** What the spool holds, oldest first: it is ahead of KV (detected, not yet acknowledged). */
  pending(): AsyncGenerator<OutboxEntry> {
    return this.#outbox.pending();
  }

  /** Starts publishing in the background. */
  start(): void {
    this.#loop ??= this.#publishLoop();
  }

  /** Ends the publish loop (an unacknowledged entry stays for the next process) and closes the spool. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#stopped.abort();
    this.#wake?.();
    await this.#loop?.catch(() => undefined);
    this.#batches.close();
    await this.#outbox.close();
    this.#end();
  }

  /** Resolves once stopped: the publish loop has ended and the spool is closed. */
  closed(): Promise<void> {
    return this.#ended;
  }

  /** Ready when the spool is empty: everything detected is on the bus. */
  status(): Readiness {
    const { depth } = this;
    return statusOf(depth === 0 ? [] : [`spool: ${depth} events waiting for NATS`]);
  }

  /**
   * Queues an event (or, without one, a checkpoint: progress to save in its turn) behind everything
   * spooled before it, so progress is never saved ahead of the events it follows.
   */
  async spool(
    event: CDEvent | undefined,
    cluster: string,
    progress: AppProgress | undefined,
    environments: EnvironmentsState | undefined,
  ): Promise<void> {
    try {
      await this.#outbox.append({
        ...(event === undefined ? {} : this.#prepare(event, cluster)),
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
    this.#config.metrics.spoolDepth.set(this.#outbox.depth);
    this.#wake?.();
  }

  /** The event as it goes to NATS: its JSON body and the message's subject and headers, made once. */
  #prepare(event: CDEvent, cluster: string): Pick<OutboxEntry, 'event' | 'message'> {
    let message: RawMessage;
    try {
      message = rawMessage(event, this.#messageOptions(cluster));
    } catch (err) {
      if (!(err instanceof BindingError)) throw err;
      // An event NATS binary mode cannot carry: spooled as it is, dead-lettered in its turn.
      return { event: serialize(event) };
    }
    const headers: [string, string][] = [];
    for (const [name, values] of message.headers) for (const value of values) headers.push([name, value]);
    return { event: decoder.decode(message.data), message: { subject: message.subject, headers } };
  }

  #messageOptions(cluster: string) {
    return {
      instance: this.#config.instance,
      cluster,
      msgIdKey: this.#config.store.messageIdKey,
    };
  }

  /** The NATS message of a spooled entry: as spooled, or (an entry of an earlier version, the event alone) made now. */
  #messageOf(entry: OutboxEntry & { readonly event: string }): RawMessage {
    const spooled: SpooledMessage | undefined = entry.message;
    if (spooled === undefined) return rawMessage(parse(entry.event), this.#messageOptions(entry.cluster));
    const headers = new HeaderList();
    for (const [name, value] of spooled.headers) headers.append(name, value);
    return {
      subject: spooled.subject,
      headers,
      data: encoder.encode(entry.event),
      msgId: headers.get(HEADERS.msgId),
    };
  }

  async #publishLoop(): Promise<void> {
    const outbox = this.#outbox;
    const retry = new Backoff(RETRY_INITIAL_MS, RETRY_MAX_MS);
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
      if (entries.length > 1 && (await this.#publishBatch(entries))) {
        retry.reset();
        continue;
      }
      if (this.#stopping) break;
      const { event } = entry;
      if (event === undefined) {
        // A checkpoint: progress that moved without an event, saved in order.
        try {
          await this.#retire([entry]);
        } catch (err) {
          if (this.#stopping) break;
          const delay = retry.delay();
          this.#logger.warn({ err, retryInMs: delay }, 'saving progress failed; kept in the spool');
          await sleep(delay, this.#stopped.signal);
        }
        continue;
      }
      try {
        const message = this.#messageOf({ ...entry, event });
        const started = performance.now();
        const ack = await publishRawMessage(this.#js, message, {
          timeoutMs: PUBLISH_TIMEOUT_MS,
          connection: this.#config.nc,
        });
        this.#config.metrics.publishSeconds.observe((performance.now() - started) / 1000);
        if (ack.duplicate) this.#config.metrics.duplicates.inc();
        await this.#retire([entry]);
        this.#published++;
        const type = message.headers.get(CE_TYPE_HEADER);
        this.#logger.debug({ type, id: message.headers.get(CE_ID_HEADER) }, 'published');
        this.#config.metrics.events.inc({ type: metricTypeLabel(type) });
        retry.reset();
      } catch (err) {
        if (this.#stopping) break;
        // Retrying cannot help and would hold up every event behind this one. Should moving it fail
        // too (disk full, NATS away for the progress), the loop retries like any failed publish.
        if (isUnpublishable(err) && (await this.#deadLetter(entry, err))) continue;
        this.#config.metrics.publishErrors.inc();
        const delay = retry.delay();
        this.#logger.warn(
          { err, retryInMs: delay, spooled: outbox.depth },
          'publish failed; event kept in the spool',
        );
        await sleep(delay, this.#stopped.signal);
      }
    }
  }

  /**
   * Publishes the events of several spooled entries at once (in spool order on the one connection, so
   * JetStream stores them in that order) and retires them all once every one is acknowledged: the
   * entries up to the first that cannot be prepared or is over the server's max_payload, which then
   * comes first on its own. False, with nothing retired, when not even two entries make a batch or the
   * batch is not acknowledged whole: the caller then handles the oldest entry alone (acknowledged ones
   * repeat as duplicates, by `Nats-Msg-Id`).
   */
  async #publishBatch(entries: readonly OutboxEntry[]): Promise<boolean> {
    const messages: RawMessage[] = [];
    let taken = 0;
    for (const entry of entries) {
      if (entry.event !== undefined) {
        let message: RawMessage;
        try {
          message = this.#messageOf({ ...entry, event: entry.event });
        } catch {
          break;
        }
        if (maxPayloadProblem(this.#config.nc, message) !== undefined) break;
        messages.push(message);
      }
      taken++;
    }
    if (taken < 2) return false;
    const batch = entries.slice(0, taken);
    try {
      const started = performance.now();
      const acks = await this.#batches.publish(messages);
      const seconds = (performance.now() - started) / 1000;
      for (const ack of acks) {
        this.#config.metrics.publishSeconds.observe(seconds);
        if (ack.duplicate) this.#config.metrics.duplicates.inc();
      }
      await this.#retire(batch);
    } catch (err) {
      this.#logger.debug({ err, entries: batch.length }, 'batch not acknowledged whole; one at a time');
      return false;
    }
    this.#published += messages.length;
    for (const message of messages)
      this.#config.metrics.events.inc({ type: metricTypeLabel(message.headers.get(CE_TYPE_HEADER)) });
    return true;
  }

  /**
   * The oldest spooled entries are done with (published or dead-lettered): their progress saved (the
   * last of each app, and of the environments), then acked.
   */
  async #retire(entries: readonly OutboxEntry[]): Promise<void> {
    const { store } = this.#config;
    const apps = new Map<string, AppProgress>();
    let environments: unknown;
    for (const entry of entries) {
      const progress = readProgress(entry.progress);
      if (progress !== undefined) apps.set(progress.uid, progress);
      if (entry.environments !== undefined) environments = entry.environments;
    }
    await store.saveApps(apps.values());
    if (environments !== undefined) await store.saveEnvironments(environments as EnvironmentsState);
    await this.#outbox.ack(entries.length);
    this.#config.metrics.spoolDepth.set(this.#outbox.depth);
  }

  /**
   * Moves the oldest spooled entry, which can never be published, to `dead-letters.jsonl` beside the
   * spool with the reason, keeps its progress (so it is not derived and refused again), and goes on.
   */
  async #deadLetter(entry: OutboxEntry, err: Error): Promise<boolean> {
    const file = join(dirname(this.#config.spoolFile), 'dead-letters.jsonl');
    const reason = isPayloadTooLarge(err) ? err.reason : err.name;
    try {
      await appendFile(
        file,
        `${JSON.stringify({ at: new Date().toISOString(), reason, detail: err.message, entry })}\n`,
      );
      await this.#retire([entry]);
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
}
