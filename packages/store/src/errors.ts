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
