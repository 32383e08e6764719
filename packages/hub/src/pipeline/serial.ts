/** Runs tasks one at a time in submission order: keeps inserts (and republishes) in batch order. */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  run<T>(task: () => Promise<T>): Promise<T> {
    this.#pending++;
    const result = this.#tail.then(task).finally(() => {
      this.#pending--;
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Undefined when no task is running or waiting; else resolves once none is (tasks added meanwhile included). */
  idle(): Promise<void> | undefined {
    if (this.#pending === 0) return undefined;
    return (async () => {
      while (this.#pending > 0) await this.#tail;
    })();
  }
}
