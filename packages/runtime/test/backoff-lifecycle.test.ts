import { getEventListeners } from 'node:events';
import { describe, expect, test } from 'vitest';
import { Backoff, PeriodicTask, readinessOf, sleep, statusOf } from '../src/index.js';

describe('Backoff', () => {
  test('doubles up to the maximum, within ±20 % jitter, and starts over after reset()', () => {
    const backoff = new Backoff(100, 400);
    const bases = [100, 200, 400, 400, 100];
    const delays = [backoff.delay(), backoff.delay(), backoff.delay(), backoff.delay()];
    backoff.reset();
    delays.push(backoff.delay());
    delays.forEach((d, i) => {
      const base = bases[i] ?? 0;
      expect(d).toBeGreaterThanOrEqual(0.8 * base);
      expect(d).toBeLessThanOrEqual(1.2 * base);
    });
  });

  test('refuses a maximum below the first delay', () => {
    expect(() => new Backoff(1000, 10)).toThrow(RangeError);
  });
});

describe('sleep', () => {
  test('an abort ends a 10-second sleep at once', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 20);
    await sleep(10_000, controller.signal);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('an already aborted signal does not wait at all', async () => {
    const controller = new AbortController();
    controller.abort();
    const started = Date.now();
    await sleep(10_000, controller.signal);
    expect(Date.now() - started).toBeLessThan(100);
  });

  test('a sleep that ends on its own leaves no listener on a long-lived signal', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 20; i++) await sleep(1, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('PeriodicTask', () => {
  test('never runs twice at once, and stop() waits for the run in progress', async () => {
    let running = 0;
    let most = 0;
    let finished = 0;
    const task = PeriodicTask.every(5, async () => {
      running++;
      most = Math.max(most, running);
      await sleep(40);
      running--;
      finished++;
    });
    task.start();
    await sleep(60);
    await task.stop();
    expect(most).toBe(1);
    expect(running).toBe(0);
    expect(finished).toBeGreaterThanOrEqual(1);
    const after = finished;
    await sleep(30);
    expect(finished).toBe(after);
  });

  test('stop() asks a long run to end early, and waits for it', async () => {
    let ended = false;
    class LongScan extends PeriodicTask {
      protected async tick(): Promise<void> {
        await sleep(10_000, this.stopping);
        ended = true;
      }
    }
    const task = new LongScan(60_000);
    void task.run();
    await sleep(20);
    const started = Date.now();
    await task.stop();
    expect(ended).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('closed() resolves only once stopped', async () => {
    const task = PeriodicTask.every(1000, async () => undefined);
    task.start();
    let closed = false;
    void task.closed().then(() => {
      closed = true;
    });
    await sleep(20);
    expect(closed).toBe(false);
    await task.stop();
    expect(closed).toBe(true);
  });
});

test('readinessOf lists every part’s reasons in order; no reasons is ready', () => {
  expect(readinessOf([{ status: () => statusOf([]) }])).toEqual({ ready: true, reasons: [] });
  expect(
    readinessOf([{ status: () => statusOf(['nats: down']) }, { status: () => statusOf(['a', 'b']) }]),
  ).toEqual({ ready: false, reasons: ['nats: down', 'a', 'b'] });
});
