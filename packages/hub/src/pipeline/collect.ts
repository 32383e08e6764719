/** A batch's byte limit: closes it once its items' sizes add up to `maxBytes` or more. */
export interface BatchBytes<T> {
  readonly maxBytes: number;
  readonly sizeOf: (item: T) => number;
}

/**
 * Groups messages into batches: a batch closes when it holds `maxSize` messages (or `bytes.maxBytes`
 * bytes), or `maxWaitMs` after its first message once `busy` says the stage batches queue for is free.
 * Closed batches are handed to `handle` one at a time, in order; the next is handed over when `handle`
 * settles (the hub's `handle` resolves once it has room for another batch in flight). `handle` deals
 * with its own failures: a rejection does not hold up the batches behind it.
 *
 * A batch whose wait is over while that stage is busy stays open, takes what arrives meanwhile, and
 * closes when the stage is free (or when full). Closed at its wait regardless, a hub slower than its
 * input queued one small batch per wait, each paying a whole insert's fixed cost: at 5,000 events/s
 * offered, batches of ~260 kept it to ~2,200/s at most (docs/benchmarks.md, 2026-12-07). Waiting for a free slot in
 * `handle` instead was not enough: the slots stayed full, each batch queued behind two others, and
 * latency at 1,000 events/s tripled after a burst.
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
  readonly #busy: () => Promise<void> | undefined;
  #current: T[] = [];
  #currentBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The current batch's wait is over: it closes as soon as the stage `busy` watches is free. */
  #due = false;
  readonly #ready: T[][] = [];
  #draining: Promise<void> | undefined;

  constructor(
    maxSize: number,
    maxWaitMs: number,
    handle: (batch: T[]) => Promise<void>,
    bytes?: BatchBytes<T>,
    /** Undefined when the stage batches queue for is free, else a promise of when it will be. @default always free */
    busy: () => Promise<void> | undefined = () => undefined,
  ) {
    this.#busy = busy;
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
    else if (this.#current.length === 1) this.#timer = setTimeout(() => this.#waited(), this.#maxWaitMs);
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

  #waited(): void {
    this.#timer = undefined;
    const free = this.#busy();
    if (free === undefined) {
      this.#close();
      return;
    }
    this.#due = true;
    // A batch closed when full meanwhile cleared `#due`; its successor waits for its own time.
    void free.then(() => {
      if (this.#due) this.#close();
    });
  }

  #close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = false;
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
