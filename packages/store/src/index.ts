export type { InstanceActivity } from './activity.js';
export { DEPLOYMENT_KINDS, INCIDENT_KINDS, instanceActivity } from './activity.js';
export type { CurrentDeployment, DeploymentsFilter } from './deployments.js';
export { currentDeployments } from './deployments.js';
export type { DoraFigures, DoraGrouping, DoraQuery } from './dora.js';
export { doraFigures } from './dora.js';
export type { InsertErrorKind, SqlRefusal } from './errors.js';
export {
  CLICKHOUSE_ERROR_KINDS,
  classifyInsertError,
  clickHouseErrorCode,
  clickHouseErrorName,
  isRejectedData,
  MigrationError,
  QueryLimitError,
  SchemaMismatchError,
  SqlFailedError,
  SqlRefusedError,
  StoreError,
  StoreOptionsError,
  StoreQueryError,
} from './errors.js';
export type { Migration } from './migrations.js';
export { MIGRATIONS, MIGRATIONS_TABLE } from './migrations.js';
export type { EventCursor, EventFilter, EventPage, StoredEvent } from './queries.js';
export {
  countEvents,
  filterConditions,
  searchEvents,
  searchPage,
  serviceTimeline,
  TIMELINE_TYPES,
  whereClause,
} from './queries.js';
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
export type { SqlAnswer, SqlLimits } from './sql.js';
export { checkReadOnlySql, DEFAULT_SQL_LIMITS, READ_STATEMENTS, runReadOnlySql } from './sql.js';
export type { DetachedPart, QueryLimits, RetentionChange, StoreKind, StoreOptions } from './store.js';
export {
  DEFAULT_DATABASE,
  DEFAULT_QUERY_LIMITS,
  EVENT_COLUMN_TYPES,
  MAX_PARTITIONS_PER_INSERT,
  partitionChunks,
  Store,
  withQuerySignal,
} from './store.js';
