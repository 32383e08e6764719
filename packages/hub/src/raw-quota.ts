import { HEADERS, RAW_STREAM, RAW_SUBJECT_PREFIX, rawSubjectInstance } from '@argus/bus';
import { type Logger, type LongRunning, PeriodicTask, READY, type Readiness } from '@argus/runtime';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { fairShareTrim } from './fair-share.js';
import { RawTally } from './raw-tally.js';

/** Above this share of `max_bytes` the hub trims CDEVENTS_RAW... */
export const RAW_HIGH_WATER = 0.8;
/** ...down to this share. */
export const RAW_LOW_WATER = 0.6;
/** How often the raw stream's fill is looked at, in ms (one STREAM.INFO). */
export const RAW_QUOTA_INTERVAL_MS = 2_000;
/** A scan that has not reached the handled end by then is cut short (a stuck read must not stop the quota for good). */
const SCAN_TIMEOUT_MS = 120_000;
/** Purges cut an instance's messages at this granularity of bytes (one checkpoint each). */
const CHECKPOINT_BYTES = 256 * 1024;
/**
 * The counts are read again from the stream's start at least this often: another hub replica's purges
 * are not seen by this one's tally (it would count them still, and trim those instances more than their
 * share) until then.
 */
export const RAW_FULL_READ_EVERY_MS = 10 * 60_000;

export interface TrimReport {
  /** Bytes removed per instance (an estimate: payload, subject and headers of each message). */
  readonly trimmed: ReadonlyMap<string, number>;
  readonly streamBytesBefore: number;
  /** Handled messages read for this check: those since the previous check, all of them at the first. */
  readonly read: number;
}

/**
 * A per-producer quota on CDEVENTS_RAW (adversarial review 2, finding 19). The stream refuses new
 * messages when full (`discard: new`), so nothing unconsumed is ever dropped; publishers retry. What
 * fills it is history kept for replay, and one agent's flood would take everyone's room until it aged
 * out (7 days). When the stream passes RAW_HIGH_WATER of its `max_bytes`, the hub reads the headers of
 * the messages its consumer has handled since it last looked (all of them the first time: `RawTally`),
 * counts the bytes each instance (the subject's instance token, bound to its credentials) holds, and
 * purges the oldest of the largest holders, max-min fair, down to RAW_LOW_WATER. Instances under the
 * level keep all their history. NATS 2.9 cannot do this itself: `max_msgs_per_subject` counts exact
 * subjects, and an instance publishes on many.
 */
export class RawQuota extends PeriodicTask implements LongRunning {
  readonly #jsm: JetStreamManager;
  readonly #js: JetStreamClient;
  readonly #consumer: string;
  readonly #logger: Logger;
  readonly #onTrim: ((instance: string, bytes: number) => void) | undefined;
  #running = false;
  #tally = new RawTally(CHECKPOINT_BYTES);
  /** When the tally last counted the stream from its start (epoch ms); 0: never. */
  #fullReadAt = 0;
  /** Since when checks have been failing (epoch ms): the first failure is logged, not each one. */
  #failingSince: number | undefined;
  readonly #intervalMs: number;
  readonly #fullReadEveryMs: number;

  constructor(options: {
    jsm: JetStreamManager;
    js: JetStreamClient;
    consumer: string;
    logger: Logger;
    onTrim?: (instance: string, bytes: number) => void;
    /** @default RAW_QUOTA_INTERVAL_MS */
    intervalMs?: number;
    /** @default RAW_FULL_READ_EVERY_MS */
    fullReadEveryMs?: number;
  }) {
    super(options.intervalMs ?? RAW_QUOTA_INTERVAL_MS);
    this.#intervalMs = options.intervalMs ?? RAW_QUOTA_INTERVAL_MS;
    this.#fullReadEveryMs = options.fullReadEveryMs ?? RAW_FULL_READ_EVERY_MS;
    this.#jsm = options.jsm;
    this.#js = options.js;
    this.#consumer = options.consumer;
    this.#logger = options.logger.child({ component: 'raw-quota' });
    this.#onTrim = options.onTrim;
  }

