import { describe, expect, test } from 'vitest';
import { RawTally } from '../src/raw-tally.js';

/** A tally with a checkpoint every 100 bytes, fed `count` messages of 40 bytes from `instances` in turn. */
const fed = (count: number, instances: readonly string[], from = 1) => {
  const tally = new RawTally(100, from - 1);
  for (let seq = from; seq < from + count; seq++)
    tally.add(instances[(seq - from) % instances.length] ?? '', seq, 40);
  return tally;
};

describe('RawTally', () => {
  test('counts bytes per instance and remembers how far it read', () => {
    const tally = fed(10, ['a', 'b']);
    expect(tally.totals()).toEqual(
      new Map([
        ['a', 200],
        ['b', 200],
      ]),
    );
    expect(tally.readTo).toBe(10);
    tally.readUpTo(12);
    expect(tally.readTo).toBe(12);
  });

  test("a cut is the first checkpoint that removes enough, or all that was read; a purge takes exactly the cut's bytes", () => {
    const tally = fed(10, ['a']);
    // Checkpoints of a (40 bytes a message, every 100 bytes): [3, 120], [6, 240], [9, 360].
    expect(tally.cutFor('a', 100)).toEqual([3, 120]);
    expect(tally.cutFor('a', 121)).toEqual([6, 240]);
    expect(tally.cutFor('a', 361)).toEqual([10, 400]);
    expect(tally.cutFor('nobody', 1)).toBeUndefined();
    tally.purged('a', [6, 240]);
    expect(tally.totals()).toEqual(new Map([['a', 160]]));
    // The checkpoints left count from the purge: the next cut of 100 bytes is the one at 9.
    expect(tally.cutFor('a', 100)).toEqual([9, 120]);
    tally.purged('a', [10, 160]);
    expect(tally.totals()).toEqual(new Map());
  });

  test('what expired before the first sequence still held is taken off, to the last checkpoint before it', () => {
    const tally = fed(20, ['a', 'b']);
    // a: seqs 1, 3, 5, ... (checkpoints at 5 [120], 11 [240], 17 [360]); b: 2, 4, 6, ...
    tally.startsAt(12);
    const totals = tally.totals();
    // a lost its messages up to 11 (240 bytes) exactly; b up to its checkpoint at 6 (120 bytes), of its 6 messages before 12.
    expect(totals.get('a')).toBe(400 - 240);
    expect(totals.get('b')).toBe(400 - 120);
    tally.startsAt(21);
    expect(tally.totals()).toEqual(new Map());
  });

  test('read in pieces, with purges and expiry between, it agrees with one read of what is left', () => {
    const instances = ['a', 'b', 'c'];
    const incremental = new RawTally(100);
    const stream = new Map<number, string>();
    let seq = 0;
    const publish = (n: number) => {
      for (let i = 0; i < n; i++) stream.set(++seq, instances[seq % 3] ?? '');
    };
    const readNew = () => {
      for (const [s, instance] of stream) if (s > incremental.readTo) incremental.add(instance, s, 40);
    };
    publish(50);
    readNew();
    const cut = incremental.cutFor('a', 200);
    expect(cut).toBeDefined();
    if (cut === undefined) return;
    incremental.purged('a', cut);
    for (const [s, instance] of stream) if (instance === 'a' && s <= cut[0]) stream.delete(s);
    publish(40);
    readNew();
    // Expiry of everything up to 30 whose checkpoints line up: checked against a fresh read below.
    for (const s of [...stream.keys()]) if (s < 31) stream.delete(s);
    incremental.startsAt(31);
    publish(10);
    readNew();
    const fresh = new RawTally(100);
    for (const [s, instance] of stream) fresh.add(instance, s, 40);
    for (const [instance, bytes] of fresh.totals()) {
      // Expiry is taken off to the last checkpoint before it: at most one checkpoint's bytes more.
      expect(incremental.totals().get(instance) ?? 0).toBeGreaterThanOrEqual(bytes);
      expect(incremental.totals().get(instance) ?? 0).toBeLessThan(bytes + 100 + 40);
    }
    expect(incremental.readTo).toBe(fresh.readTo);
  });
});
