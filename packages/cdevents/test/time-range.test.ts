import { describe, expect, test } from 'vitest';
import { TimeRange, TimestampOutOfRangeError } from '../src/index.js';
import { DEFAULT_MAX_EVENT_AGE_MS, DEFAULT_MAX_EVENT_LEAD_MS } from '../src/time-range.js';

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
const at = (ms: number) => new Date(ms).toISOString();

describe('TimeRange', () => {
  test('by default accepts 400 days back to 1 day ahead of the clock given', () => {
    const range = new TimeRange();
    expect(range.check(at(NOW), NOW)).toBeUndefined();
    expect(range.check(at(NOW - DEFAULT_MAX_EVENT_AGE_MS), NOW)).toBeUndefined();
    expect(range.check(at(NOW + DEFAULT_MAX_EVENT_LEAD_MS), NOW)).toBeUndefined();
    expect(range.check(at(NOW - DEFAULT_MAX_EVENT_AGE_MS - 1), NOW)).toBeInstanceOf(TimestampOutOfRangeError);
    expect(range.check(at(NOW + DEFAULT_MAX_EVENT_LEAD_MS + 1), NOW)).toBeInstanceOf(
      TimestampOutOfRangeError,
    );
  });

  test('the refusal names the value and the accepted range', () => {
    const error = new TimeRange().check('2299-12-31T23:59:59Z', NOW);
    expect(error).toMatchObject({
      reason: 'timestamp-out-of-range',
      timestamp: '2299-12-31T23:59:59Z',
      earliest: '2025-10-31T12:00:00.000Z',
      latest: '2026-12-06T12:00:00.000Z',
    });
    expect(error?.message).toContain(
      '"2299-12-31T23:59:59Z" is outside the accepted range 2025-10-31T12:00:00.000Z to 2026-12-06T12:00:00.000Z',
    );
  });

  test('a wider range is still bounded by what can be stored (1900 to 2299)', () => {
    const wide = new TimeRange({ maxAgeMs: Number.MAX_VALUE, maxLeadMs: Number.MAX_VALUE });
    expect(wide.check('1990-01-15T10:00:00Z', NOW)).toBeUndefined();
    expect(wide.check('1900-01-01T00:00:00Z', NOW)).toBeUndefined();
    expect(wide.check('1899-12-31T23:59:59Z', NOW)).toBeInstanceOf(TimestampOutOfRangeError);
    expect(wide.check('9999-12-31T23:59:59Z', NOW)).toBeInstanceOf(TimestampOutOfRangeError);
    // A leap second is read as the last millisecond before it.
    expect(wide.check('2016-12-31T23:59:60Z', NOW)).toBeUndefined();
  });

  test('refuses text that is not a time, and negative durations', () => {
    expect(new TimeRange().check('yesterday', NOW)).toBeInstanceOf(TimestampOutOfRangeError);
    expect(() => new TimeRange({ maxAgeMs: -1 })).toThrow(RangeError);
  });
});
