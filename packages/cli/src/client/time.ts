import { UsageError } from '../command.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90m`, `1h`, `7d` before `now`, or an RFC 3339 time. */
export const parseTime = (value: string, flag: string, now = Date.now()): Date => {
  const relative = /^(\d+)(s|m|h|d|w)$/.exec(value.trim());
  if (relative !== null) return new Date(now - Number(relative[1]) * UNITS[relative[2]!]!);
  if (/^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?)?$/i.test(value.trim())) {
    const date = new Date(value.trim());
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new UsageError(
    `${flag} takes a duration back from now (30m, 1h, 7d) or an RFC 3339 time, got ${JSON.stringify(value)}`,
  );
};
