import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';

/** One event waiting to be published, with what must be recorded once it is. */
export interface OutboxEntry {
  /** The serialized CDEvent. */
  readonly event: string;
  readonly cluster: string;
  /** Progress documents to save after the publish is acknowledged. */
  readonly progress?: unknown;
  readonly environments?: unknown;
}

/** The outbox is full: the oldest waiting entries stay; this one cannot be accepted. */
export class OutboxFullError extends Error {
  override name = 'OutboxFullError';
  readonly depth: number;
  constructor(depth: number) {
    super(`the on-disk spool holds ${depth} events, its limit: NATS has been unreachable too long`);
    this.depth = depth;
  }
}

/** The line that records, after the entries it follows, that the oldest waiting entry is done. */
const ACK_LINE = '{"ack":1}';

/**
 * Acknowledged entries and their markers are dropped from the file (rewritten with the waiting entries
 * only) once they outnumber the waiting ones and this many have accumulated: every rewrite is paid for by
 * at least as many acknowledgements, so a long backlog drains in linear time, never quadratic.
 */
const COMPACT_AFTER_ACKS = 4096;

/**
 * A bounded, ordered, on-disk queue of events not yet acknowledged by JetStream. Every event is
 * appended here before it is published, so a NATS outage or a crash loses nothing and order is
 * kept; entries leave it only after their publish (and progress) is acknowledged.
 *
 * The file is append-only JSON lines: an entry per line, and an ack marker (`{"ack":1}`) after each
 * acknowledged publish, which retires the oldest entry still waiting. So the acknowledgement is on
 * disk before the next publish starts, and a restarted process (even after SIGKILL) resumes with the
 * entries whose acknowledgement was not yet recorded: at most the one whose publish was in flight,
 * which the JetStream duplicate window (`Nats-Msg-Id`) and the progress in KV make harmless.
 * Appends and markers are not fsynced: a process crash keeps them (the page cache survives it); a
 * machine crash may lose the last ones, which costs repeats (markers) or re-detection from Argo CD's
 * state with the progress in KV (entries). The whole-file rewrites (at open, and when acknowledged
 * entries pile up) are fsynced before they replace the old file.
 */
export class Outbox {
  readonly #file: string;
  readonly #maxEntries: number;
  /** Every entry still in the file, serialized; `#lines[#head]` is the oldest one waiting. */
  #lines: string[] = [];
  #head = 0;
  /** Ack markers and acknowledged entries in the file since it was last rewritten. */
  #ackedInFile = 0;
  #handle: FileHandle | undefined;
  #writing: Promise<void> = Promise.resolve();
  /** The next write and its text: appends and markers queued together go out in one write. */
  #batch: { text: string; written: Promise<void> } | undefined;

  private constructor(file: string, maxEntries: number) {
    this.#file = file;
    this.#maxEntries = maxEntries;
  }

  /** Opens the spool file, keeping the entries a previous process left unacknowledged. */
  static async open(file: string, maxEntries: number): Promise<Outbox> {
    const outbox = new Outbox(file, maxEntries);
    await mkdir(dirname(file), { recursive: true });
    await outbox.#load();
    // Rewritten with the waiting entries only: no markers, no torn last line for appends to follow.
    await outbox.#rewrite();
    return outbox;
  }

  async #load(): Promise<void> {
    const lines = this.#lines;
    try {
      const input = createInterface({ input: createReadStream(this.#file, 'utf8'), crlfDelay: Infinity });
      for await (const line of input) {
        if (line.trim() === '') continue;
        if (line === ACK_LINE) {
          if (this.#head < lines.length) this.#head++;
          continue;
        }
        try {
          const entry = JSON.parse(line) as Partial<OutboxEntry>;
          if (typeof entry.event === 'string') lines.push(line);
        } catch {
          // A torn last line from a crash mid-append: its event was never published, and the app's
          // history reconciliation will emit it again.
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    this.#lines = lines.slice(this.#head);
    this.#head = 0;
  }

  get depth(): number {
    return this.#lines.length - this.#head;
  }

  /** Every unacknowledged entry, oldest first. */
  pending(): readonly OutboxEntry[] {
    return this.#lines.slice(this.#head).map((line) => JSON.parse(line) as OutboxEntry);
  }

  /** The oldest unacknowledged entry. */
  peek(): OutboxEntry | undefined {
    const line = this.#lines[this.#head];
    return line === undefined ? undefined : (JSON.parse(line) as OutboxEntry);
  }

  async append(entry: OutboxEntry): Promise<void> {
    if (this.depth >= this.#maxEntries) throw new OutboxFullError(this.depth);
    const line = JSON.stringify(entry);
    this.#lines.push(line);
    await this.#write(`${line}\n`);
  }

  /** Marks the oldest entry as done, on disk before it resolves. */
  async ack(): Promise<void> {
    if (this.depth === 0) return;
    // Released at once: a long backlog keeps only the entries still waiting in memory.
    this.#lines[this.#head] = '';
    this.#head++;
    if (this.#head >= 1024 && this.#head * 2 >= this.#lines.length) {
      this.#lines = this.#lines.slice(this.#head);
      this.#head = 0;
    }
    this.#ackedInFile += 2;
    if (this.depth === 0) {
      // Drained: the whole file is acknowledged; empty it rather than let it grow.
      this.#lines = [];
      this.#head = 0;
      this.#ackedInFile = 0;
      await this.#serial(async () => {
        await (await this.#open()).truncate(0);
      });
      return;
    }
    if (this.#ackedInFile >= COMPACT_AFTER_ACKS && this.#ackedInFile >= this.depth) {
      this.#ackedInFile = 0;
      await this.#rewrite();
      return;
    }
    await this.#write(`${ACK_LINE}\n`);
  }

  /** Waits for queued writes and closes the file. */
  async close(): Promise<void> {
    await this.#serial(async () => {
      await this.#handle?.close();
      this.#handle = undefined;
    });
  }

  #write(text: string): Promise<void> {
    let batch = this.#batch;
    if (batch === undefined) {
      const next = { text: '', written: Promise.resolve() };
      next.written = this.#serial(async () => {
        // Appends from now on go into a later write.
        if (this.#batch === next) this.#batch = undefined;
        await (await this.#open()).appendFile(next.text);
      });
      this.#batch = next;
      batch = next;
    }
    batch.text += text;
    return batch.written;
  }

  #serial(write: () => Promise<void>): Promise<void> {
    // Whatever is queued after this write goes into a later one.
    this.#batch = undefined;
    this.#writing = this.#writing.then(write, write);
    return this.#writing;
  }

  async #open(): Promise<FileHandle> {
    this.#handle ??= await open(this.#file, 'a');
    return this.#handle;
  }

  /** Queues a rewrite with the entries waiting now, in order with the appends queued before and after. */
  #rewrite(): Promise<void> {
    const lines = this.#lines.slice(this.#head);
    return this.#serial(() => this.#replace(lines));
  }

  async #replace(lines: readonly string[]): Promise<void> {
    // Write, fsync, rename: a crash leaves either the old file or the new one, never half of one.
    const tmp = `${this.#file}.tmp`;
    const handle = await open(tmp, 'w');
    try {
      // In pieces of about 1 MB: a long backlog never becomes one huge string.
      let chunk = '';
      for (const line of lines) {
        chunk += `${line}\n`;
        if (chunk.length >= 1 << 20) {
          await handle.writeFile(chunk);
          chunk = '';
        }
      }
      if (chunk !== '') await handle.writeFile(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await this.#handle?.close();
    this.#handle = undefined;
    await rename(tmp, this.#file);
  }
}