  protected async tick(): Promise<void> {
    try {
      await this.check();
      if (this.#failingSince !== undefined) {
        this.#logger.info(
          { failedForMs: Date.now() - this.#failingSince },
          'raw stream quota check works again',
        );
        this.#failingSince = undefined;
      }
    } catch (err) {
      // Every tick while NATS is away fails the same way: once is enough.
      if (this.#failingSince !== undefined) return;
      this.#failingSince = Date.now();
      this.#logger.warn(
        { err, retryEveryMs: this.#intervalMs },
        'raw stream quota check failed; trying again (logged again once it works)',
      );
    }
  }

  /** Trimming is housekeeping: the raw stream being full shows in the publishers' errors, not here. */
  status(): Readiness {
    return READY;
  }

  /** Trims the raw stream if it is above the high-water mark; undefined when there was nothing to do. */
  async check(): Promise<TrimReport | undefined> {
    if (this.#running) return undefined;
    this.#running = true;
    try {
      return await this.#check();
    } finally {
      this.#running = false;
    }
  }

  async #check(): Promise<TrimReport | undefined> {
    const info = await this.#jsm.streams.info(RAW_STREAM);
    const max = info.config.max_bytes;
    if (max <= 0 || info.state.bytes < RAW_HIGH_WATER * max) return undefined;
    const consumer = await this.#jsm.consumers.info(RAW_STREAM, this.#consumer);
    const floor = consumer.ack_floor.stream_seq;
    if (floor < info.state.first_seq) {
      this.#logger.warn(
        { bytes: info.state.bytes, maxBytes: max },
        'CDEVENTS_RAW is nearly full of messages the hub has not handled yet: nothing to trim; publishers are refused until the hub catches up',
      );
      return undefined;
    }
    // What left the stream since the last check is taken off. Counted again from the stream's first
    // message: at the first check, when all it knew is gone, and every RAW_FULL_READ_EVERY_MS.
    const first = info.state.first_seq;
    if (this.#tally.readTo + 1 < first || Date.now() - this.#fullReadAt > this.#fullReadEveryMs) {
      this.#tally = new RawTally(CHECKPOINT_BYTES, first - 1);
      this.#fullReadAt = Date.now();
    } else this.#tally.startsAt(first);
    const read = floor > this.#tally.readTo ? await this.#read(this.#tally.readTo + 1, floor) : 0;
    // A read cut short by a stop: trim nothing now (what it read stays counted).
    if (this.stopping.aborted) return undefined;
    const totals = this.#tally.totals();
    let consumedBytes = 0;
    for (const bytes of totals.values()) consumedBytes += bytes;
    const excess = info.state.bytes - RAW_LOW_WATER * max;
    const target = Math.max(0, consumedBytes - excess);
    const trimmed = new Map<string, number>();
    for (const [instance, bytes] of fairShareTrim(totals, target)) {
      const cut = this.#tally.cutFor(instance, bytes);
      if (cut === undefined) continue;
      await this.#jsm.streams.purge(RAW_STREAM, {
        filter: `${RAW_SUBJECT_PREFIX}.${instance}.>`,
        seq: cut[0] + 1,
      });
      this.#tally.purged(instance, cut);
      trimmed.set(instance, cut[1]);
      this.#onTrim?.(instance, cut[1]);
    }
    if (trimmed.size > 0) {
      this.#logger.warn(
        { trimmed: Object.fromEntries(trimmed), streamBytes: info.state.bytes, maxBytes: max, read },
        'CDEVENTS_RAW nearly full: purged the oldest handled messages of the instances holding the most (their events are stored; only replay history is lost)',
      );
    }
    return { trimmed, streamBytesBefore: info.state.bytes, read };
  }

  /** Adds the messages from `first` to `floor` to the tally, read headers only; returns how many were read. */
  async #read(first: number, floor: number): Promise<number> {
    const consumer = await this.#js.consumers.get(RAW_STREAM, {
      headers_only: true,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: first,
    });
    const messages = await consumer.consume();
    const timer = setTimeout(() => messages.stop(), SCAN_TIMEOUT_MS);
    // A stop ends the read at once (it may read for up to SCAN_TIMEOUT_MS).
    const stop = () => messages.stop();
    this.stopping.addEventListener('abort', stop, { once: true });
    let read = 0;
    try {
      for await (const msg of messages) {
        if (msg.seq > floor) break;
        read++;
        const instance = rawSubjectInstance(msg.subject);
        if (instance === undefined) {
          this.#tally.readUpTo(msg.seq);
        } else {
          let size = Number(msg.headers?.get(HEADERS.msgSize) ?? 0) + msg.subject.length;
          for (const [name, values] of msg.headers ?? []) {
            for (const value of values) size += name.length + value.length + 4;
          }
          this.#tally.add(instance, msg.seq, size);
        }
        if (msg.seq >= floor || msg.info.pending === 0) break;
      }
    } finally {
      clearTimeout(timer);
      this.stopping.removeEventListener('abort', stop);
      await messages.close();
    }
    return read;
  }
}
