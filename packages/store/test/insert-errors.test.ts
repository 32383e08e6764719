import { describe, expect, test } from 'vitest';
import { CLICKHOUSE_ERROR_KINDS, isRejectedData } from '../src/errors.js';
import {
  classifyInsertError,
  clickHouseErrorCode,
  clickHouseErrorName,
  type EventRow,
  partitionChunks,
} from '../src/index.js';
import { MAX_PARTITIONS_PER_INSERT } from '../src/store.js';

/** An error shaped as @clickhouse/client's ClickHouseError (code as text, type as ClickHouse names it). */
const clickHouseError = (code: number, type: string): Error =>
  Object.assign(new Error(`${type} happened`), { code: String(code), type });

describe('classifyInsertError', () => {
  test('sorts by ClickHouse error code, not by message text', () => {
    expect(classifyInsertError(clickHouseError(25, 'CANNOT_PARSE_ESCAPE_SEQUENCE'))).toBe('data');
    expect(classifyInsertError(clickHouseError(60, 'UNKNOWN_TABLE'))).toBe('schema');
    expect(classifyInsertError(clickHouseError(243, 'NOT_ENOUGH_SPACE'))).toBe('transient');
    expect(classifyInsertError(clickHouseError(252, 'TOO_MANY_PARTS'))).toBe('transient');
    // The message says "Cannot parse" but the code is a settings error: the code wins.
    expect(
      classifyInsertError(
        Object.assign(new Error('Cannot parse input'), { code: '115', type: 'UNKNOWN_SETTING' }),
      ),
    ).toBe('schema');
  });

  test('socket failures, unknown codes and non-errors are transient', () => {
    expect(
      classifyInsertError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBe('transient');
    expect(classifyInsertError(clickHouseError(9999, 'SOMETHING_NEW'))).toBe('transient');
    expect(classifyInsertError('boom')).toBe('transient');
    expect(clickHouseErrorCode(new Error('timeout'))).toBeUndefined();
  });

  test('every listed code has one kind, and the data kind is what isRejectedData says', () => {
    const all = Object.values(CLICKHOUSE_ERROR_KINDS).flatMap((codes) => Object.values(codes));
    expect(new Set(all).size).toBe(all.length);
    for (const [name, code] of Object.entries(CLICKHOUSE_ERROR_KINDS.data))
      expect(isRejectedData(clickHouseError(code, name))).toBe(true);
    for (const [name, code] of Object.entries(CLICKHOUSE_ERROR_KINDS.schema))
      expect(isRejectedData(clickHouseError(code, name))).toBe(false);
  });

  test('names the error as ClickHouse does, else by code, else by class', () => {
    expect(clickHouseErrorName(clickHouseError(252, 'TOO_MANY_PARTS'))).toBe('TOO_MANY_PARTS');
    expect(clickHouseErrorName(Object.assign(new Error('x'), { code: '252' }))).toBe('ClickHouse error 252');
    expect(clickHouseErrorName(new TypeError('x'))).toBe('TypeError');
  });
});

describe('partitionChunks', () => {
  const item = (month: number, n: number) => {
    const year = 1990 + Math.floor(month / 12);
    const mm = String((month % 12) + 1).padStart(2, '0');
    return { n, row: { timestamp: `${year}-${mm}-15 10:00:00.000` } as EventRow };
  };

  test('a batch within the limit is one insert, as it came', () => {
    const items = [item(3, 0), item(1, 1), item(3, 2)];
    expect(partitionChunks(items)).toEqual([items]);
    expect(partitionChunks([])).toEqual([]);
  });

  test('150 months become inserts of at most 100 months each, the same way every time', () => {
    const items = Array.from({ length: 300 }, (_, i) => item((i * 7) % 150, i));
    const chunks = partitionChunks(items);
    expect(chunks).toHaveLength(2);
    const months = chunks.map((c) => new Set(c.map((i) => i.row.timestamp.slice(0, 7))).size);
    expect(months).toEqual([MAX_PARTITIONS_PER_INSERT, 50]);
    expect(
      chunks
        .flat()
        .map((i) => i.n)
        .sort((a, b) => a - b),
    ).toEqual(items.map((i) => i.n));
    expect(partitionChunks([...items].reverse()).map((c) => c.length)).toEqual(chunks.map((c) => c.length));
  });
});
