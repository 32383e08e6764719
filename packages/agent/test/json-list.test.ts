import { describe, expect, test } from 'vitest';
import { JsonListSplitter } from '../src/sources/http.js';

/** Feeds `text` to a splitter in pieces of `size` bytes; returns the items and the envelope. */
const split = (text: string, size: number) => {
  const bytes = Buffer.from(text, 'utf8');
  const splitter = new JsonListSplitter();
  const items: unknown[] = [];
  for (let at = 0; at < bytes.length; at += size) items.push(...splitter.push(bytes.subarray(at, at + size)));
  return { items, envelope: splitter.end() };
};

const apps = [
  { metadata: { name: 'podinfo', annotations: { note: 'braces } ] { [ and "quotes" \\ in strings' } } },
  { metadata: { name: 'gästebuch-✓' }, status: { history: [{ id: 0, revision: 'a' }], list: [[], {}] } },
  { metadata: { name: 'empty' }, spec: {} },
];

describe('JsonListSplitter', () => {
  test('yields each item of a list and keeps the envelope, whatever the chunk boundaries', () => {
    const document = JSON.stringify({
      kind: 'ApplicationList',
      metadata: { resourceVersion: '1234', note: '"items": [' },
      items: apps,
      after: [1, 2],
    });
    for (const size of [1, 2, 3, 7, 64, document.length]) {
      const { items, envelope } = split(document, size);
      expect(items).toEqual(apps);
      expect(envelope).toEqual({
        kind: 'ApplicationList',
        metadata: { resourceVersion: '1234', note: '"items": [' },
        items: [],
        after: [1, 2],
      });
    }
  });

  test('pretty-printed, items first, empty or null items', () => {
    expect(split(JSON.stringify({ items: apps, metadata: {} }, null, 2), 5).items).toEqual(apps);
    expect(split('{"metadata":{},"items":[]}', 4)).toEqual({
      items: [],
      envelope: { metadata: {}, items: [] },
    });
    expect(split('{"metadata":{},"items":null}', 4)).toEqual({
      items: [],
      envelope: { metadata: {}, items: null },
    });
  });

  test('a document cut short is an error, not a shorter list', () => {
    const document = JSON.stringify({ metadata: {}, items: apps });
    const splitter = new JsonListSplitter();
    const items = splitter.push(Buffer.from(document.slice(0, -30)));
    expect(items.length).toBeLessThan(apps.length);
    expect(() => splitter.end()).toThrow(/ended before/);
  });
});
