import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { OutboxFullError } from '../src/errors.js';
import { Outbox } from '../src/state/outbox.js';

const dirs: string[] = [];
const opened: Outbox[] = [];
afterEach(async () => {
  for (const outbox of opened.splice(0)) await outbox.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const spoolFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'argus-outbox-'));
  dirs.push(dir);
  return join(dir, 'spool.jsonl');
};
const openOutbox = async (file: string, max = 1_000_000) => {
  const outbox = await Outbox.open(file, max);
  opened.push(outbox);
  return outbox;
};
// Multi-byte text too: entries are found again by byte offsets.
const entry = (n: number) => ({
  event: `{"n":${n},"note":"déployé ✓"}`,
  cluster: 'prod-eu',
  progress: { n },
});
const numbers = async (outbox: Outbox) => {
  const out: number[] = [];
  for await (const e of outbox.pending()) out.push((e.progress as { n: number }).n);
  return out;
};
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('Outbox', () => {
  test('a crash after k acknowledgements: the reopened spool holds exactly the unacknowledged entries', async () => {
    const file = spoolFile();
    const first = await openOutbox(file);
    for (const n of range(0, 300)) await first.append(entry(n));
    for (let k = 0; k < 137; k++) await first.ack();
    // The process dies here: no close(), nothing flushed beyond what each ack awaited.
    const second = await openOutbox(file);
    expect(second.depth).toBe(300 - 137);
    expect(await numbers(second)).toEqual(range(137, 300));
    expect(await second.peek()).toEqual(entry(137));
  });

  test('batches: peekMany gives the oldest entries in order, ack(n) retires them with one write', async () => {
    const file = spoolFile();
    const first = await openOutbox(file);
    for (const n of range(0, 40)) await first.append(entry(n));
    expect(await first.peekMany(16)).toEqual(range(0, 16).map(entry));
    await first.ack(16);
    expect(await first.peekMany(100)).toEqual(range(16, 40).map(entry));
    await first.ack(5);
    // Killed here: the reopened spool resumes right after the last batch acknowledged.
    const second = await openOutbox(file);
    expect(await numbers(second)).toEqual(range(21, 40));
    await second.ack(1000);
    expect(second.depth).toBe(0);
    expect(await second.peekMany(8)).toEqual([]);
  });

  test('appends and acknowledgements not awaited one by one keep their order on disk', async () => {
    const file = spoolFile();
    const first = await openOutbox(file);
    const writes: Promise<void>[] = [];
    for (const n of range(0, 50)) {
      writes.push(first.append(entry(n)));
      if (n % 3 === 2) writes.push(first.ack());
    }
    await Promise.all(writes);
    expect(await numbers(first)).toEqual(range(16, 50));
    expect(await numbers(await openOutbox(file))).toEqual(range(16, 50));
  });

  test('a long backlog drains with bounded rewrites: the file stays within twice the waiting entries', async () => {
    const file = spoolFile();
    const outbox = await openOutbox(file);
    const total = 20_000;
    for (const n of range(0, total)) await outbox.append(entry(n));
    const lines = () => readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
    for (let k = 1; k <= 15_000; k++) {
      expect(await outbox.peek()).toEqual(entry(k - 1));
      await outbox.ack();
      if (k % 2500 === 0) {
        // Entries still waiting, plus acknowledged ones and their markers: compacted once they outnumber the rest.
        const waiting = total - k;
        expect(lines()).toBeLessThanOrEqual(waiting + Math.max(waiting, 4096) + 2);
      }
    }
    expect(await numbers(await openOutbox(file))).toEqual(range(15_000, total));
  });

  test('a publisher peeking and acknowledging while a detector appends sees every entry once, in order', async () => {
    const file = spoolFile();
    const outbox = await openOutbox(file);
    // A backlog first, so the file is rewritten (compacted) while appends keep coming.
    for (const n of range(0, 5000)) await outbox.append(entry(n));
    const total = 8000;
    const detector = (async () => {
      for (const n of range(5000, total)) {
        await outbox.append(entry(n));
        if (n % 50 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    const seen: number[] = [];
    while (seen.length < total) {
      const next = await outbox.peek();
      if (next === undefined) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      seen.push((next.progress as { n: number }).n);
      await outbox.ack();
    }
    await detector;
    expect(seen).toEqual(range(0, total));
    expect(outbox.depth).toBe(0);
    expect(statSync(file).size).toBe(0);
  });

  test('drained, the file is emptied; a torn last line from a crash mid-append is dropped', async () => {
    const file = spoolFile();
    const outbox = await openOutbox(file);
    await outbox.append(entry(1));
    await outbox.append(entry(2));
    await outbox.ack();
    await outbox.ack();
    expect(statSync(file).size).toBe(0);
    await outbox.append(entry(3));
    appendFileSync(file, '{"event":"{\\"n\\":4}","clus');
    const reopened = await openOutbox(file);
    expect(await numbers(reopened)).toEqual([3]);
    await reopened.append(entry(5));
    expect(await numbers(await openOutbox(file))).toEqual([3, 5]);
  });

  test('a spool without ack markers (written by an earlier version) is replayed whole', async () => {
    const file = spoolFile();
    appendFileSync(file, `${JSON.stringify(entry(1))}\n${JSON.stringify(entry(2))}\n`);
    expect(await numbers(await openOutbox(file))).toEqual([1, 2]);
  });

  test('full: the newest entry is refused with its depth, the waiting ones stay', async () => {
    const outbox = await openOutbox(spoolFile(), 2);
    await outbox.append(entry(1));
    await outbox.append(entry(2));
    const refused = await outbox.append(entry(3)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OutboxFullError);
    expect((refused as OutboxFullError).depth).toBe(2);
    await outbox.ack();
    await outbox.append(entry(3));
    expect(await numbers(outbox)).toEqual([2, 3]);
  });
});
