import { expect, test } from 'vitest';
import { Serial } from '../src/pipeline/serial.js';

const gate = () => {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
};

test('tasks run one at a time, in the order they were given', async () => {
  const serial = new Serial();
  const log: string[] = [];
  const first = gate();
  const a = serial.run(async () => {
    log.push('a start');
    await first.opened;
    log.push('a end');
  });
  const b = serial.run(async () => {
    log.push('b');
  });
  await Promise.resolve();
  expect(log).toEqual(['a start']);
  first.open();
  await Promise.all([a, b]);
  expect(log).toEqual(['a start', 'a end', 'b']);
});

test('a failed task rejects its own caller only', async () => {
  const serial = new Serial();
  const failed = serial.run(async () => {
    throw new Error('boom');
  });
  await expect(failed).rejects.toThrow('boom');
  await expect(serial.run(async () => 'next')).resolves.toBe('next');
  expect(serial.idle()).toBeUndefined();
});

test('idle is undefined when nothing runs, and resolves only once the tasks added meanwhile are done too', async () => {
  const serial = new Serial();
  expect(serial.idle()).toBeUndefined();
  const first = gate();
  const second = gate();
  void serial.run(() => first.opened);
  let idle = false;
  void serial.idle()?.then(() => {
    idle = true;
  });
  // A task given while the first runs: idle waits for it as well.
  void serial.run(() => second.opened);
  first.open();
  await new Promise((resolve) => setTimeout(resolve, 10));
  expect(idle).toBe(false);
  second.open();
  await new Promise((resolve) => setTimeout(resolve, 10));
  expect(idle).toBe(true);
  expect(serial.idle()).toBeUndefined();
});
