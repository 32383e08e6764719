/** A batch's byte limit: closes it once its items' sizes add up to `maxBytes` or more. */
export interface BatchBytes<T> {
  readonly maxBytes: number;
  readonly sizeOf: (item: T) => number;
}

/**
 * Groups messages into batches: a batch closes when it holds `maxSize` messages (or `bytes.maxBytes`
 * bytes) or `maxWaitMs` after its first message, whichever comes first. Closed batches are handed to `handle` one at a time, in
 * order; the next is handed over when `handle` settles (the hub's `handle` resolves once it has room
 * for another batch in flight). `handle` deals with its own failures: a rejection does not hold up
 * the batches behind it.
 *
 * Messages are pushed synchronously: one timer per batch rather than a promise, a timer and a race
 * per message as reading an async iterator with a deadline costs. What waits here is bounded by the
 * caller (the hub's byte budget, and the consumer's max_ack_pending).
 */
export class BatchCollector<T> {
  readonly #maxSize: number;
  readonly #maxWaitMs: number;
  readonly #handle: (batch: T[]) => Promise<void>;
  readonly #bytes: BatchBytes<T> | undefined;
  #current: T[] = [];
  #currentBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #ready: T[][] = [];
  #draining: Promise<void> | undefined;

  constructor(
    maxSize: number,
    maxWaitMs: number,
    handle: (batch: T[]) => Promise<void>,
    bytes?: BatchBytes<T>,
  ) {
    this.#maxSize = maxSize;
    this.#maxWaitMs = maxWaitMs;
    this.#handle = handle;
    this.#bytes = bytes;
  }

  push(item: T): void {
    this.#current.push(item);
    if (this.#bytes !== undefined) this.#currentBytes += this.#bytes.sizeOf(item);
    if (
      this.#current.length >= this.#maxSize ||
      (this.#bytes !== undefined && this.#currentBytes >= this.#bytes.maxBytes)
    )
      this.#close();
    else if (this.#current.length === 1) this.#timer = setTimeout(() => this.#close(), this.#maxWaitMs);
  }

  /** Closes the batch being filled and resolves once every closed batch has been handed over. */
  async flush(): Promise<void> {
    this.#close();
    while (this.#draining !== undefined) await this.#draining;
  }

  /** Messages pushed and not yet handed over (closed batches waiting included). */
  get waiting(): number {
    return this.#current.length + this.#ready.reduce((n, b) => n + b.length, 0);
  }

  #close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#current.length === 0) return;
    this.#ready.push(this.#current);
    this.#current = [];
    this.#currentBytes = 0;
    this.#draining ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      for (let batch = this.#ready.shift(); batch !== undefined; batch = this.#ready.shift()) {
        await this.#handle(batch).catch(() => undefined);
      }
    } finally {
      this.#draining = undefined;
    }
  }
}
