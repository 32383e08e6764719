import { CDEventsError } from './errors.js';

const DAY_MS = 86_400_000;

/**
 * The widest range any event time can have: ClickHouse's DateTime64 holds 1900-01-01 to 2299-12-31
 * (UTC), and an event outside it could never be stored whatever the accepted range says.
 */
export const EARLIEST_EVENT_TIME_MS = Date.UTC(1900, 0, 1);
export const LATEST_EVENT_TIME_MS = Date.UTC(2300, 0, 1) - 1;

/**
 * How far back `context.timestamp` may be by default, in ms: a year of history plus a month, so an
 * agent re-reading Argo CD's last deployments of a quiet app is accepted, while a 1990 backfill
 * (one ClickHouse partition per month) is not taken without an operator saying so.
 */
export const DEFAULT_MAX_EVENT_AGE_MS = 400 * DAY_MS;
/**
 * How far ahead of the receiver's clock `context.timestamp` may be by default, in ms: clock skew and
 * time zones written as UTC by mistake fit in a day; an event dated 2299 would otherwise stay "newest"
 * for ever.
 */
export const DEFAULT_MAX_EVENT_LEAD_MS = DAY_MS;

/**
 * The flags of the time range, for every process that admits events (hub, agent webhook): one
 * definition, read by their option specs (`@argus/runtime` OptionsSpec entries, by shape).
 */
export const EVENT_TIME_OPTIONS = {
  maxEventAge: {
    kind: 'duration',
    description:
      "oldest accepted context.timestamp, back from now; older events are refused (timestamp-out-of-range); give the agent webhook the hub's value",
    default: DEFAULT_MAX_EVENT_AGE_MS,
  },
  maxEventLead: {
    kind: 'duration',
    description: 'how far ahead of the clock context.timestamp may be (clock skew)',
    default: DEFAULT_MAX_EVENT_LEAD_MS,
  },
} as const;

/** The accepted window around "now" for `context.timestamp`. */
export interface TimeRangeOptions {
  /** How far in the past, in ms. @default DEFAULT_MAX_EVENT_AGE_MS (400 days) */
  readonly maxAgeMs?: number;
  /** How far in the future, in ms. @default DEFAULT_MAX_EVENT_LEAD_MS (1 day) */
  readonly maxLeadMs?: number;
}

/**
 * Milliseconds since the epoch of an RFC 3339 time; a leap second (:60) counts as the last
 * millisecond before it. `NaN` for text that is not a time.
 */
export const epochMillis = (rfc3339: string): number => {
  const ms = Date.parse(rfc3339);
  return Number.isNaN(ms)
    ? Date.parse(rfc3339.replace(/:60(?=[.,Zz+-])/, ':59.999').replace(/\.999\.\d+/, '.999'))
    : ms;
};

/** `context.timestamp` is outside the accepted range: too old, too far ahead, or beyond what can be stored. */
export class TimestampOutOfRangeError extends CDEventsError {
  override name = 'TimestampOutOfRangeError';
  readonly reason = 'timestamp-out-of-range' as const;
  readonly timestamp: string;
  /** The accepted range when the event was checked, as RFC 3339 UTC times. */
  readonly earliest: string;
  readonly latest: string;
  constructor(timestamp: string, earliestMs: number, latestMs: number) {
    const earliest = new Date(earliestMs).toISOString();
    const latest = new Date(latestMs).toISOString();
    super(
      `context.timestamp ${JSON.stringify(timestamp)} is outside the accepted range ${earliest} to ${latest} (the receiver sets it: hub --max-event-age and --max-event-lead)`,
    );
    this.timestamp = timestamp;
    this.earliest = earliest;
    this.latest = latest;
  }
}

/**
 * The one rule for event times, shared by every entry point (hub consumer, hub ingest, agent
 * webhook): `context.timestamp` within [now - maxAge, now + maxLead], and storable. Pure: the
 * caller passes its clock.
 */
export class TimeRange {
  readonly maxAgeMs: number;
  readonly maxLeadMs: number;

  constructor(options: TimeRangeOptions = {}) {
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_EVENT_AGE_MS;
    this.maxLeadMs = options.maxLeadMs ?? DEFAULT_MAX_EVENT_LEAD_MS;
    for (const [name, value] of [
      ['maxAgeMs', this.maxAgeMs],
      ['maxLeadMs', this.maxLeadMs],
    ] as const) {
      if (!Number.isFinite(value) || value < 0)
        throw new RangeError(`${name} must be a duration >= 0 ms, got ${value}`);
    }
  }

  /** `undefined` when the timestamp is accepted at `nowMs`, else why not. */
  check(timestamp: string, nowMs: number = Date.now()): TimestampOutOfRangeError | undefined {
    const earliest = Math.max(EARLIEST_EVENT_TIME_MS, nowMs - this.maxAgeMs);
    const latest = Math.min(LATEST_EVENT_TIME_MS, nowMs + this.maxLeadMs);
    const ms = epochMillis(timestamp);
    // NaN fails both comparisons: refuse it explicitly (schema validation should have already).
    if (ms >= earliest && ms <= latest) return undefined;
    return new TimestampOutOfRangeError(timestamp, earliest, latest);
  }
}
