import {
  clickHouseErrorCode,
  clickHouseErrorName,
  QueryLimitError,
  SqlFailedError,
  SqlRefusedError,
} from './errors.js';
import { currentQuerySignal, type Store } from './store.js';

/** What one ad-hoc SQL statement may cost and return. */
export interface SqlLimits {
  /** Most rows returned; beyond them the answer says `truncated`. */
  readonly maxRows: number;
  /** ClickHouse's `max_execution_time`, in milliseconds. */
  readonly maxExecutionMs: number;
  /** Most bytes of JSON rows returned (a gRPC answer holds at most 4 MiB); beyond them `truncated`. */
  readonly maxBytes: number;
}

/**
 * Ad-hoc SQL runs in the process that ingests (chdb cannot stop a running query): a few seconds and
 * a screenful of rows by default, raised per hub with --sql-max-time and --sql-max-rows.
 */
export const DEFAULT_SQL_LIMITS: SqlLimits = Object.freeze({
  maxRows: 1000,
  maxExecutionMs: 10_000,
  maxBytes: 3 * 1024 * 1024,
});

/** The statements that only read; the first word of the query must be one of them. */
export const READ_STATEMENTS: readonly string[] = ['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXPLAIN'];

export interface SqlAnswer {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** One JSON array per row, as ClickHouse wrote it. */
  readonly rows: readonly string[];
  readonly truncated: boolean;
}

/** Characters of one statement: a question, not a data load. */
export const MAX_SQL_CHARS = 100_000;

/**
 * The first word after leading whitespace and comments (`--`, `#`, `/* *\/`), by a loop: a regular
 * expression of alternatives under `*` backtracks exponentially on `----…` without a newline.
 */
const firstWord = (sql: string): string | undefined => {
  let i = 0;
  for (;;) {
    while (i < sql.length && /\s/.test(sql.charAt(i))) i++;
    if (sql.startsWith('--', i) || sql.startsWith('#', i)) {
      const end = sql.indexOf('\n', i);
      if (end < 0) return undefined;
      i = end + 1;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) return undefined;
      i = end + 2;
    } else return /^[A-Za-z]+/.exec(sql.slice(i, i + 64))?.[0];
  }
};
/**
 * A SETTINGS clause anywhere, a subquery's too: ClickHouse applies a subquery's `SETTINGS readonly = 0`
 * even under the statement's readonly = 1 (measured with chdb 3.4: file() then read the disk).
 * `system.settings` stays readable.
 */
const SETTINGS_WORD = /(?<!system\.)\bsettings\b/i;
/** `INTO OUTFILE` writes a file in chdb whatever readonly says (measured). */
const OUTFILE_WORD = /\boutfile\b/i;

/**
 * The statement to run, or a SqlRefusedError. The words are refused anywhere, inside strings too:
 * a guard that tokenised like ClickHouse could disagree with it; this one cannot be fooled by
 * quoting, comments or heredocs, at the price of refusing `';'` in a literal (use char(59)).
 * ClickHouse's readonly = 1 stops every write the guard would miss (the integration test tries).
 */
export const checkReadOnlySql = (query: string): string => {
  const statement = query.trim().replace(/;\s*$/, '').trimEnd();
  const accepted = `${READ_STATEMENTS.join(', ')}`;
  if (statement === '')
    throw new SqlRefusedError('empty', `the query is empty: give one ${accepted} statement`);
  if (statement.includes(';'))
    throw new SqlRefusedError(
      'several-statements',
      'the query holds a ";" before its end: give one statement (a ";" inside a string is refused too: use char(59))',
    );
  if (statement.length > MAX_SQL_CHARS)
    throw new SqlRefusedError(
      'too-long',
      `the query has ${statement.length} characters, more than ${MAX_SQL_CHARS}: ask a shorter question`,
    );
  const first = firstWord(statement)?.toUpperCase();
  if (first === undefined || !READ_STATEMENTS.includes(first))
    throw new SqlRefusedError(
      'statement',
      `only statements that read may run: ${accepted}; got ${JSON.stringify(first ?? statement.slice(0, 20))}`,
    );
  if (SETTINGS_WORD.test(statement))
    throw new SqlRefusedError(
      'settings',
      "the query names SETTINGS: settings are the hub's (readonly, --sql-max-rows, --sql-max-time); the word is refused inside strings too",
    );
  if (OUTFILE_WORD.test(statement))
    throw new SqlRefusedError(
      'outfile',
      'INTO OUTFILE is refused: the answer comes back to you, not to a file on the hub',
    );
  return statement;
};

