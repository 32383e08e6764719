/**
 * Groups messages into batches: a batch closes when it holds `maxSize` messages or `maxWaitMs` after
 * its first message, whichever comes first. Closed batches are handed to `handle` one at a time, in
 * order; the next is handed over when `handle` settles (the hub's `handle` resolves once it has room
 * for another batch in flight). `handle` deals with its own failures: a rejection does not hold up
 * the batches behind it.
 *
 * Messages are pushed synchronously from the NATS client's callback: one timer per batch rather than
 * a promise, a timer and a race per message as reading an async iterator with a deadline costs. What
 * waits here is bounded by the consumer's max_ack_pending: JetStream delivers no more than that unacked.
 */
export class BatchCollector<T> {
  readonly #maxSize: number;
  readonly #maxWaitMs: number;
  readonly #handle: (batch: T[]) => Promise<void>;
  #current: T[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #ready: T[][] = [];
  #draining: Promise<void> | undefined;

  constructor(maxSize: number, maxWaitMs: number, handle: (batch: T[]) => Promise<void>) {
    this.#maxSize = maxSize;
    this.#maxWaitMs = maxWaitMs;
    this.#handle = handle;
  }

  push(item: T): void {
    this.#current.push(item);
    if (this.#current.length >= this.#maxSize) this.#close();
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
