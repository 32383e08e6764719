import type { Logger } from 'pino';

export interface RetryOptions {
  readonly what: string;
  readonly logger: Logger;
  /** Called before each wait, e.g. to tell JetStream the batch is still being worked on. */
  readonly onWait?: () => void;
  /** Retrying stops (and the last error is thrown) once this returns true. */
  readonly stopped: () => boolean;
  /** Aborted when the hub stops: ends a wait at once (a 10 s backoff made every SIGTERM take 10 s, finding 27). */
  readonly stopSignal?: AbortSignal;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly onError?: (error: unknown) => void;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

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
      await sleep(delay, options.stopSignal);
      if (options.stopped()) throw err;
      delay = Math.min(delay * 2, maxDelay);
    }
  }
};
