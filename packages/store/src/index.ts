export { MigrationError, StoreError, StoreOptionsError } from './errors.js';
export type { Migration } from './migrations.js';
export { MIGRATIONS, MIGRATIONS_TABLE } from './migrations.js';
export type { EventFilter, StoredEventSummary } from './queries.js';
export { countEvents, searchEvents, whereClause } from './queries.js';
export type { EventRow, EventTags, RowInput } from './rows.js';
export {
  EVENT_COLUMNS,
  epochMillis,
  isStorableTime,
  MAX_STORABLE_TIME,
  MIN_STORABLE_TIME,
  toClickHouseTime,
  toEventRow,
} from './rows.js';
export type { StoreKind, StoreOptions } from './store.js';
export { DEFAULT_DATABASE, Store } from './store.js';
