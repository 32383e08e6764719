import { describe, expect, test } from 'vitest';
import { uuidV5 } from '../src/ids.js';
import { deterministicId, eventIdentity } from '../src/index.js';
import { isDateTime, isUri, isUriReference } from '../src/schema/formats.js';

describe('formats', () => {
  test.each([
    ['2026-11-24T10:00:00Z', true],
    ['2026-11-24t10:00:00.123456z', true],
    ['2026-11-24 10:00:00+01:00', true],
    ['2024-02-29T00:00:00Z', true],
    ['2023-02-29T00:00:00Z', false],
    ['2026-04-31T00:00:00Z', false],
    ['2026-11-24T24:00:00Z', false],
    ['2026-11-24T10:00:00', false],
    ['2026-11-24T10:00:00+0100', false],
    ['2016-12-31T23:59:60Z', true],
    ['2016-12-31T22:59:60Z', false],
    ['2016-12-31T18:59:60-05:00', true],
    ['yesterday', false],
  ])('isDateTime(%s) is %s', (value, expected) => {
    expect(isDateTime(value)).toBe(expected);
  });

  test.each([
    ['https://example.com/a?b=c#d', true, true],
    ['urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66', true, true],
    ['/event/source/123', false, true],
    ['relative/path', false, true],
    ['', false, true],
    ['http://[::1]:8080/x', true, true],
    ['has space', false, false],
    ['http://exa mple.com', false, false],
    ['pkg:oci/podinfo@sha256%3Aabc', true, true],
    ['%zz', false, false],
    ['ünïcode', false, false],
  ])('%s: uri %s, uri-reference %s', (value, uri, ref) => {
    expect(isUri(value)).toBe(uri);
    expect(isUriReference(value)).toBe(ref);
  });
});

describe('ids', () => {
  test('uuidV5 matches the RFC 9562 example vector', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  test('deterministicId is stable, version 5, and joins parts unambiguously', () => {
    const a = deterministicId(['uid', 'service.deployed', 'rev', '23']);
    expect(a).toBe(deterministicId(['uid', 'service.deployed', 'rev', '23']));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicId(['a:b', 'c'])).not.toBe(deterministicId(['a', 'b:c']));
    expect(() => deterministicId([])).toThrow(TypeError);
    expect(() => uuidV5('x', 'not-a-uuid')).toThrow(/not a UUID/);
  });

  test('eventIdentity digests source and id, unambiguously', () => {
    expect(eventIdentity('/a', 'b')).toMatch(/^[0-9a-f]{32}$/);
    expect(eventIdentity('/a', 'b')).toBe(eventIdentity('/a', 'b'));
    expect(eventIdentity('/a|', 'b')).not.toBe(eventIdentity('/a', '|b'));
  });
});
