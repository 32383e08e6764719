import { HEADERS, RAW_STREAM, RAW_SUBJECT_PREFIX, rawSubjectInstance } from '@argus/bus';
import { type Logger, type LongRunning, PeriodicTask, READY, type Readiness } from '@argus/runtime';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { fairShareTrim } from './fair-share.js';

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

interface Held {
  bytes: number;
  lastSeq: number;
  /** `[sequence, bytes up to and including it]`, every CHECKPOINT_BYTES. */
  readonly checkpoints: [number, number][];
}

export interface TrimReport {
  /** Bytes removed per instance (an estimate: payload, subject and headers of each message). */
  readonly trimmed: ReadonlyMap<string, number>;
  readonly streamBytesBefore: number;
}

/**
 * A per-producer quota on CDEVENTS_RAW (adversarial review 2, finding 19). The stream refuses new
 * messages when full (`discard: new`), so nothing unconsumed is ever dropped; publishers retry. What
 * fills it is history kept for replay, and one agent's flood would take everyone's room until it aged
 * out (7 days). When the stream passes RAW_HIGH_WATER of its `max_bytes`, the hub reads the headers of
 * the messages its consumer has already handled, counts the bytes each instance (the subject's
 * instance token, bound to its credentials) holds, and purges the oldest of the largest holders, max-min
 * fair, down to RAW_LOW_WATER. Instances under the level keep all their history. NATS 2.9 cannot do this
 * itself: `max_msgs_per_subject` counts exact subjects, and an instance publishes on many.
 */
export class RawQuota extends PeriodicTask implements LongRunning {
  readonly #jsm: JetStreamManager;
  readonly #js: JetStreamClient;
  readonly #consumer: string;
  readonly #logger: Logger;
  readonly #onTrim: ((instance: string, bytes: number) => void) | undefined;
  #running = false;
  /** Since when checks have been failing (epoch ms): the first failure is logged, not each one. */
  #failingSince: number | undefined;
  readonly #intervalMs: number;

  constructor(options: {
    jsm: JetStreamManager;
    js: JetStreamClient;
    consumer: string;
    logger: Logger;
    onTrim?: (instance: string, bytes: number) => void;
    /** @default RAW_QUOTA_INTERVAL_MS */
    intervalMs?: number;
  }) {
    super(options.intervalMs ?? RAW_QUOTA_INTERVAL_MS);
    this.#intervalMs = options.intervalMs ?? RAW_QUOTA_INTERVAL_MS;
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
    const held = await this.#scan(info.state.first_seq, floor);
    // A scan cut short by a stop counted only part of the stream: trim nothing on it.
    if (this.stopping.aborted) return undefined;
    let consumedBytes = 0;
    for (const h of held.values()) consumedBytes += h.bytes;
    const excess = info.state.bytes - RAW_LOW_WATER * max;
    const target = Math.max(0, consumedBytes - excess);
    const totals = new Map([...held].map(([instance, h]) => [instance, h.bytes]));
    const trimmed = new Map<string, number>();
    for (const [instance, bytes] of fairShareTrim(totals, target)) {
      const h = held.get(instance);
      if (h === undefined) continue;
      // The first checkpoint that removes enough; the last message handled if none does.
      const cut = h.checkpoints.find(([, upTo]) => upTo >= bytes) ?? [h.lastSeq, h.bytes];
      await this.#jsm.streams.purge(RAW_STREAM, {
        filter: `${RAW_SUBJECT_PREFIX}.${instance}.>`,
        seq: cut[0] + 1,
      });
      trimmed.set(instance, cut[1]);
      this.#onTrim?.(instance, cut[1]);
    }
    if (trimmed.size > 0) {
      this.#logger.warn(
        { trimmed: Object.fromEntries(trimmed), streamBytes: info.state.bytes, maxBytes: max },
        'CDEVENTS_RAW nearly full: purged the oldest handled messages of the instances holding the most (their events are stored; only replay history is lost)',
      );
    }
    return { trimmed, streamBytesBefore: info.state.bytes };
  }

  /** Bytes per instance of the messages from `first` to `floor`, read headers only. */
  async #scan(first: number, floor: number): Promise<Map<string, Held>> {
    const held = new Map<string, Held>();
    const consumer = await this.#js.consumers.get(RAW_STREAM, {
      headers_only: true,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: first,
    });
    const messages = await consumer.consume();
    const timer = setTimeout(() => messages.stop(), SCAN_TIMEOUT_MS);
    // A stop ends the scan at once (it may read for up to SCAN_TIMEOUT_MS).
    const stop = () => messages.stop();
    this.stopping.addEventListener('abort', stop, { once: true });
    try {
      for await (const msg of messages) {
        if (msg.seq > floor) break;
        const instance = rawSubjectInstance(msg.subject);
        if (instance !== undefined) {
          let size = Number(msg.headers?.get(HEADERS.msgSize) ?? 0) + msg.subject.length;
          for (const [name, values] of msg.headers ?? []) {
            for (const value of values) size += name.length + value.length + 4;
          }
          let h = held.get(instance);
          if (h === undefined) {
            h = { bytes: 0, lastSeq: msg.seq, checkpoints: [] };
            held.set(instance, h);
          }
          h.bytes += size;
          h.lastSeq = msg.seq;
          const last = h.checkpoints.at(-1)?.[1] ?? 0;
          if (h.bytes - last >= CHECKPOINT_BYTES) h.checkpoints.push([msg.seq, h.bytes]);
        }
        if (msg.seq >= floor || msg.info.pending === 0) break;
      }
    } finally {
      clearTimeout(timer);
      this.stopping.removeEventListener('abort', stop);
      await messages.close();
    }
    return held;
  }
}
