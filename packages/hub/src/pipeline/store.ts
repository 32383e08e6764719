import { createHash } from 'node:crypto';
import { metricTypeLabel } from '@argus/cdevents';
import type { Logger } from '@argus/runtime';
import {
  classifyInsertError,
  clickHouseErrorCode,
  clickHouseErrorName,
  type EventRow,
  partitionChunks,
  type Store,
} from '@argus/store';
import { RejectedMessage } from '../errors.js';
import type { HubMetrics, PipelineCounts } from '../metrics.js';
import type { Accepted } from './admit.js';
import { type Failpoints, NO_FAILPOINTS } from './failpoints.js';
import { storeFailureKind } from './health.js';
import type { StageRetry } from './retry.js';

/** A deterministic token for a set of rows: a retried insert of the same rows is recognised as such. */
export const batchToken = (identities: readonly string[]): string =>
  createHash('sha256')
    .update([...identities].sort().join(','))
    .digest('hex');

/** What the insert stage needs of an admitted event. */
export interface Insertable {
  readonly identity: string;
  readonly row: EventRow;
}

/** Retries `fn` until it resolves (the hub's retry: backoff, `working()` on the batch, health). */
export type Retry = <R>(what: string, fn: () => Promise<R>) => Promise<R>;

export interface InsertStageConfig {
  readonly store: Store;
  readonly logger: Logger;
  /** @default NO_FAILPOINTS */
  readonly failpoints?: Failpoints;
}

/** The dead letter of a row ClickHouse refused: its error name as class, its code in the detail. */
const refusal = (error: Error): RejectedMessage => {
  const code = clickHouseErrorCode(error);
  return new RejectedMessage(
    'store-rejected',
    clickHouseErrorName(error),
    `ClickHouse refused the row${code === undefined ? '' : ` (code ${code})`}: ${error.message}`,
    // The driver's error itself: its class (and its own cause) go into the dead letter too.
    error,
  );
};

/**
 * Stores admitted events, and returns those ClickHouse can never store, each with its refusal. No
 * batch can block the pipeline for good:
 * - rows are split by partition first (`partitionChunks`), so no insert touches more months than
 *   ClickHouse takes in one (which it refuses whatever the rows);
 * - a failure is classified by ClickHouse's error code (`classifyInsertError`): a data error splits
 *   the rows in halves until the refused ones are found; anything else is retried (the table or a
 *   setting being wrong, loudly: the hub's health turns not ready);
 * - when every row of a part is refused as data, the table's columns are checked before believing
 *   it: a table altered under the hub would make every row look bad.
 */
export class InsertStage<T extends Insertable> {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #failpoints: Failpoints;

  constructor(config: InsertStageConfig) {
    this.#store = config.store;
    this.#logger = config.logger;
    this.#failpoints = config.failpoints ?? NO_FAILPOINTS;
  }

  async insert(items: readonly T[], retry: Retry): Promise<Map<T, RejectedMessage>> {
    const refused = new Map<T, RejectedMessage>();
    const chunks = partitionChunks(items);
    if (chunks.length > 1) {
      this.#logger.info(
        { rows: items.length, inserts: chunks.length },
        'batch spans more months than one insert may: inserting per partition group',
      );
    }
    for (const chunk of chunks) {
      const found = await retry('insert into ClickHouse', async () => {
        const inChunk = new Map<T, RejectedMessage>();
        await this.#isolate(chunk, inChunk, retry);
        if (chunk.length > 1 && inChunk.size === chunk.length) {
          // Throws SchemaMismatchError (retried, not ready) when the table is not what inserts expect.
          await this.#store.checkEventsTable();
          this.#logger.warn(
            { rows: chunk.length },
            'ClickHouse refused every row of an insert as data and the table is as expected: dead-lettering them',
          );
        }
        return inChunk;
      });
      for (const [item, rejection] of found) refused.set(item, rejection);
    }
    return refused;
  }

  /** Inserts `items`; on a data error, splits them until the refused rows are found (added to `refused`). */
  async #isolate(items: readonly T[], refused: Map<T, RejectedMessage>, retry: Retry): Promise<void> {
    const outcome = await retry('insert into ClickHouse', async () => {
      this.#failpoints.beforeInsert();
      const rows = items.map((i) => i.row);
      try {
        await this.#store.insertEvents(rows, batchToken(items.map((i) => i.identity)));
        return undefined;
      } catch (error) {
        // Anything but a data error is retried (the hub's retry logs a schema problem loudly).
        if (classifyInsertError(error) === 'data' && error instanceof Error) return error;
        throw error;
      }
    });
    if (outcome === undefined) return;
    const [only] = items;
    if (items.length === 1 && only !== undefined) {
      refused.set(only, refusal(outcome));
      return;
    }
    this.#logger.warn(
      { rows: items.length, error: clickHouseErrorName(outcome), code: clickHouseErrorCode(outcome) },
      'ClickHouse refused rows of a batch; splitting it to find them',
    );
    const half = Math.ceil(items.length / 2);
    await this.#isolate(items.slice(0, half), refused, retry);
    await this.#isolate(items.slice(half), refused, retry);
  }
}

