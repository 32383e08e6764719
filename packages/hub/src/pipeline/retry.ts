import type { Logger } from 'pino';

export interface RetryOptions {
  readonly what: string;
  readonly logger: Logger;
  /** Called before each wait, e.g. to tell JetStream the batch is still being worked on. */
  readonly onWait?: () => void;
  /** Retrying stops (and the last error is thrown) once this returns true. */
  readonly stopped: () => boolean;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly onError?: (error: unknown) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Retries `fn` with exponential backoff until it succeeds or the hub stops. The hub never drops a
 * batch because a dependency is down: it waits, and JetStream keeps the messages meanwhile.
 */
export const retryUntilDone = async <T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> => {
  let delay = options.initialDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await fn();
      if (attempt > 1) options.logger.info({ what: options.what, attempts: attempt }, 'recovered');
      return result;
    } catch (err) {
      options.onError?.(err);
      if (options.stopped()) throw err;
      options.logger.warn({ err, what: options.what, attempt, retryInMs: delay }, 'failed; retrying');
      options.onWait?.();
      await sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
};
