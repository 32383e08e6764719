import { OptionsError, parseOptions } from '@argus/runtime';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { HUB_OPTIONS } from '../src/index.js';
import { failpoints, NO_FAILPOINTS } from '../src/pipeline/failpoints.js';

const logger = pino({ level: 'silent' });

describe('--failpoint', () => {
  test('is read from ARGUS_FAILPOINT like every option, and a value it does not know is refused', () => {
    expect(parseOptions(HUB_OPTIONS, { env: { ARGUS_FAILPOINT: 'kill-after-insert' } }).failpoint).toBe(
      'kill-after-insert',
    );
    expect(() => parseOptions(HUB_OPTIONS, { env: { ARGUS_FAILPOINT: 'kill-before-insert' } })).toThrow(
      /ARGUS_FAILPOINT "kill-before-insert" is not valid: expected kill-after-insert or fail-inserts-for=<duration>/,
    );
    expect(() => failpoints('fail-inserts-for=soon', logger)).toThrow(OptionsError);
  });

  test('none: no-ops', () => {
    expect(failpoints(undefined, logger)).toBe(NO_FAILPOINTS);
    expect(() => NO_FAILPOINTS.beforeInsert()).not.toThrow();
  });

  test('fail-inserts-for=<duration> fails inserts from the start until then', () => {
    expect(() => failpoints('fail-inserts-for=1m', logger).beforeInsert()).toThrow(
      'failpoint fail-inserts-for: insert refused',
    );
    const expired = failpoints('fail-inserts-for=1m', logger, Date.now() - 61_000);
    expect(() => expired.beforeInsert()).not.toThrow();
  });
});
