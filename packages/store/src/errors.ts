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
 * ClickHouse refused a value it was sent (it cannot parse or hold it), as opposed to being unreachable,
 * overloaded, read-only or misconfigured: retrying the same rows cannot succeed. Kept to value errors;
 * schema or settings errors (TYPE_MISMATCH, BAD_ARGUMENTS, ...) fail every row and are retried.
 */
const DATA_ERROR_TYPES =
  /^(CANNOT_PARSE_\w+|CANNOT_READ_ALL_DATA|INCORRECT_DATA|TOO_LARGE_STRING_SIZE|VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE)$/;

/** `true` when an insert failed because of what was inserted (ClickHouse's error type says so). */
export const isRejectedData = (error: unknown): error is Error & { readonly type: string } => {
  const type: unknown = error instanceof Error ? (error as { type?: unknown }).type : undefined;
  return typeof type === 'string' && DATA_ERROR_TYPES.test(type);
};
