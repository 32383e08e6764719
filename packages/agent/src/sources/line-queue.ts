/** What a LineQueue read gives: a value, the end of the stream, or nothing within the wait asked for. */
export type QueueRead<T> = { readonly value: T } | { readonly done: true } | { readonly idle: true };

/**
 * Values read from a stream by a pump of their own, for a consumer that must sometimes stop waiting
 * (Argo CD's stream says nothing, not even its headers, while nothing changes). Holds at most
 * `highWater` values: past that the pump waits, so the socket stops being read and the server is held
 * back by TCP flow control instead of filling this process's memory.
 */
export class LineQueue<T> {
  readonly #values: T[] = [];
  readonly #highWater: number;
  #ended = false;
  #error: unknown;
  #wakeConsumer: (() => void) | undefined;
  #wakePump: (() => void) | undefined;

  constructor(highWater = 64) {
    this.#highWater = highWater;
  }

  /** Feeds the queue from an async iterable until it ends, fails or `signal` aborts. */
  async pump(source: Promise<AsyncIterable<T>>, signal: AbortSignal): Promise<void> {
    try {
      for await (const value of await source) {
        if (signal.aborted) break;
        this.#values.push(value);
        this.#wakeConsumer?.();
        while (this.#values.length >= this.#highWater && !signal.aborted) {
          await new Promise<void>((resolve) => {
            this.#wakePump = resolve;
          });
        }
      }
    } catch (err) {
      this.#error = err;
    }
    this.#ended = true;
    this.#wakeConsumer?.();
  }

  /** The next value; `idle` when none came within `waitMs` (no limit without it). Throws what the pump met. */
  async next(waitMs?: number): Promise<QueueRead<T>> {
    for (;;) {
      const value = this.#values.shift();
      if (value !== undefined) {
        this.#wakePump?.();
        return { value };
      }
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error;
        return { done: true };
      }
      let timer: NodeJS.Timeout | undefined;
      const woken = await new Promise<boolean>((resolve) => {
        this.#wakeConsumer = () => resolve(true);
        if (waitMs !== undefined) timer = setTimeout(() => resolve(false), waitMs);
      });
      clearTimeout(timer);
      this.#wakeConsumer = undefined;
      if (!woken) return { idle: true };
    }
  }
}
