/** Base class of the store's errors. */
export class StoreError extends Error {
  override name = 'StoreError';
}

/** Options that cannot open a store (both or neither of url and dataDir, a bad database name). */
export class StoreOptionsError extends StoreError {
  override name = 'StoreOptionsError';
}

/** A migration failed; the store refuses to run on a half-migrated schema. */
export class MigrationError extends StoreError {
  override name = 'MigrationError';
  readonly version: number;
  constructor(version: number, name: string, cause: unknown) {
    super(
      `migration ${version} (${name}) failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
    this.version = version;
  }
}

/** A query's arguments are out of range (a limit, a window); the message names the argument. */
export class StoreQueryError extends StoreError {
  override name = 'StoreQueryError';
}

/**
 * What an insert's failure says about the rows and the server, so the caller knows what to do:
 * - `data`: ClickHouse cannot parse or hold a value it was sent; the same rows can never be stored
 *   (find them and dead-letter them);
 * - `transient`: the server is away, busy, full or merging (no error code at all: the socket failed);
 *   retrying the same rows later can succeed;
 * - `schema`: the table, a column, a setting, a grant or the data on disk is wrong; no insert can
 *   succeed until an operator acts (retry, and say so loudly).
 */
export type InsertErrorKind = 'data' | 'transient' | 'schema';

/**
 * ClickHouse error codes (ErrorCodes.cpp; `errorCodeToName(code)` names them) by kind. Codes, not
 * message text: messages change between releases and carry the values. Unlisted codes count as
 * transient: they are retried, and a pipeline that keeps failing is reported as not ready.
 */
export const CLICKHOUSE_ERROR_KINDS = {
  data: {
    CANNOT_PARSE_TEXT: 6,
    CANNOT_PARSE_ESCAPE_SEQUENCE: 25,
    CANNOT_PARSE_QUOTED_STRING: 26,
    CANNOT_PARSE_INPUT_ASSERTION_FAILED: 27,
    CANNOT_READ_ALL_DATA: 33,
    CANNOT_PARSE_DATE: 38,
    CANNOT_PARSE_DATETIME: 41,
    ARGUMENT_OUT_OF_BOUND: 69,
    CANNOT_CONVERT_TYPE: 70,
    CANNOT_PARSE_NUMBER: 72,
    INCORRECT_DATA: 117,
    TOO_LARGE_STRING_SIZE: 131,
    VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE: 321,
    CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN: 349,
    CANNOT_PARSE_UUID: 376,
    DECIMAL_OVERFLOW: 407,
    CANNOT_PARSE_BOOL: 467,
  },
  schema: {
    UNSUPPORTED_METHOD: 1,
    THERE_IS_NO_COLUMN: 8,
    NOT_FOUND_COLUMN_IN_BLOCK: 10,
    NO_SUCH_COLUMN_IN_TABLE: 16,
    NUMBER_OF_COLUMNS_DOESNT_MATCH: 20,
    BAD_ARGUMENTS: 36,
    CHECKSUM_DOESNT_MATCH: 40,
    ILLEGAL_TYPE_OF_ARGUMENT: 43,
    ILLEGAL_COLUMN: 44,
    UNKNOWN_IDENTIFIER: 47,
    NOT_IMPLEMENTED: 48,
    TYPE_MISMATCH: 53,
    UNKNOWN_TABLE: 60,
    SYNTAX_ERROR: 62,
    UNKNOWN_FORMAT: 73,
    UNKNOWN_DATABASE: 81,
    FILE_DOESNT_EXIST: 107,
    UNKNOWN_SETTING: 115,
    READONLY: 164,
    UNKNOWN_USER: 192,
    WRONG_PASSWORD: 193,
    REQUIRED_PASSWORD: 194,
    CORRUPTED_DATA: 246,
    DATABASE_ACCESS_DENIED: 291,
    SETTING_CONSTRAINT_VIOLATION: 452,
    ACCESS_DENIED: 497,
    AUTHENTICATION_FAILED: 516,
  },
  // For the record (and the tests): what is retried without a word beyond a warning.
  transient: {
    TIMEOUT_EXCEEDED: 159,
    TOO_MANY_SIMULTANEOUS_QUERIES: 202,
    NO_FREE_CONNECTION: 203,
    SOCKET_TIMEOUT: 209,
    NETWORK_ERROR: 210,
    NO_ZOOKEEPER: 225,
    ABORTED: 236,
    MEMORY_LIMIT_EXCEEDED: 241,
    TABLE_IS_READ_ONLY: 242,
    NOT_ENOUGH_SPACE: 243,
    // Also "too many partitions for single INSERT block", which the store's inserts avoid by
    // splitting per partition (insertChunks): what is left is "merges are slower than inserts".
    TOO_MANY_PARTS: 252,
    TOO_FEW_LIVE_REPLICAS: 285,
    UNKNOWN_STATUS_OF_INSERT: 319,
    QUERY_WAS_CANCELLED: 394,
    KEEPER_EXCEPTION: 999,
  },
} as const satisfies Record<InsertErrorKind, Record<string, number>>;

const KIND_OF_CODE = new Map<number, InsertErrorKind>(
  (['data', 'schema', 'transient'] as const).flatMap((kind) =>
    Object.values(CLICKHOUSE_ERROR_KINDS[kind]).map((code): [number, InsertErrorKind] => [code, kind]),
  ),
);

/**
 * ClickHouse's numeric error code of a failure (`ClickHouseError.code`, from a server or chdb), or
 * `undefined` when the request failed before ClickHouse answered (socket, timeout).
 */
export const clickHouseErrorCode = (error: unknown): number | undefined => {
  if (!(error instanceof Error)) return undefined;
  const code: unknown = (error as { code?: unknown }).code;
  // Node's own errors carry string codes too (ECONNREFUSED): only digits are ClickHouse's.
  if (typeof code === 'number' && Number.isSafeInteger(code)) return code;
  return typeof code === 'string' && /^\d+$/.test(code) ? Number(code) : undefined;
};

/** ClickHouse's name for the error (`TOO_MANY_PARTS`), else its code, else the JavaScript class. */
export const clickHouseErrorName = (error: unknown): string => {
  const type: unknown = error instanceof Error ? (error as { type?: unknown }).type : undefined;
  if (typeof type === 'string' && type !== '') return type;
  const code = clickHouseErrorCode(error);
  if (code !== undefined) return `ClickHouse error ${code}`;
  return error instanceof Error ? error.name : typeof error;
};

/** What an insert's failure means for the rows (see InsertErrorKind). */
export const classifyInsertError = (error: unknown): InsertErrorKind => {
  const code = clickHouseErrorCode(error);
  return code === undefined ? 'transient' : (KIND_OF_CODE.get(code) ?? 'transient');
};

/** `true` when an insert failed because of what was inserted (ClickHouse's error code says so). */
export const isRejectedData = (error: unknown): error is Error & { readonly code: string } =>
  classifyInsertError(error) === 'data';

/**
 * The events table is not what the migrations made (missing, or a column missing or of another
 * type): every insert would fail or store something else. `problems` lists each difference.
 */
export class SchemaMismatchError extends StoreError {
  override name = 'SchemaMismatchError';
  readonly table: string;
  readonly problems: readonly string[];
  constructor(table: string, problems: readonly string[]) {
    super(
      `table ${table} is not as the migrations made it: ${problems.join('; ')}. Restore it from a backup, or drop it and its row in argus_migrations and restart to recreate it (CDEVENTS_RAW keeps recent events to replay)`,
    );
    this.table = table;
    this.problems = Object.freeze([...problems]);
  }
}

/** The ClickHouse codes of a read stopped by the store's limits (QueryLimits). */
const LIMIT_CODES: Readonly<Record<number, QueryLimitError['reason']>> = {
  [CLICKHOUSE_ERROR_KINDS.transient.TIMEOUT_EXCEEDED]: 'time',
  [CLICKHOUSE_ERROR_KINDS.transient.MEMORY_LIMIT_EXCEEDED]: 'memory',
};

/**
 * ClickHouse stopped a read at the store's limit of time or memory: the question is too wide
 * (a long window, few filters), and asking again the same way fails the same way.
 */
export class QueryLimitError extends StoreError {
  override name = 'QueryLimitError';
  readonly reason: 'time' | 'memory';
  constructor(reason: 'time' | 'memory', limit: string, cause: unknown) {
    super(`the query needed more than ${limit} of ${reason}: narrow the time range or add filters`, {
      cause,
    });
    this.reason = reason;
  }

  /** The limit error a ClickHouse failure stands for, or undefined for any other failure. */
  static of(error: unknown, limits: { readonly time: string; readonly memory: string }) {
    const code = clickHouseErrorCode(error);
    const reason = code === undefined ? undefined : LIMIT_CODES[code];
    return reason === undefined ? undefined : new QueryLimitError(reason, limits[reason], error);
  }
}

/** Why a SQL statement was refused before it ran (see sql.ts). */
export type SqlRefusal = 'empty' | 'too-long' | 'statement' | 'several-statements' | 'settings' | 'outfile';

/** A SQL statement refused before it ran: it could write, change settings, or hide a second one. */
export class SqlRefusedError extends StoreError {
  override name = 'SqlRefusedError';
  readonly reason: SqlRefusal;
  constructor(reason: SqlRefusal, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** ClickHouse refused a read-only SQL statement (syntax, unknown table, a write under readonly=1). */
export class SqlFailedError extends StoreError {
  override name = 'SqlFailedError';
  /** ClickHouse's error name, e.g. SYNTAX_ERROR, READONLY. */
  readonly type: string;
  constructor(type: string, message: string, cause: unknown) {
    super(message, { cause });
    this.type = type;
  }
}
