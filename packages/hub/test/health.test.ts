import { describe, expect, test } from 'vitest';
import { PipelineHealth, storeFailureKind } from '../src/pipeline/health.js';

const clickHouseError = (code: number, type: string): Error =>
  Object.assign(new Error(`${type} happened`), { code: String(code), type });

describe('PipelineHealth', () => {
  test('a transient failure turns not ready only after stallAfterMs without a success', () => {
    let now = 0;
    const health = new PipelineHealth({ stallAfterMs: 30_000, now: () => now });
    const full = clickHouseError(243, 'NOT_ENOUGH_SPACE');
    health.failed('insert into ClickHouse', storeFailureKind(full), full);
    now = 29_999;
    expect(health.reasons()).toEqual([]);
    health.failed('insert into ClickHouse', storeFailureKind(full), full);
    now = 30_000;
    expect(health.reasons()).toEqual([
      'insert into ClickHouse: failing for 30 s, 2 attempts (last: NOT_ENOUGH_SPACE: NOT_ENOUGH_SPACE happened)',
    ]);
    health.succeeded('insert into ClickHouse');
    expect(health.reasons()).toEqual([]);
  });

  test('a schema failure turns not ready at once; a NATS error is named by its class, not as ClickHouse', () => {
    const health = new PipelineHealth({ stallAfterMs: 1000, now: () => 5000 });
    const missing = clickHouseError(60, 'UNKNOWN_TABLE');
    expect(storeFailureKind(missing)).toBe('schema');
    health.failed('insert into ClickHouse', storeFailureKind(missing), missing);
    expect(health.reasons()[0]).toMatch(
      /^insert into ClickHouse: refused .* \(UNKNOWN_TABLE: .*\); an operator must act$/,
    );
    // JetStream API errors carry numeric codes too (10023: insufficient resources).
    const nats = Object.assign(new Error('insufficient resources'), {
      name: 'JetStreamApiError',
      code: 10023,
    });
    const later = new PipelineHealth({ stallAfterMs: 0, now: () => 0 });
    later.failed('publish dead letters', 'transient', nats);
    expect(later.reasons()).toEqual([
      'publish dead letters: failing for 0 s, 1 attempts (last: JetStreamApiError: insufficient resources)',
    ]);
  });
});