/** What storing a batch found: rows ClickHouse refused, and first deliveries of events stored before. */
export interface StoreOutcome {
  readonly refused: Map<Accepted, RejectedMessage>;
  /** Stored and republished earlier (before a restart, past the duplicate window): not republished again. */
  readonly repeats: ReadonlySet<Accepted>;
}

export interface StoreStageConfig {
  readonly store: Store;
  readonly logger: Logger;
  readonly metrics: HubMetrics;
  readonly counts: PipelineCounts;
  /** @default NO_FAILPOINTS */
  readonly failpoints?: Failpoints;
}

/** The earliest and latest row timestamps of events (ClickHouse's text compares in time order). */
const timeRangeOf = (events: readonly Accepted[]): { since: string; until: string } => {
  let since = events[0]?.prepared.row.timestamp ?? '';
  let until = since;
  for (const a of events) {
    const t = a.prepared.row.timestamp;
    if (t < since) since = t;
    if (t > until) until = t;
  }
  return { since, until };
};

/**
 * The store stage: stores what is not stored yet. Redelivered identities are looked up first (a
 * crash between insert and ack), first deliveries in the batch's time range (the repeat lookup);
 * the rest are inserted (`InsertStage`: by partition, refused rows found by bisection).
 */
export class StoreStage {
  readonly #store: Store;
  readonly #metrics: HubMetrics;
  readonly #counts: PipelineCounts;
  readonly #failpoints: Failpoints;
  readonly #insert: InsertStage<Accepted['prepared']>;

  constructor(config: StoreStageConfig) {
    this.#store = config.store;
    this.#metrics = config.metrics;
    this.#counts = config.counts;
    this.#failpoints = config.failpoints ?? NO_FAILPOINTS;
    this.#insert = new InsertStage({
      store: config.store,
      logger: config.logger,
      failpoints: this.#failpoints,
    });
  }

  async store(accepted: readonly Accepted[], retry: StageRetry): Promise<StoreOutcome> {
    const lookup = this.#metrics.stageSeconds.startTimer({ stage: 'lookup' });
    const isRedelivered = (a: Accepted): boolean => a.msg.info.redelivered;
    const redelivered = accepted.filter(isRedelivered).map((a) => a.prepared.identity);
    const alreadyStored =
      redelivered.length === 0
        ? new Set<string>()
        : await retry('look up redelivered events', () => this.#store.existingIdentities(redelivered), {
            kindOf: storeFailureKind,
          });
    // A first delivery the recent-identity cache does not know may still repeat an event stored long
    // ago (a restart empties the cache; JetStream's window is 15 minutes; producers without message
    // ids have none): stored and republished then, it is neither now. One query a batch, within the
    // batch's time range (a repeat has its event's timestamp).
    const fresh = accepted.filter((a) => !isRedelivered(a));
    const repeats = new Set<Accepted>();
    if (fresh.length > 0) {
      const stored = await retry(
        'look up repeated events',
        () =>
          this.#store.existingIdentities(
            fresh.map((a) => a.prepared.identity),
            timeRangeOf(fresh),
          ),
        { kindOf: storeFailureKind },
      );
      for (const a of fresh) {
        if (!stored.has(a.prepared.identity)) continue;
        repeats.add(a);
        alreadyStored.add(a.prepared.identity);
      }
    }
    const toInsert = accepted.filter((a) => !alreadyStored.has(a.prepared.identity));
    this.#counts.duplicates('store', alreadyStored.size);
    lookup();
    if (toInsert.length === 0) return { refused: new Map(), repeats };
    const insert = this.#metrics.stageSeconds.startTimer({ stage: 'insert' });
    const storedRefused = await this.#insert.insert(
      toInsert.map((a) => a.prepared),
      (what, fn) => retry(what, fn, { kindOf: storeFailureKind, onError: () => this.#counts.storeError() }),
    );
    const refused = new Map<Accepted, RejectedMessage>();
    for (const a of toInsert) {
      const rejection = storedRefused.get(a.prepared);
      if (rejection !== undefined) refused.set(a, rejection);
    }
    const byType = new Map<string, number>();
    let rows = 0;
    for (const a of toInsert) {
      if (refused.has(a)) continue;
      rows++;
      const type = metricTypeLabel(a.prepared.row.type);
      byType.set(type, (byType.get(type) ?? 0) + 1);
    }
    this.#counts.stored(byType);
    insert();
    this.#failpoints.afterInsert(rows);
    return { refused, repeats };
  }
}
