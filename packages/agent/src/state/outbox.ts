import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { OutboxFullError, SpoolDamagedError } from '../errors.js';

/** The NATS message of a spooled event, made when it was spooled: the body is the entry's `event`. */
export interface SpooledMessage {
  readonly subject: string;
  /** Header name/value pairs, in order. */
  readonly headers: readonly (readonly [string, string])[];
}

/** One event waiting to be published, with what must be recorded once it is. */
export interface OutboxEntry {
  /** The CDEvent's JSON, as published; absent for a checkpoint (progress to save in its turn, nothing to publish). */
  readonly event?: string;
  /** Absent in entries spooled by earlier versions (the message is then made from `event` when published). */
  readonly message?: SpooledMessage;
  readonly cluster: string;
  /** Progress documents to save after the publish is acknowledged. */
  readonly progress?: unknown;
  readonly environments?: unknown;
}

export { OutboxFullError };

/** The line that records, after the entries it follows, that the oldest waiting entry is done. */
const ACK_LINE = '{"ack":1}';
const ACK_BYTES = Buffer.byteLength(ACK_LINE) + 1;

/**
 * Acknowledged entries and their markers are dropped from the file (rewritten with the waiting entries
 * only) once they outnumber the waiting ones and this many have accumulated: every rewrite is paid for by
 * at least as many acknowledgements, so a long backlog drains in linear time, never quadratic.
 */
const COMPACT_AFTER_LINES = 4096;

/** Bytes read at once when entries are read back: one read serves the next few dozen entries. */
const READ_AHEAD_BYTES = 64 * 1024;

/**
 * A bounded, ordered, on-disk queue of events not yet acknowledged by JetStream. Every event is
 * appended here before it is published, so a NATS outage or a crash loses nothing and order is
 * kept; entries leave it only after their publish (and progress) is acknowledged.
 *
 * The file is append-only JSON lines: an entry per line, and an ack marker (`{"ack":1}`) after each
 * acknowledged publish, which retires the oldest entry still waiting. So the acknowledgements are on
 * disk before the next publish (or batch of publishes) starts, and a restarted process (even after
 * SIGKILL) resumes with the entries whose acknowledgement was not yet recorded: at most the batch whose
 * publishes were in flight, which the JetStream duplicate window (`Nats-Msg-Id`) and the progress in KV
 * make harmless.
 * Appends and markers are not fsynced: a process crash keeps them (the page cache survives it); a
 * machine crash may lose the last ones, which costs repeats (markers) or re-detection from Argo CD's
 * state with the progress in KV (entries). The whole-file rewrites (at open, and when acknowledged
 * entries pile up) are fsynced before they replace the old file.
 *
 * Entries are read back from the file when their turn comes: memory holds only where each waiting
 * entry is (two numbers), so a backlog of 100,000 events during an outage costs about a megabyte.
 * `peek` and `ack` are meant for one consumer (the publish loop), one call at a time; `append` may
 * run alongside them.
 */
