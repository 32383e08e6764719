import { describe, expect, test } from 'vitest';
import { fairShareTrim } from '../src/fair-share.js';

describe('fairShareTrim', () => {
  test('nothing to remove when the holders fit', () => {
    expect(
      fairShareTrim(
        new Map([
          ['a', 10],
          ['b', 20],
        ]),
        30,
      ).size,
    ).toBe(0);
  });

  test('a flood is trimmed down to a level; the small holders keep everything', () => {
    const remove = fairShareTrim(
      new Map([
        ['flood', 1000],
        ['victim', 10],
        ['other', 30],
      ]),
      240,
    );
    expect(remove.get('victim')).toBeUndefined();
    expect(remove.get('other')).toBeUndefined();
    expect(remove.get('flood')).toBe(800);
  });

  test('two large holders share the level equally', () => {
    const remove = fairShareTrim(
      new Map([
        ['a', 500],
        ['b', 300],
        ['c', 20],
      ]),
      220,
    );
    expect(remove.get('c')).toBeUndefined();
    expect(remove.get('a')).toBe(400);
    expect(remove.get('b')).toBe(200);
  });

  test('a target of zero removes everything', () => {
    const remove = fairShareTrim(
      new Map([
        ['a', 5],
        ['b', 7],
      ]),
      0,
    );
    expect(remove.get('a')).toBe(5);
    expect(remove.get('b')).toBe(7);
  });
});
