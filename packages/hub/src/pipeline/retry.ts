import { Backoff, sleep } from '@argus/runtime';
import type { Logger } from 'pino';
import type { FailureKind, PipelineHealth } from './health.js';

/** First wait after a failed stage (or lost consumer), in ms. */
export const RETRY_INITIAL_MS = 250;
/**
 * Longest wait between two attempts, in ms: short beside the ack wait (30 s), so a batch is retried
 * several times before JetStream would redeliver it (`onWait` tells it the batch is still in hand).
 */
export const RETRY_MAX_MS = 10_000;
/**
 * Within one retry loop, how often a failure that goes on is logged again, in ms: the first failure
 * is logged, then one line a minute (each attempt is at debug), then `recovered` with the count.
 */
export const RETRY_LOG_EVERY_MS = 60_000;

/** A backoff with the hub's delays: every retry loop of the hub (stages, the consumer) waits this way. */
export const hubBackoff = (initialMs = RETRY_INITIAL_MS, maxMs = RETRY_MAX_MS): Backoff =>
  new Backoff(initialMs, Math.max(initialMs, maxMs));

export interface RetryOptions {
  readonly what: string;
  readonly logger: Logger;
  /** Called before each wait, e.g. to tell JetStream the batch is still being worked on. */
  readonly onWait?: () => void;
  /** Retrying stops (and the last error is thrown) once this returns true. */
  readonly stopped: () => boolean;
  /** Aborted when the hub stops: ends a wait at once (a 10 s backoff made every SIGTERM take 10 s, finding 27). */
  readonly stopSignal?: AbortSignal;
  /** @default RETRY_INITIAL_MS */
  readonly initialDelayMs?: number;
  /** @default RETRY_MAX_MS */
  readonly maxDelayMs?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * Retries `fn` with exponential backoff until it succeeds or the hub stops. The hub never drops a
 * batch because a dependency is down: it waits, and JetStream keeps the messages meanwhile.
 */
export const retryUntilDone = async <T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> => {
  const backoff = hubBackoff(options.initialDelayMs, options.maxDelayMs);
  let loggedAt = Number.NEGATIVE_INFINITY;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await fn();
      if (attempt > 1) options.logger.info({ what: options.what, attempts: attempt }, 'recovered');
      return result;
    } catch (err) {
      options.onError?.(err);
      if (options.stopped()) throw err;
      const delay = backoff.delay();
      const now = Date.now();
      const level = now - loggedAt >= RETRY_LOG_EVERY_MS ? 'warn' : 'debug';
      if (level === 'warn') loggedAt = now;
      options.logger[level]({ err, what: options.what, attempt, retryInMs: delay }, 'failed; retrying');
      options.onWait?.();
      await sleep(delay, options.stopSignal);
      if (options.stopped()) throw err;
    }
  }
};

/** How a stage's failures are told apart and counted. */
export interface StageRetryOptions {
  /** Tells a failure no retry can mend without an operator (`schema`) from the others. @default transient */
  readonly kindOf?: (error: unknown) => FailureKind;
  readonly onError?: () => void;
}

/** Retries one stage of one batch until it succeeds (or the hub stops). */
export type StageRetry = <T>(what: string, fn: () => Promise<T>, options?: StageRetryOptions) => Promise<T>;

export interface StageRetryContext {
  readonly health: PipelineHealth;
  readonly logger: Logger;
  /** Aborted when the hub stops: retrying ends, and a wait ends at once. */
  readonly stopping: AbortSignal;
}

/**
 * The retry of a batch's stages: records failures and successes for readiness, logs a schema problem
 * loudly, and tells JetStream the batch is in progress while it waits, so it is not redelivered to
 * another replica meanwhile.
 */
export const stageRetry =
  (context: StageRetryContext, batch: readonly { working(): void }[]): StageRetry =>
  (what, fn, options = {}) =>
    retryUntilDone(
      async () => {
        const result = await fn();
        context.health.succeeded(what);
        return result;
      },
      {
        what,
        logger: context.logger,
        stopped: () => context.stopping.aborted,
        stopSignal: context.stopping,
        onWait: () => {
          for (const msg of batch) msg.working();
        },
        onError: (error) => {
          const kind = options.kindOf?.(error) ?? 'transient';
          context.health.failed(what, kind, error);
          if (kind === 'schema') {
            context.logger.error(
              { err: error, what, messages: batch.length },
              'ClickHouse refuses the hub for a schema, settings or storage problem: nothing is stored until an operator fixes it (the batch is kept and retried; /readyz says not ready)',
            );
          }
          options.onError?.();
        },
      },
    );
