import { describe, expect, test } from 'vitest';
import { epochMillis, isStorableTime, toClickHouseTime } from '../src/index.js';

describe('time conversion', () => {
  test('RFC 3339 times become UTC DateTime64(3) text', () => {
    expect(toClickHouseTime('2026-11-24T10:15:03.123456Z')).toBe('2026-11-24 10:15:03.123');
    expect(toClickHouseTime('2026-11-24T11:15:03+01:00')).toBe('2026-11-24 10:15:03.000');
    expect(toClickHouseTime('2016-12-31T23:59:60Z')).toBe('2016-12-31 23:59:59.999');
    expect(epochMillis('2016-12-31T23:59:60.5Z')).toBe(Date.UTC(2016, 11, 31, 23, 59, 59, 999));
  });

  test('only 1900 to 2299 can be stored', () => {
    expect(isStorableTime('1900-01-01T00:00:00Z')).toBe(true);
    expect(isStorableTime('2299-12-31T23:59:59.999Z')).toBe(true);
    expect(isStorableTime('1899-12-31T23:59:59Z')).toBe(false);
    expect(isStorableTime('9999-12-31T23:59:59Z')).toBe(false);
  });
});
