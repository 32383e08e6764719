import { DEFAULT_ACK_WAIT_MS } from '@argus/bus';
import { classifyInsertError, clickHouseErrorName, SchemaMismatchError } from '@argus/store';

/**
 * How long a stage may keep failing before the hub says it is not ready, in ms: the default ack
 * wait, so a ClickHouse restart (8 s in the chaos runs) stays ready while a full disk, a missing
 * table or a stuck republish does not.
 */
export const DEFAULT_STALL_AFTER_MS = DEFAULT_ACK_WAIT_MS;

/** `schema`: no retry can succeed until an operator acts; `transient`: retrying may succeed. */
export type FailureKind = 'transient' | 'schema';

interface Streak {
  readonly since: number;
  kind: FailureKind;
  error: string;
  attempts: number;
}

/** A ClickHouse failure's kind: the table being wrong, or a schema/settings code, is `schema`. */
export const storeFailureKind = (error: unknown): FailureKind =>
  error instanceof SchemaMismatchError || classifyInsertError(error) === 'schema' ? 'schema' : 'transient';

/** ClickHouse's error name where it gave one (`UNKNOWN_TABLE`), else the class (NATS errors' codes are not ClickHouse's). */
const describe = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const type: unknown = (error as { type?: unknown }).type;
  return `${typeof type === 'string' && type !== '' ? clickHouseErrorName(error) : error.name}: ${error.message}`;
};

/**
 * Whether the pipeline's stages (lookup, insert, dead letters, republish) are getting through, for
 * /readyz: a stage failing with a schema problem makes the hub not ready at once; one failing for
 * any other reason, after `stallAfterMs` of failures without a success in between.
 */
export class PipelineHealth {
  readonly #stallAfterMs: number;
  readonly #now: () => number;
  readonly #streaks = new Map<string, Streak>();

  constructor(options: { stallAfterMs?: number; now?: () => number } = {}) {
    this.#stallAfterMs = options.stallAfterMs ?? DEFAULT_STALL_AFTER_MS;
    this.#now = options.now ?? Date.now;
  }

  failed(stage: string, kind: FailureKind, error: unknown): void {
    const streak = this.#streaks.get(stage);
    if (streak === undefined) {
      this.#streaks.set(stage, { since: this.#now(), kind, error: describe(error), attempts: 1 });
      return;
    }
    streak.kind = kind;
    streak.error = describe(error);
    streak.attempts++;
  }

  succeeded(stage: string): void {
    this.#streaks.delete(stage);
  }

  /** Reasons the pipeline is not getting through (empty: ready). */
  reasons(): string[] {
    const now = this.#now();
    const reasons: string[] = [];
    for (const [stage, s] of this.#streaks) {
      const seconds = Math.round((now - s.since) / 1000);
      if (s.kind === 'schema') {
        reasons.push(
          `${stage}: refused by ClickHouse for a schema, settings or storage problem (${s.error}); an operator must act`,
        );
      } else if (now - s.since >= this.#stallAfterMs) {
        reasons.push(`${stage}: failing for ${seconds} s, ${s.attempts} attempts (last: ${s.error})`);
      }
    }
    return reasons;
  }
}
