import { sleep } from '@argus/runtime';
import type { Logger } from 'pino';
import type { ByteBudget } from './budget.js';
import { BatchCollector } from './collect.js';
import { hubBackoff } from './retry.js';

/** Default most messages per batch, and so per ClickHouse insert (`--batch-size`). */
export const DEFAULT_BATCH_SIZE = 2000;
/** Default longest wait to fill a batch, in ms (`--batch-max-wait`): what a lone event waits before it is stored. */
export const DEFAULT_BATCH_MAX_WAIT_MS = 100;

/** What the loop needs of a JetStream `ConsumerMessages`: the messages, their end, and a way to end them. */
export interface MessageStream<T> extends AsyncIterable<T> {
  /** Resolves when the messages end: with an Error when they ended on a failure. */
  closed(): Promise<unknown>;
  stop(): void;
}

export interface ConsumeLoopConfig<T> {
  /** Binds to the durable consumer and starts pulling (called again after each failure). */
  readonly open: () => Promise<MessageStream<T>>;
  readonly batchSize: number;
  readonly batchMaxWaitMs: number;
  readonly budget: ByteBudget;
  /** Batches being processed at once: each closes at its share of the budget, so none waits on another holding it all. */
  readonly batchesInFlight: number;
  readonly sizeOf: (message: T) => number;
  /** The stage batches queue for: see `BatchCollector`'s `busy`. */
  readonly busy?: () => Promise<void> | undefined;
  /** Starts a batch; resolves once there is room for another (see `BatchCollector`). */
  readonly submit: (batch: T[]) => Promise<void>;
  /** Resolves once every submitted batch has settled. */
  readonly drained: () => Promise<void>;
  readonly logger: Logger;
  /** Waits after a failure, in ms (tests shorten or lengthen them). @default RETRY_INITIAL_MS, RETRY_MAX_MS */
  readonly retryDelayMs?: { readonly initial: number; readonly max: number };
}

/**
 * The consume stage: pulls messages into batches within the byte budget, and binds again (with the
 * hub's backoff) when the consumer goes away. `stop()` ends the pulls and any wait at once; `closed()`
 * resolves when the loop has ended and the batches in hand have settled.
 */
export class ConsumeLoop<T> {
  readonly #config: ConsumeLoopConfig<T>;
  readonly #stop = new AbortController();
  #messages: MessageStream<T> | undefined;
  #consuming = false;
  #running: Promise<void> | undefined;

  constructor(config: ConsumeLoopConfig<T>) {
    this.#config = config;
  }

  /** True while bound to the consumer and pulling. */
  get consuming(): boolean {
    return this.#consuming;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** Ends the pulls (and a wait before binding again) at once. */
  stop(): Promise<void> {
    this.#stop.abort();
    this.#messages?.stop();
    return this.closed();
  }

  closed(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  async #run(): Promise<void> {
    const { budget, sizeOf, logger } = this.#config;
    const backoff = hubBackoff(this.#config.retryDelayMs?.initial, this.#config.retryDelayMs?.max);
    const stopping = this.#stop.signal;
    while (!stopping.aborted) {
      try {
        const collector = new BatchCollector<T>(
          this.#config.batchSize,
          this.#config.batchMaxWaitMs,
          this.#config.submit,
          { maxBytes: Math.ceil(budget.limit / this.#config.batchesInFlight), sizeOf },
          this.#config.busy,
        );
        const messages = await this.#config.open();
        this.#messages = messages;
        // A stop while the consumer was being bound: its messages() was not there to stop.
        if (stopping.aborted) messages.stop();
        this.#consuming = true;
        backoff.reset();
        // Read as an iterator: nats.js sends the next pull only when the messages before it have been
        // read, so a full budget stops the pulling too (a callback cannot push back: 8,000 unacked
        // 900 KB messages were read into memory that way).
        for await (const msg of messages) {
          budget.take(sizeOf(msg));
          collector.push(msg);
          if (budget.exhausted) await budget.available();
        }
        const ended = await messages.closed();
        // What arrived before the end is processed either way: acks of a consumer that is gone are
        // ignored by JetStream, which then redelivers.
        await collector.flush();
        await this.#config.drained();
        if (ended instanceof Error) throw ended;
      } catch (err) {
        if (stopping.aborted) break;
        const delay = backoff.delay();
        logger.warn({ err, retryInMs: delay }, 'consuming failed; retrying');
        await sleep(delay, stopping);
      } finally {
        this.#consuming = false;
      }
    }
  }
}
