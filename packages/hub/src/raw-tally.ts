/** A cut of one instance's messages: `[last sequence removed, its bytes up to and including it]`. */
export type Cut = readonly [seq: number, bytes: number];

interface Held {
  bytes: number;
  lastSeq: number;
  /** Cuts every `checkpointBytes`, oldest first. */
  checkpoints: [number, number][];
}

/**
 * Bytes each instance holds in CDEVENTS_RAW among the messages read so far (sequences up to
 * `readTo`), kept between the raw quota's checks so that each check reads only the messages handled
 * since the last one. Re-reading the whole stream at each trim took longer, at 5,000 events/s, than
 * the stream took to fill (docs/benchmarks.md, 2026-12-07). What leaves the stream is taken off:
 * the quota's own purges exactly, expiry and other removals at the first sequence still held, to
 * within one checkpoint of each instance. Removals after the first sequence by someone else (another
 * hub replica's purges) are not seen: the quota starts a new tally now and then (RAW_FULL_READ_EVERY_MS).
 */
export class RawTally {
  readonly #checkpointBytes: number;
  readonly #held = new Map<string, Held>();
  #readTo: number;

  /** `readTo`: the last sequence already accounted for (the stream's first sequence - 1 at the start). */
  constructor(checkpointBytes: number, readTo = 0) {
    this.#checkpointBytes = checkpointBytes;
    this.#readTo = readTo;
  }

  /** The last sequence read. */
  get readTo(): number {
    return this.#readTo;
  }

  /** A message read, in sequence order. */
  add(instance: string, seq: number, bytes: number): void {
    let h = this.#held.get(instance);
    if (h === undefined) {
      h = { bytes: 0, lastSeq: seq, checkpoints: [] };
      this.#held.set(instance, h);
    }
    h.bytes += bytes;
    h.lastSeq = seq;
    const last = h.checkpoints.at(-1)?.[1] ?? 0;
    if (h.bytes - last >= this.#checkpointBytes) h.checkpoints.push([seq, h.bytes]);
    this.#readTo = Math.max(this.#readTo, seq);
  }

  /** Messages read without an instance (or none at all) up to `seq`. */
  readUpTo(seq: number): void {
    this.#readTo = Math.max(this.#readTo, seq);
  }

  /** Bytes per instance. */
  totals(): Map<string, number> {
    return new Map([...this.#held].map(([instance, h]) => [instance, h.bytes]));
  }

  /** The first checkpoint of `instance` that removes at least `bytes`; its last message read if none does. */
  cutFor(instance: string, bytes: number): Cut | undefined {
    const h = this.#held.get(instance);
    if (h === undefined) return undefined;
    return h.checkpoints.find(([, upTo]) => upTo >= bytes) ?? [h.lastSeq, h.bytes];
  }

  /** The instance's messages up to and including `cut[0]` were purged. */
  purged(instance: string, cut: Cut): void {
    const h = this.#held.get(instance);
    if (h !== undefined) this.#removeUpTo(instance, h, cut);
  }

  /**
   * The stream now starts at `firstSeq`: what came before is gone (expired, or purged by someone
   * else). Each instance loses its messages up to its last checkpoint before `firstSeq`.
   */
  startsAt(firstSeq: number): void {
    for (const [instance, h] of this.#held) {
      if (h.lastSeq < firstSeq) {
        this.#held.delete(instance);
        continue;
      }
      let cut: Cut | undefined;
      for (const checkpoint of h.checkpoints) {
        if (checkpoint[0] >= firstSeq) break;
        cut = checkpoint;
      }
      if (cut !== undefined) this.#removeUpTo(instance, h, cut);
    }
  }

  #removeUpTo(instance: string, h: Held, [seq, bytes]: Cut): void {
    if (seq >= h.lastSeq) {
      this.#held.delete(instance);
      return;
    }
    h.bytes -= bytes;
    h.checkpoints = h.checkpoints.filter(([at]) => at > seq).map(([at, upTo]) => [at, upTo - bytes]);
  }
}
