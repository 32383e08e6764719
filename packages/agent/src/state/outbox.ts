import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

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

/**
 * A bounded, ordered, on-disk queue of events not yet acknowledged by JetStream. Every event is
 * appended here before it is published, so a NATS outage or a crash loses nothing and order is
 * kept; entries leave it only after their publish (and progress) is acknowledged.
 * The file holds one JSON entry per line; acknowledged entries at the head are dropped when the
 * queue drains and when enough of them accumulate.
 */
export class Outbox {
  readonly #file: string;
  readonly #maxEntries: number;
  #entries: OutboxEntry[] = [];
  #acked = 0;
  #writing: Promise<void> = Promise.resolve();

  private constructor(file: string, maxEntries: number) {
    this.#file = file;
    this.#maxEntries = maxEntries;
  }

  /** Opens the spool file, keeping the entries a previous process left unacknowledged. */
  static async open(file: string, maxEntries: number): Promise<Outbox> {
    const outbox = new Outbox(file, maxEntries);
    await mkdir(dirname(file), { recursive: true });
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        outbox.#entries.push(JSON.parse(line) as OutboxEntry);
      } catch {
        // A torn last line from a crash mid-append: its event was never published, and the app's
        // history reconciliation will emit it again.
      }
    }
    await outbox.#replace(outbox.#body());
    return outbox;
  }

  get depth(): number {
    return this.#entries.length - this.#acked;
  }

  /** Every unacknowledged entry, oldest first. */
  pending(): readonly OutboxEntry[] {
    return this.#entries.slice(this.#acked);
  }

  /** The oldest unacknowledged entry. */
  peek(): OutboxEntry | undefined {
    return this.#entries[this.#acked];
  }

  async append(entry: OutboxEntry): Promise<void> {
    if (this.depth >= this.#maxEntries) throw new OutboxFullError(this.depth);
    this.#entries.push(entry);
    await this.#serial(() => appendFile(this.#file, `${JSON.stringify(entry)}\n`));
  }

  /** Marks the oldest entry as done. */
  async ack(): Promise<void> {
    if (this.depth === 0) return;
    this.#acked++;
    if (this.depth === 0 || this.#acked >= 256) {
      this.#entries = this.#entries.slice(this.#acked);
      this.#acked = 0;
      // The body is taken now, in order with appends queued before and after it.
      const body = this.#body();
      await this.#serial(() => this.#replace(body));
    }
  }

  #serial(write: () => Promise<void>): Promise<void> {
    this.#writing = this.#writing.then(write, write);
    return this.#writing;
  }

  #body(): string {
    return this.#entries
      .slice(this.#acked)
      .map((e) => `${JSON.stringify(e)}\n`)
      .join('');
  }

  async #replace(body: string): Promise<void> {
    // Write then rename: a crash leaves either the old file or the new one, never half of one.
    const tmp = `${this.#file}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, this.#file);
  }
}
