import { describe, expect, test } from 'vitest';
import { INGEST_STATEMENTS_IN_A_ROW, StatementQueue } from '../src/statement-queue.js';

/** A task that records when it runs and settles when told. */
const gate = <T>(log: string[], name: string, value: T) => {
  let settle: (ok: boolean) => void = () => undefined;
  const task = () =>
    new Promise<T>((resolve, reject) => {
      log.push(`${name} runs`);
      settle = (ok) => (ok ? resolve(value) : reject(new Error(`${name} failed`)));
    });
  return { task, settle: (ok = true) => settle(ok) };
};
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('StatementQueue', () => {
  test('runs one statement at a time, in the order they came within a turn', async () => {
    const queue = new StatementQueue();
    const log: string[] = [];
    const a = gate(log, 'a', 1);
    const b = gate(log, 'b', 2);
    const first = queue.run('query', a.task);
    const second = queue.run('query', b.task);
    await tick();
    expect(log).toEqual(['a runs']);
    expect(queue.waiting).toBe(1);
    a.settle();
    expect(await first).toBe(1);
    await tick();
    expect(log).toEqual(['a runs', 'b runs']);
    b.settle();
    expect(await second).toBe(2);
  });

  test("the ingest's statement goes before queries that waited longer", async () => {
    const queue = new StatementQueue();
    const log: string[] = [];
    const running = gate(log, 'dashboard read', 0);
    const queued = gate(log, 'second read', 0);
    const insert = gate(log, 'insert', 0);
    void queue.run('query', running.task);
    const read = queue.run('query', queued.task);
    const stored = queue.run('ingest', insert.task);
    await tick();
    running.settle();
    await tick();
    expect(log).toEqual(['dashboard read runs', 'insert runs']);
    insert.settle();
    await stored;
    await tick();
    queued.settle();
    await read;
    expect(log).toEqual(['dashboard read runs', 'insert runs', 'second read runs']);
  });

  test("a batch's lookup and insert go one after the other; then a waiting query, before the next batch", async () => {
    const queue = new StatementQueue();
    const log: string[] = [];
    const statement = (turn: 'ingest' | 'query', name: string) =>
      queue.run(turn, async () => {
        log.push(name);
        await tick();
      });
    // The hub's store stage: the insert is sent in the continuation of the lookup's answer.
    const batch = async (n: number) => {
      await statement('ingest', `lookup ${n}`);
      // Its retry wrapper, filters and insert stage: promise continuations, no turn of the loop.
      for (let hop = 0; hop < 20; hop++) await Promise.resolve();
      await statement('ingest', `insert ${n}`);
    };
    // Batches are stored one after the other (the hub's store lane): the next starts as one ends.
    const first = batch(1);
    const read = statement('query', 'dashboard read');
    const second = first.then(() => batch(2));
    await Promise.all([first, read, second]);
    expect(log).toEqual(['lookup 1', 'insert 1', 'dashboard read', 'lookup 2', 'insert 2']);
    expect(INGEST_STATEMENTS_IN_A_ROW).toBe(2);
  });

  test('a statement whose caller gave up while it waited never runs; the line goes on', async () => {
    const queue = new StatementQueue();
    const log: string[] = [];
    const running = gate(log, 'running', 0);
    const abandoned = gate(log, 'abandoned', 0);
    const next = gate(log, 'next', 0);
    const controller = new AbortController();
    void queue.run('query', running.task);
    const given = queue.run('query', abandoned.task, { signal: controller.signal });
    const after = queue.run('query', next.task);
    controller.abort(new Error('client gone'));
    await expect(given).rejects.toThrow('client gone');
    expect(queue.waiting).toBe(1);
    running.settle();
    await tick();
    next.settle();
    await after;
    expect(log).toEqual(['running runs', 'next runs']);
    // Already aborted: refused at once.
    await expect(queue.run('query', abandoned.task, { signal: controller.signal })).rejects.toThrow(
      'client gone',
    );
  });

  test("a failure reaches its caller at once; the next statement waits for the failure's clean-up", async () => {
    const queue = new StatementQueue();
    const log: string[] = [];
    const failing = gate(log, 'failing', 0);
    const next = gate(log, 'next', 0);
    let cleaned: () => void = () => undefined;
    const failed = queue.run('query', failing.task, {
      afterFailure: () =>
        new Promise<void>((resolve) => {
          log.push('clean-up runs');
          cleaned = resolve;
        }),
    });
    const after = queue.run('query', next.task);
    await tick();
    failing.settle(false);
    await expect(failed).rejects.toThrow('failing failed');
    await tick();
    expect(log).toEqual(['failing runs', 'clean-up runs']);
    cleaned();
    await tick();
    expect(log).toEqual(['failing runs', 'clean-up runs', 'next runs']);
    next.settle();
    await after;
  });

  test('a task that throws before its promise, or a clean-up that fails, does not stop the line', async () => {
    const queue = new StatementQueue();
    const throwing = queue.run(
      'ingest',
      () => {
        throw new Error('at once');
      },
      { afterFailure: () => Promise.reject(new Error('clean-up failed')) },
    );
    await expect(throwing).rejects.toThrow('at once');
    expect(await queue.run('query', async () => 'still answers')).toBe('still answers');
  });
});
