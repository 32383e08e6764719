import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { BatchCollector } from '../src/pipeline/collect.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const recorder = () => {
  const batches: number[][] = [];
  return { batches, handle: async (batch: number[]) => void batches.push(batch) };
};

test('a batch closes at maxSize without waiting', async () => {
  const { batches, handle } = recorder();
  const collector = new BatchCollector(3, 1000, handle);
  for (let i = 0; i < 7; i++) collector.push(i);
  await vi.advanceTimersByTimeAsync(0);
  expect(batches).toEqual([
    [0, 1, 2],
    [3, 4, 5],
  ]);
  expect(collector.waiting).toBe(1);
});

test('a batch closes maxWaitMs after its first message', async () => {
  const { batches, handle } = recorder();
  const collector = new BatchCollector(100, 50, handle);
  collector.push(1);
  await vi.advanceTimersByTimeAsync(30);
  collector.push(2);
  await vi.advanceTimersByTimeAsync(19);
  expect(batches).toEqual([]);
  await vi.advanceTimersByTimeAsync(1);
  expect(batches).toEqual([[1, 2]]);
  // The next batch gets its own deadline, counted from its own first message.
  collector.push(3);
  await vi.advanceTimersByTimeAsync(49);
  expect(batches).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(1);
  expect(batches).toEqual([[1, 2], [3]]);
});

test('batches are handed over one at a time, in order, each after the previous handle settled', async () => {
  const started: number[][] = [];
  const releases: (() => void)[] = [];
  const collector = new BatchCollector<number>(2, 1000, (batch) => {
    started.push(batch);
    return new Promise<void>((resolve) => releases.push(resolve));
  });
  for (let i = 0; i < 6; i++) collector.push(i);
  await vi.advanceTimersByTimeAsync(0);
  expect(started).toEqual([[0, 1]]);
  expect(collector.waiting).toBe(4);
  releases[0]?.();
  await vi.advanceTimersByTimeAsync(0);
  expect(started).toEqual([
    [0, 1],
    [2, 3],
  ]);
  releases[1]?.();
  await vi.advanceTimersByTimeAsync(0);
  expect(started.at(-1)).toEqual([4, 5]);
  releases[2]?.();
});

test('flush hands over the partial batch and waits until everything was handed over', async () => {
  const { batches, handle } = recorder();
  const collector = new BatchCollector(10, 60_000, handle);
  collector.push(1);
  collector.push(2);
  await collector.flush();
  expect(batches).toEqual([[1, 2]]);
  expect(collector.waiting).toBe(0);
  // Nothing is left behind by the cancelled timer.
  await vi.advanceTimersByTimeAsync(60_000);
  expect(batches).toHaveLength(1);
});

test('a handle that rejects does not hold up the batches behind it', async () => {
  const handled: number[][] = [];
  const collector = new BatchCollector<number>(1, 1000, async (batch) => {
    handled.push(batch);
    if (batch[0] === 0) throw new Error('boom');
  });
  collector.push(0);
  collector.push(1);
  await collector.flush();
  expect(handled).toEqual([[0], [1]]);
});

/** A stage batches queue for, busy until the test frees it. */
const stage = () => {
  let release: (() => void) | undefined;
  let busy: Promise<void> | undefined;
  return {
    occupy: () => {
      busy = new Promise<void>((resolve) => {
        release = resolve;
      });
    },
    free: () => {
      busy = undefined;
      release?.();
    },
    busy: () => busy,
  };
};

test('a batch whose wait is over while the stage is busy takes what arrives and closes when the stage is free', async () => {
  const { batches, handle } = recorder();
  const store = stage();
  const collector = new BatchCollector<number>(100, 50, handle, undefined, store.busy);
  collector.push(0);
  await vi.advanceTimersByTimeAsync(50);
  expect(batches).toEqual([[0]]);
  store.occupy();
  collector.push(1);
  await vi.advanceTimersByTimeAsync(50);
  collector.push(2);
  await vi.advanceTimersByTimeAsync(200);
  collector.push(3);
  // handle could take it all along: the stage is what it waits for.
  expect(batches).toHaveLength(1);
  store.free();
  await vi.advanceTimersByTimeAsync(0);
  expect(batches).toEqual([[0], [1, 2, 3]]);
  // With the stage free, a batch closes at its wait as before.
  collector.push(4);
  await vi.advanceTimersByTimeAsync(50);
  expect(batches).toEqual([[0], [1, 2, 3], [4]]);
});

test('a batch kept open past its wait still closes when full, and the next waits its own time', async () => {
  const { batches, handle } = recorder();
  const store = stage();
  const collector = new BatchCollector<number>(3, 50, handle, undefined, store.busy);
  store.occupy();
  collector.push(0);
  await vi.advanceTimersByTimeAsync(60);
  collector.push(1);
  collector.push(2);
  collector.push(3);
  await vi.advanceTimersByTimeAsync(0);
  expect(batches).toEqual([[0, 1, 2]]);
  // [3] began a batch of its own: freeing the stage does not cut its wait short.
  store.free();
  await vi.advanceTimersByTimeAsync(0);
  expect(batches).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(50);
  expect(batches).toEqual([[0, 1, 2], [3]]);
});
