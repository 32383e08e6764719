import { describe, expect, test } from 'vitest';
import { SqlRefusedError } from '../src/index.js';
import { checkReadOnlySql, MAX_SQL_CHARS } from '../src/sql.js';

const refusal = (query: string): string | undefined => {
  try {
    checkReadOnlySql(query);
    return undefined;
  } catch (error) {
    if (error instanceof SqlRefusedError) return error.reason;
    throw error;
  }
};

describe('checkReadOnlySql', () => {
  test('reading statements pass, a trailing ; and leading comments allowed', () => {
    expect(checkReadOnlySql('SELECT 1;  \n')).toBe('SELECT 1');
    expect(checkReadOnlySql('-- what ran\n/* a\nb */ with x AS (SELECT 1) SELECT * FROM x')).toContain(
      'with x',
    );
    for (const q of [
      'show tables',
      'DESCRIBE TABLE argus.cdevents',
      'desc argus.cdevents',
      'EXPLAIN SELECT 1',
    ])
      expect(refusal(q), q).toBeUndefined();
    expect(refusal("SELECT name, value FROM system.settings WHERE name = 'readonly'")).toBeUndefined();
    expect(refusal('SELECT * FROM system.merge_tree_settings LIMIT 1')).toBeUndefined();
  });

  test('writes, second statements, settings and outfile are refused, however dressed', () => {
    expect(refusal('')).toBe('empty');
    expect(refusal(' ; ')).toBe('empty');
    for (const q of [
      'INSERT INTO argus.cdevents SELECT * FROM argus.cdevents',
      'DROP TABLE argus.cdevents',
      'ALTER TABLE argus.cdevents DELETE WHERE 1',
      'CREATE TABLE t (x UInt8) ENGINE = Memory',
      'SET readonly = 0',
      'SYSTEM SHUTDOWN',
      'OPTIMIZE TABLE argus.cdevents',
      '/* SELECT */ DROP TABLE argus.cdevents',
      '-- SELECT\nDROP TABLE argus.cdevents',
      '(SELECT 1)',
    ])
      expect(refusal(q), q).toBe('statement');
    for (const q of [
      'SELECT 1; DROP TABLE argus.cdevents',
      "SELECT 'a;b'",
      'SELECT $$;$$ ; DROP TABLE x',
      'SELECT 1 /* ; */ ; DROP TABLE x',
      'SELECT 1;;',
    ])
      expect(refusal(q), q).toBe('several-statements');
    for (const q of [
      'SELECT 1 SETTINGS max_execution_time = 0',
      "SELECT * FROM (SELECT * FROM file('/etc/hostname', 'LineAsString') SETTINGS readonly = 0)",
      'SELECT 1 settings\treadonly=0',
      'SELECT 1 /**/SETTINGS readonly = 0',
    ])
      expect(refusal(q), q).toBe('settings');
    for (const q of ["SELECT 1 INTO OUTFILE '/tmp/x'", "SELECT 1 INTO /* */ outfile '/tmp/x'"])
      expect(refusal(q), q).toBe('outfile');
  });

  test('long or pathological input is answered at once', () => {
    expect(refusal(`SELECT '${'x'.repeat(MAX_SQL_CHARS)}'`)).toBe('too-long');
    const started = performance.now();
    for (const q of [
      '-'.repeat(50_000),
      `/**/${' '.repeat(50_000)}!`,
      `${'-- a\n'.repeat(10_000)}!`,
      '/*'.repeat(20_000),
    ])
      expect(refusal(q)).toBe('statement');
    expect(performance.now() - started).toBeLessThan(500);
  });
});
