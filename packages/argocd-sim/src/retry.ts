/** Sync retry strategy and backoff, as `pkg/apis/application/v1alpha1/types.go` `RetryStrategy` (2.x-3.x). */

export interface RetryStrategy {
  /** Attempts after the first; a negative limit retries for ever. */
  readonly limit?: number;
  readonly backoff?: { readonly duration?: string; readonly factor?: number; readonly maxDuration?: string };
}

// application_defaults.go: DefaultSyncRetryDuration 5s, DefaultSyncRetryFactor 2, DefaultSyncRetryMaxDuration 3m.
export const DEFAULT_SYNC_RETRY_DURATION_MS = 5_000;
export const DEFAULT_SYNC_RETRY_FACTOR = 2;
export const DEFAULT_SYNC_RETRY_MAX_DURATION_MS = 180_000;
/** The retry an auto-sync operation carries unless `spec.syncPolicy.retry` sets one (`autoSync`). */
export const AUTO_SYNC_RETRY: RetryStrategy = { limit: 5 };

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `parseStringToDuration`: a bare integer is seconds, otherwise a Go duration such as `1m30s`. */
export const parseRetryDuration = (value: string): number => {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) {
    throw new Error(
      `invalid retry duration ${JSON.stringify(value)}: expected seconds or a Go duration like 5s`,
    );
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] ?? 's'] ?? 1000), 0);
};

/** `RetryStrategy.NextRetryAt`: duration × factor^retryCount, capped at maxDuration. */
export const nextRetryAt = (strategy: RetryStrategy, lastAttempt: Date, retryCount: number): Date => {
  const b = strategy.backoff;
  const duration =
    b?.duration === undefined ? DEFAULT_SYNC_RETRY_DURATION_MS : parseRetryDuration(b.duration);
  const max =
    b?.maxDuration === undefined ? DEFAULT_SYNC_RETRY_MAX_DURATION_MS : parseRetryDuration(b.maxDuration);
  const wait = duration * (b?.factor ?? DEFAULT_SYNC_RETRY_FACTOR) ** retryCount;
  return new Date(lastAttempt.getTime() + (max > 0 ? Math.min(max, wait) : wait));
};

/** A retry is left when `retryCount < limit`, or always when the limit is negative. */
export const hasRetryLeft = (strategy: RetryStrategy, retryCount: number): boolean => {
  const limit = strategy.limit ?? 0;
  return limit < 0 || retryCount < limit;
};

/** Go's `time.Kitchen` ("3:04PM"), in UTC as the controller's container runs. */
export const kitchen = (date: Date): string => {
  const h = date.getUTCHours();
  const m = String(date.getUTCMinutes()).padStart(2, '0');
  return `${h % 12 === 0 ? 12 : h % 12}:${m}${h < 12 ? 'AM' : 'PM'}`;
};
