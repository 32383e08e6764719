import { createHash } from 'node:crypto';
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
  /** Fault injection for tests: inserts fail until this time (epoch ms). */
  readonly failInsertsUntil?: number;
}

/** The dead letter of a row ClickHouse refused: its error name as class, its code in the detail. */
const refusal = (error: Error): RejectedMessage => {
  const code = clickHouseErrorCode(error);
  return new RejectedMessage(
    'store-rejected',
    clickHouseErrorName(error),
    `ClickHouse refused the row${code === undefined ? '' : ` (code ${code})`}: ${error.message}`,
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
  readonly #failInsertsUntil: number;

  constructor(config: InsertStageConfig) {
    this.#store = config.store;
    this.#logger = config.logger;
    this.#failInsertsUntil = config.failInsertsUntil ?? 0;
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
      if (Date.now() < this.#failInsertsUntil) throw new Error('failpoint fail-inserts-for: insert refused');
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
