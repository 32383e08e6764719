import type { Logger } from 'pino';

type Step = { readonly name: string; readonly run: () => Promise<void> | void };

/**
 * Ordered graceful shutdown: steps run in reverse order of registration (stop intake first,
 * close storage last), each bounded by a timeout, on SIGINT/SIGTERM or an explicit `shutdown()`.
 */
export class Shutdown {
  readonly #steps: Step[] = [];
  readonly #logger: Logger;
  readonly #stepTimeoutMs: number;
  #running: Promise<void> | undefined;
  #signalHandler: ((signal: NodeJS.Signals) => void) | undefined;

  constructor(logger: Logger, options: { stepTimeoutMs?: number } = {}) {
    this.#logger = logger.child({ component: 'shutdown' });
    this.#stepTimeoutMs = options.stepTimeoutMs ?? 10_000;
  }

  /** Registers a step; steps registered later run earlier. */
  add(name: string, run: () => Promise<void> | void): void {
    this.#steps.push({ name, run });
  }

  /** Runs every step once; later calls return the same promise. */
  shutdown(reason: string): Promise<void> {
    this.#running ??= this.#run(reason);
    return this.#running;
  }

  get started(): boolean {
    return this.#running !== undefined;
  }

  /** Shuts down on SIGINT/SIGTERM; a second signal exits at once. */
  handleSignals(onDone: (code: number) => void = (code) => process.exit(code)): void {
    this.#signalHandler = (signal) => {
      if (this.started) {
        this.#logger.warn({ signal }, 'second signal: exiting now');
        onDone(130);
        return;
      }
      this.#logger.info({ signal }, 'signal received: shutting down');
      this.shutdown(`signal ${signal}`).then(
        () => onDone(0),
        () => onDone(1),
      );
    };
    process.on('SIGINT', this.#signalHandler);
    process.on('SIGTERM', this.#signalHandler);
  }

  async #run(reason: string): Promise<void> {
    const started = Date.now();
    let failed = 0;
    for (const step of [...this.#steps].reverse()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(step.run),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`step "${step.name}" took longer than ${this.#stepTimeoutMs} ms`)),
              this.#stepTimeoutMs,
            );
          }),
        ]);
        this.#logger.debug({ step: step.name }, 'shutdown step done');
      } catch (err) {
        failed++;
        this.#logger.error({ err, step: step.name }, 'shutdown step failed');
      } finally {
        clearTimeout(timer);
      }
    }
    if (this.#signalHandler !== undefined) {
      process.off('SIGINT', this.#signalHandler);
      process.off('SIGTERM', this.#signalHandler);
    }
    this.#logger.info(
      { reason, steps: this.#steps.length, failed, ms: Date.now() - started },
      'shutdown complete',
    );
    if (failed > 0) throw new Error(`${failed} shutdown step(s) failed`);
  }
}