export class Outbox {
  readonly #file: string;
  readonly #maxEntries: number;
  /** Byte offset and length (without the newline) of every entry in the file; `#head` is the oldest waiting. */
  #offsets: number[] = [];
  #lengths: number[] = [];
  #head = 0;
  /** Where the file ends once every queued write is done, and how much of it is written already. */
  #end = 0;
  #writtenEnd = 0;
  /** Ack markers and acknowledged entries in the file since it was last rewritten. */
  #retiredLines = 0;
  #appendHandle: FileHandle | undefined;
  #readHandle: FileHandle | undefined;
  /** The last bytes read, from file offset `#cacheAt`. */
  #cache: Buffer = Buffer.alloc(0);
  #cacheAt = 0;
  #writing: Promise<void> = Promise.resolve();
  /** The next write, its bytes and where the file ends after it: appends and markers queued together go out in one write. */
  #batch: { parts: Buffer[]; end: number; written: Promise<void> } | undefined;

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
    let offset = 0;
    try {
      const input = createInterface({ input: createReadStream(this.#file, 'utf8'), crlfDelay: Infinity });
      for await (const line of input) {
        const bytes = Buffer.byteLength(line);
        if (line === ACK_LINE) {
          if (this.#head < this.#offsets.length) this.#head++;
        } else if (line.trim() !== '' && isEntry(line)) {
          this.#offsets.push(offset);
          this.#lengths.push(bytes);
        }
        // A torn last line from a crash mid-append is skipped: its event was never published, and the
        // app's history reconciliation will emit it again.
        offset += bytes + 1;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    this.#end = offset;
    this.#writtenEnd = offset;
  }

  get depth(): number {
    return this.#offsets.length - this.#head;
  }

  /** Every unacknowledged entry, oldest first, read from the file. */
  async *pending(): AsyncGenerator<OutboxEntry> {
    await this.#writing;
    for (let i = this.#head; i < this.#offsets.length; i++) yield await this.#read(i);
  }

  /** The oldest unacknowledged entry. */
  async peek(): Promise<OutboxEntry | undefined> {
    return (await this.peekMany(1))[0];
  }

  /** Up to `max` of the oldest unacknowledged entries, oldest first, for one batch of publishes. */
  async peekMany(max: number): Promise<OutboxEntry[]> {
    const head = this.#head;
    const count = Math.min(max, this.depth);
    if (count === 0) return [];
    // Their appends may still be queued; appends queued later only add to the end of the file.
    const last = head + count - 1;
    if ((this.#offsets[last] ?? 0) + (this.#lengths[last] ?? 0) > this.#writtenEnd) await this.#writing;
    const entries: OutboxEntry[] = [];
    for (let i = head; i <= last; i++) entries.push(await this.#read(i));
    return entries;
  }

  async append(entry: OutboxEntry): Promise<void> {
    if (this.depth >= this.#maxEntries) throw new OutboxFullError(this.depth);
    const bytes = Buffer.from(`${JSON.stringify(entry)}\n`);
    this.#offsets.push(this.#end);
    this.#lengths.push(bytes.length - 1);
    this.#end += bytes.length;
    await this.#write(bytes);
  }

  /** Marks the oldest `count` entries as done (one marker each, in one write), on disk before it resolves. */
  async ack(count = 1): Promise<void> {
    const retired = Math.min(count, this.depth);
    if (retired <= 0) return;
    this.#head += retired;
    this.#retiredLines += 2 * retired;
    if (this.depth === 0) {
      // Drained: the whole file is acknowledged; empty it rather than let it grow.
      this.#offsets = [];
      this.#lengths = [];
      this.#head = 0;
      this.#end = 0;
      this.#retiredLines = 0;
      await this.#serial(async () => {
        await (await this.#appender()).truncate(0);
        this.#writtenEnd = 0;
        this.#cache = Buffer.alloc(0);
      });
      return;
    }
    if (this.#retiredLines >= COMPACT_AFTER_LINES && this.#retiredLines >= this.depth) {
      await this.#rewrite();
      return;
    }
    this.#end += ACK_BYTES * retired;
    await this.#write(Buffer.from(`${ACK_LINE}\n`.repeat(retired)));
  }

  /** Waits for queued writes and closes the file. */
  async close(): Promise<void> {
    await this.#serial(async () => {
      await this.#appendHandle?.close();
      await this.#readHandle?.close();
      this.#appendHandle = undefined;
      this.#readHandle = undefined;
    });
  }

  #write(bytes: Buffer): Promise<void> {
    let batch = this.#batch;
    if (batch === undefined) {
      const next = { parts: [] as Buffer[], end: 0, written: Promise.resolve() };
      next.written = this.#serial(async () => {
        // Appends from now on go into a later write.
        if (this.#batch === next) this.#batch = undefined;
        await (await this.#appender()).appendFile(
          next.parts.length === 1 ? (next.parts[0] as Buffer) : Buffer.concat(next.parts),
        );
        this.#writtenEnd = next.end;
      });
      this.#batch = next;
      batch = next;
    }
    batch.parts.push(bytes);
    // Callers move #end past these bytes before queueing them.
    batch.end = this.#end;
    return batch.written;
  }

  #serial(write: () => Promise<void>): Promise<void> {
    // Whatever is queued after this write goes into a later one.
    this.#batch = undefined;
    this.#writing = this.#writing.then(write, write);
    return this.#writing;
  }

  async #appender(): Promise<FileHandle> {
    this.#appendHandle ??= await open(this.#file, 'a');
    return this.#appendHandle;
  }

  async #read(index: number): Promise<OutboxEntry> {
    const offset = this.#offsets[index] ?? 0;
    const length = this.#lengths[index] ?? 0;
    const from = offset - this.#cacheAt;
    if (from < 0 || from + length > this.#cache.length) {
      this.#readHandle ??= await open(this.#file, 'r');
      const buffer = Buffer.allocUnsafe(Math.max(READ_AHEAD_BYTES, length));
      const { bytesRead } = await this.#readHandle.read(buffer, 0, buffer.length, offset);
      if (bytesRead < length) throw new SpoolDamagedError(this.#file, offset);
      this.#cache = buffer.subarray(0, bytesRead);
      this.#cacheAt = offset;
    }
    const start = offset - this.#cacheAt;
    return JSON.parse(this.#cache.toString('utf8', start, start + length)) as OutboxEntry;
  }

  /** Rewrites the file with the entries waiting now; resolves once it replaced the old one. */
  #rewrite(): Promise<void> {
    const offsets = this.#offsets.slice(this.#head);
    const lengths = this.#lengths.slice(this.#head);
    // The entries' places in the new file, and where it ends: in force from now on, for appends queued after.
    this.#offsets = [];
    this.#lengths = lengths;
    this.#head = 0;
    this.#retiredLines = 0;
    let end = 0;
    for (const length of lengths) {
      this.#offsets.push(end);
      end += length + 1;
    }
    this.#end = end;
    return this.#serial(() => this.#replace(offsets, lengths, end));
  }

  async #replace(offsets: readonly number[], lengths: readonly number[], end: number): Promise<void> {
    // Copy, fsync, rename: a crash leaves either the old file or the new one, never half of one.
    const tmp = `${this.#file}.tmp`;
    const out = await open(tmp, 'w');
    try {
      let chunk: Buffer[] = [];
      let size = 0;
      for (const [i, offset] of offsets.entries()) {
        const length = lengths[i] ?? 0;
        const line = Buffer.allocUnsafe(length + 1);
        await this.#readInto(line, length, offset);
        line[length] = 0x0a;
        chunk.push(line);
        size += line.length;
        // In pieces of about 1 MB: a long backlog is never held whole.
        if (size >= 1 << 20) {
          await out.writeFile(Buffer.concat(chunk));
          chunk = [];
          size = 0;
        }
      }
      if (chunk.length > 0) await out.writeFile(Buffer.concat(chunk));
      await out.sync();
    } finally {
      await out.close();
    }
    await this.#appendHandle?.close();
    await this.#readHandle?.close();
    this.#appendHandle = undefined;
    this.#readHandle = undefined;
    this.#cache = Buffer.alloc(0);
    await rename(tmp, this.#file);
    this.#writtenEnd = end;
  }

  async #readInto(target: Buffer, length: number, offset: number): Promise<void> {
    this.#readHandle ??= await open(this.#file, 'r');
    const { bytesRead } = await this.#readHandle.read(target, 0, length, offset);
    if (bytesRead < length) throw new SpoolDamagedError(this.#file, offset);
  }
}

const isEntry = (line: string): boolean => {
  try {
    const entry = JSON.parse(line) as Partial<OutboxEntry> | null;
    return typeof entry?.event === 'string' || (entry?.event === undefined && entry?.progress !== undefined);
  } catch {
    return false;
  }
};