/** The first line of ClickHouse's message, cut: enough to fix a typo, without a stack of context. */
const MESSAGE_CHARS = 500;
const shortMessage = (error: unknown): string => {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split('\n')[0]?.trim() ?? '';
  return line.length <= MESSAGE_CHARS ? line : `${line.slice(0, MESSAGE_CHARS - 1)}…`;
};

/**
 * Runs one read-only statement with ClickHouse's `readonly = 1` (no write, no settings change, no
 * file, url or remote table function) and the limits, in the statement's own SETTINGS clause:
 * chdb turns `clickhouse_settings` into session-wide SETs, which would make the hub's inserts
 * read-only too.
 */
export const runReadOnlySql = (store: Store, query: string, limits: SqlLimits): Promise<SqlAnswer> =>
  runUnderReadonly(store, checkReadOnlySql(query), limits);

/** The statement under readonly = 1 and the limits, without the guard (tests prove readonly alone holds). */
export const runUnderReadonly = async (
  store: Store,
  statement: string,
  limits: SqlLimits,
): Promise<SqlAnswer> => {
  // readonly last: set first, it would forbid the settings after it. `break` stops reading at the
  // row limit (a block later at most) instead of failing; one row more says there were more.
  const settings = [
    `max_execution_time = ${limits.maxExecutionMs / 1000}`,
    `max_memory_usage = ${store.queryLimits.maxMemoryBytes}`,
    `max_result_rows = ${limits.maxRows + 1}`,
    `result_overflow_mode = 'break'`,
    // Exact beyond 2^53 in every JSON reader (chdb leaves them unquoted by default, a server quotes).
    'output_format_json_quote_64bit_integers = 1',
    'readonly = 1',
  ].join(', ');
  const signal = currentQuerySignal();
  let text: string;
  try {
    // The newline ends a trailing `--` comment; an unclosed `/*` is a syntax error, never a way
    // to comment the settings out (measured).
    text = await store.statement('query', async () => {
      const result = await store.client.query({
        query: `${statement}\nSETTINGS ${settings}`,
        format: 'JSONCompactEachRowWithNamesAndTypes',
        ...(signal === undefined ? {} : { abort_signal: signal }),
      });
      return result.text();
    });
  } catch (error) {
    const limit = QueryLimitError.of(error, {
      time: `${limits.maxExecutionMs} ms`,
      memory: `${Math.round(store.queryLimits.maxMemoryBytes / 1024 / 1024)} MiB`,
    });
    if (limit !== undefined) throw limit;
    if (clickHouseErrorCode(error) === undefined) throw error;
    throw new SqlFailedError(
      clickHouseErrorName(error),
      `ClickHouse refused the query: ${shortMessage(error)}`,
      error,
    );
  }
  // JSON escapes newlines inside values: one line per row.
  const [names = '[]', types = '[]', ...lines] = text.split('\n').filter((l) => l !== '');
  const nameList = JSON.parse(names) as string[];
  const typeList = JSON.parse(types) as string[];
  const rows: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line);
    if (rows.length === limits.maxRows || bytes + size > limits.maxBytes) break;
    rows.push(line);
    bytes += size;
  }
  return {
    columns: nameList.map((name, i) => ({ name, type: typeList[i] ?? '' })),
    rows,
    truncated: rows.length < lines.length,
  };
};
