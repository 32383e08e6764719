import type { Readiness } from './health.js';

/**
 * The shape of every long-running part of a process (nats.js `ConsumerMessages`: `close()`,
 * `closed()`, `status()`): `start` begins its work in the background, `stop` ends it and resolves
 * once it has ended, `closed` resolves when it has ended (after `stop`, or on its own), and `status`
 * answers at once what /readyz needs: ready, or why not.
 */
export interface LongRunning {
  start(): Promise<void> | void;
  stop(): Promise<void>;
  closed(): Promise<void>;
  status(): Readiness;
}

/** Ready with no reasons. */
export const READY: Readiness = Object.freeze({ ready: true, reasons: Object.freeze([]) });

/** A status from reasons: ready when there are none. */
export const statusOf = (reasons: readonly string[]): Readiness =>
  reasons.length === 0 ? READY : { ready: false, reasons };

/** The readiness of a process: every part's reasons, in order. */
export const readinessOf = (parts: readonly Pick<LongRunning, 'status'>[]): Readiness =>
  statusOf(parts.flatMap((p) => p.status().reasons));

/**
 * A task run every `intervalMs` in the background, never two at once: `run()` runs it now (the
 * caller may await a first result), `start` schedules it, `stop` clears the schedule and waits for
 * a run in progress (which `stopping` asks to end early). The timer is unref'd: it never keeps a process alive by itself. Parts that
 * poll (the store probe, the raw-stream quota) extend it and add their `status`.
 */
export abstract class PeriodicTask implements Omit<LongRunning, 'status'> {
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<void> | undefined;
  readonly #stopping = new AbortController();
  readonly #ended: Promise<void>;
  #end: () => void = () => undefined;

  /** A periodic task of a plain function. */
  static every(intervalMs: number, task: () => Promise<void>): PeriodicTask {
    return new (class extends PeriodicTask {
      protected tick(): Promise<void> {
        return task();
      }
    })(intervalMs);
  }

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
    this.#ended = new Promise((resolve) => {
      this.#end = resolve;
    });
  }

  /**
   * One run of the task; a rejection is ignored (a task reports its own failures). A long run ends
   * early when `stopping` aborts, so `stop` stays prompt.
   */
  protected abstract tick(): Promise<void>;

  /** Aborted by `stop`. */
  protected get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  /** Runs the task unless a run is in progress (then waits for that one). */
  run(): Promise<void> {
    this.#current ??= this.tick()
      .catch(() => undefined)
      .finally(() => {
        this.#current = undefined;
      });
    return this.#current;
  }

  start(): void {
    if (this.#timer !== undefined || this.#stopping.signal.aborted) return;
    this.#timer = setInterval(() => void this.run(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): Promise<void> {
    this.#stopping.abort();
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#end();
    return this.closed();
  }

  /** Resolves once stopped and no run is in progress. */
  async closed(): Promise<void> {
    await this.#ended;
    while (this.#current !== undefined) await this.#current;
  }
}
