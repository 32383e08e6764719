import { describe, expect, test } from 'vitest';
import { TokenBuckets } from '../src/rate-limit.js';

describe('TokenBuckets', () => {
  test('a burst, then the rate; keys are independent; refills over time up to the burst', () => {
    let now = 0;
    const buckets = new TokenBuckets({ ratePerSecond: 2, burst: 4, now: () => now });
    expect(buckets.take('ci', 3)).toBe(0);
    expect(buckets.take('ci', 1)).toBe(0);
    expect(buckets.take('ci', 1)).toBe(1); // empty: one token takes half a second, said as 1 s
    expect(buckets.take('monitoring', 4)).toBe(0);
    now += 1000;
    expect(buckets.take('ci', 2)).toBe(0);
    expect(buckets.take('ci', 1)).toBe(1);
    now += 60_000;
    expect(buckets.take('ci', 4)).toBe(0); // refilled to the burst, not beyond
    expect(buckets.take('ci', 1)).toBe(1);
    expect(buckets.take('ci', 5)).toBe(Number.POSITIVE_INFINITY);
  });

  test('wait: seconds until one token, taking none (checked before a body is read)', () => {
    let now = 0;
    const buckets = new TokenBuckets({ ratePerSecond: 0.5, burst: 2, now: () => now });
    expect(buckets.wait('ci')).toBe(0); // unseen: a full bucket
    expect(buckets.take('ci', 2)).toBe(0);
    expect(buckets.wait('ci')).toBe(2);
    expect(buckets.wait('ci')).toBe(2); // waiting took nothing
    now += 2000;
    expect(buckets.wait('ci')).toBe(0);
    expect(buckets.take('ci', 1)).toBe(0);
  });

  test('a nonsensical configuration is refused', () => {
    expect(() => new TokenBuckets({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
  });
});
