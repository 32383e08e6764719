import { captureLogs } from '@argus/testkit';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { retryUntilDone } from '../src/pipeline/retry.js';

describe('retryUntilDone', () => {
  test('a stop ends a long backoff at once and throws the last error (finding 27: SIGTERM took 10 s)', async () => {
    let stopping = false;
    const controller = new AbortController();
    const started = Date.now();
    const retried = retryUntilDone(
      async () => {
        throw new Error('ClickHouse away');
      },
      {
        what: 'insert',
        logger: pino({ level: 'silent' }),
        stopped: () => stopping,
        stopSignal: controller.signal,
        initialDelayMs: 10_000,
      },
    );
    setTimeout(() => {
      stopping = true;
      controller.abort();
    }, 50);
    await expect(retried).rejects.toThrow('ClickHouse away');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('retries until it succeeds', async () => {
    let calls = 0;
    const result = await retryUntilDone(
      async () => {
        if (++calls < 3) throw new Error('not yet');
        return 'done';
      },
      { what: 'x', logger: pino({ level: 'silent' }), stopped: () => false, initialDelayMs: 1 },
    );
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  test('a failure that goes on is logged once (then once a minute), each attempt at debug, and the recovery with its count', async () => {
    const logs = captureLogs({ level: 'debug' });
    let calls = 0;
    await retryUntilDone(
      async () => {
        if (++calls < 5) throw new Error('NATS away');
      },
      { what: 'republish', logger: logs.logger, stopped: () => false, initialDelayMs: 1, maxDelayMs: 2 },
    );
    const failed = logs.lines().filter((l) => l.msg === 'failed; retrying');
    expect(failed.map((l) => l.level)).toEqual([40, 20, 20, 20]);
    expect(logs.find((l) => l.msg === 'recovered')).toMatchObject({ what: 'republish', attempts: 5 });
  });
});
