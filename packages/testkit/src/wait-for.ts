import { WaitForTimeoutError } from './errors.js';

export interface WaitForOptions {
  /** Says what is awaited, for the timeout message: "3 rows in cdevents". */
  readonly what: string;
  /** @default 10000 */
  readonly timeoutMs?: number;
  /** @default 50 */
  readonly intervalMs?: number;
}

/**
 * Polls `fn` until it returns a truthy value, and returns that value. A throw counts as "not yet"
 * (the last one becomes the timeout's cause). Deadlines instead of sleeps.
 */
export const waitFor = async <T>(
  fn: () => T | Promise<T>,
  options: WaitForOptions,
): Promise<NonNullable<T>> => {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const interval = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) throw new WaitForTimeoutError(options.what, timeoutMs, lastError);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
};
