import { OptionsError, parseDuration } from '@argus/runtime';
import type { Logger } from 'pino';

/**
 * Fault injection for tests (`--failpoint`, `ARGUS_FAILPOINT`), behind one interface so the
 * pipeline's stages do not carry test switches: a running hub without a failpoint calls no-ops.
 */
export interface Failpoints {
  /** Before each ClickHouse insert: throws to make it fail as a server that is down would. */
  beforeInsert(): void;
  /** After a batch's rows are stored and before any of its messages is acked. */
  afterInsert(rows: number): void;
}

export const NO_FAILPOINTS: Failpoints = Object.freeze({
  beforeInsert: () => undefined,
  afterInsert: () => undefined,
});

/** What `--failpoint` accepts; `failpoints()` reads the duration. */
export const FAILPOINT_PATTERN = {
  regex: /^(kill-after-insert|fail-inserts-for=\S+)$/,
  accepted: 'kill-after-insert or fail-inserts-for=<duration>',
} as const;

/** Every insert fails until `untilMs` (epoch ms). */
export const failInsertsUntil = (untilMs: number): Failpoints => ({
  beforeInsert: () => {
    if (Date.now() < untilMs) throw new Error('failpoint fail-inserts-for: insert refused');
  },
  afterInsert: () => undefined,
});

/** SIGKILLs the process right after a batch is stored and before any of it is acked: the worst moment for a crash. */
export const killAfterInsert = (logger: Logger): Failpoints => ({
  beforeInsert: () => undefined,
  afterInsert: (rows) => {
    logger.warn({ rows }, 'failpoint kill-after-insert: SIGKILL before ack');
    process.kill(process.pid, 'SIGKILL');
  },
});

/**
 * The failpoints of `--failpoint` (already matched against FAILPOINT_PATTERN): `kill-after-insert`,
 * or `fail-inserts-for=<duration>`, counted from `nowMs` (the hub's start).
 */
export const failpoints = (
  text: string | undefined,
  logger: Logger,
  nowMs: number = Date.now(),
): Failpoints => {
  if (text === undefined) return NO_FAILPOINTS;
  if (text === 'kill-after-insert') return killAfterInsert(logger);
  const duration = /^fail-inserts-for=(.+)$/.exec(text)?.[1];
  const ms = duration === undefined ? undefined : parseDuration(duration);
  if (ms === undefined)
    throw new OptionsError(
      `--failpoint ${JSON.stringify(text)} is not valid: expected ${FAILPOINT_PATTERN.accepted} (a duration such as 8s)`,
      '--failpoint',
    );
  return failInsertsUntil(nowMs + ms);
};
