import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { createLogger, Shutdown } from '../src/index.js';

const capture = () => {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return {
    lines,
    logger: createLogger({ service: 'argus-test', instance: 'i1', level: 'debug', destination }),
  };
};

const flush = () => new Promise((r) => setImmediate(r));

describe('createLogger', () => {
  test('tokens, passwords and authorization headers never reach a line', async () => {
    const { lines, logger } = capture();
    logger.info(
      { token: 's3cret-token', headers: { authorization: 'Bearer s3cret' }, user: { password: 'pw' } },
      'x',
    );
    logger.child({ component: 'c' }).info({ opts: { argocdToken: 'argo-s3cret' } }, 'y');
    await flush();
    const text = JSON.stringify(lines);
    expect(text).not.toContain('s3cret');
    expect(text).not.toContain('"pw"');
    expect(lines[0]).toMatchObject({ service: 'argus-test', instance: 'i1', token: '[redacted]', msg: 'x' });
    expect(lines[1]).toMatchObject({ component: 'c', opts: { argocdToken: '[redacted]' } });
  });
});

describe('Shutdown', () => {
  test('runs steps in reverse order, once, and survives a failing step', async () => {
    const { lines, logger } = capture();
    const order: string[] = [];
    const s = new Shutdown(logger, { stepTimeoutMs: 100 });
    s.add('storage', () => {
      order.push('storage');
    });
    s.add('broken', () => {
      throw new Error('boom');
    });
    s.add('intake', async () => {
      order.push('intake');
    });
    const first = s.shutdown('test');
    const second = s.shutdown('again');
    await expect(first).rejects.toThrow('1 shutdown step(s) failed');
    await expect(second).rejects.toThrow();
    expect(order).toEqual(['intake', 'storage']);
    await flush();
    expect(lines.find((l) => l.msg === 'shutdown step failed')).toMatchObject({ step: 'broken' });
  });

  test('a step that hangs is cut off by its timeout', async () => {
    const { logger } = capture();
    const s = new Shutdown(logger, { stepTimeoutMs: 50 });
    const order: string[] = [];
    s.add('after', () => {
      order.push('after');
    });
    s.add('hang', () => new Promise<void>(() => {}));
    const started = Date.now();
    await expect(s.shutdown('test')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(order).toEqual(['after']);
  });
});
