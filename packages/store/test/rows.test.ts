import { describe, expect, test } from 'vitest';
import { epochMillis, isStorableTime, toClickHouseTime } from '../src/rows.js';

describe('time conversion', () => {
  test('RFC 3339 times become UTC DateTime64(3) text', () => {
    expect(toClickHouseTime('2026-11-24T10:15:03.123456Z')).toBe('2026-11-24 10:15:03.123');
    expect(toClickHouseTime('2026-11-24T11:15:03+01:00')).toBe('2026-11-24 10:15:03.000');
    expect(toClickHouseTime('2016-12-31T23:59:60Z')).toBe('2016-12-31 23:59:59.999');
    // The fast path for UTC text and the general one agree.
    expect(toClickHouseTime('2026-11-24T10:15:03Z')).toBe('2026-11-24 10:15:03.000');
    expect(toClickHouseTime('2026-11-24T10:15:03.5Z')).toBe('2026-11-24 10:15:03.500');
    expect(toClickHouseTime('2026-11-24T10:15:03.12Z')).toBe('2026-11-24 10:15:03.120');
    expect(toClickHouseTime('2024-02-29T00:00:00.000Z')).toBe('2024-02-29 00:00:00.000');
    for (let i = 0; i < 2000; i++) {
      const iso = new Date(Date.UTC(1990, 0, 1) + i * 7_777_777_777 + (i % 1000)).toISOString();
      expect(toClickHouseTime(iso)).toBe(`${iso.slice(0, 10)} ${iso.slice(11, 23)}`);
      expect(toClickHouseTime(iso.replace('.000Z', 'Z'))).toBe(`${iso.slice(0, 10)} ${iso.slice(11, 23)}`);
    }
    expect(epochMillis('2016-12-31T23:59:60.5Z')).toBe(Date.UTC(2016, 11, 31, 23, 59, 59, 999));
  });

  test('only 1900 to 2299 can be stored', () => {
    expect(isStorableTime('1900-01-01T00:00:00Z')).toBe(true);
    expect(isStorableTime('2299-12-31T23:59:59.999Z')).toBe(true);
    expect(isStorableTime('1899-12-31T23:59:59Z')).toBe(false);
    expect(isStorableTime('9999-12-31T23:59:59Z')).toBe(false);
  });
});
