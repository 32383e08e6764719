import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { WaitForTimeoutError } from '../src/errors.js';
import { captureLogs, freePort, freePorts, waitFor } from '../src/index.js';

describe('waitFor', () => {
  test('returns the first truthy value', async () => {
    let n = 0;
    expect(await waitFor(() => (++n >= 3 ? n : 0), { what: 'three calls', intervalMs: 1 })).toBe(3);
  });

  test('times out saying what it waited for, with the last error', async () => {
    const error = await waitFor(
      () => {
        throw new Error('not yet: 2 of 3 rows');
      },
      { what: '3 rows in cdevents', timeoutMs: 60, intervalMs: 10 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitForTimeoutError);
    expect((error as Error).message).toBe(
      'timed out after 60 ms waiting for 3 rows in cdevents; last error: not yet: 2 of 3 rows',
    );
  });
});

describe('ports', () => {
  test('a free port can be bound; freePorts are distinct', async () => {
    const port = await freePort();
    await new Promise<void>((resolve, reject) => {
      const s = createServer()
        .once('error', reject)
        .listen(port, '127.0.0.1', () => s.close(() => resolve()));
    });
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
  });

  test('ports come from below the ephemeral range, so an outgoing connection cannot take one first', async () => {
    const ephemeralLow = existsSync('/proc/sys/net/ipv4/ip_local_port_range')
      ? Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
      : 32768;
    const ports = await freePorts(50);
    expect(new Set(ports).size).toBe(50);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(ephemeralLow);
    }
  });
});

describe('captureLogs', () => {
  test('lines are parsed and searchable', () => {
    const logs = captureLogs();
    logs.logger.child({ component: 'c' }).warn({ n: 2 }, 'two things');
    expect(logs.find((l) => l.msg === 'two things')).toMatchObject({ component: 'c', n: 2, level: 40 });
    expect(logs.text()).toContain('two things');
    logs.clear();
    expect(logs.lines()).toEqual([]);
  });
});
