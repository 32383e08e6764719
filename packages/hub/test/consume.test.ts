import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { ByteBudget } from '../src/pipeline/budget.js';
import { ConsumeLoop, type MessageStream } from '../src/pipeline/consume.js';

const logger = pino({ level: 'silent' });

/** A stream of `items` that then stays open until stopped, as a JetStream consumer does. */
const streamOf = (items: number[]): MessageStream<number> => {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  return {
    async *[Symbol.asyncIterator]() {
      yield* items;
      await stopped;
    },
    closed: () => stopped,
    stop,
  };
};

const loop = (open: () => Promise<MessageStream<number>>, submitted: number[][], retryMs = 10_000) =>
  new ConsumeLoop<number>({
    open,
    batchSize: 2,
    batchMaxWaitMs: 10,
    budget: new ByteBudget(1000),
    batchesInFlight: 3,
    sizeOf: () => 1,
    submit: async (batch) => {
      submitted.push(batch);
    },
    drained: async () => undefined,
    logger,
    retryDelayMs: { initial: retryMs, max: retryMs },
  });

describe('ConsumeLoop', () => {
  test('a stop during a 10-second wait to bind again returns at once (the hub waited it out)', async () => {
    let attempts = 0;
    const consume = loop(async () => {
      attempts++;
      throw new Error('consumer not found');
    }, []);
    consume.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(attempts).toBe(1);
    expect(consume.consuming).toBe(false);
    const started = Date.now();
    await consume.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(attempts).toBe(1);
  });

  test('batches what it reads, binds again after a failure, and stop() ends the pulls', async () => {
    const submitted: number[][] = [];
    let opened = 0;
    const consume = loop(
      async () => {
        opened++;
        if (opened === 1) throw new Error('leader changing');
        return streamOf([1, 2, 3]);
      },
      submitted,
      5,
    );
    consume.start();
    for (let i = 0; i < 100 && submitted.flat().length < 3; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(opened).toBe(2);
    expect(consume.consuming).toBe(true);
    expect(submitted).toEqual([[1, 2], [3]]);
    await consume.stop();
    expect(consume.consuming).toBe(false);
  });
});
