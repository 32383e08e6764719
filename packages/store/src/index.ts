export { instanceActivity } from './activity.js';
export type { DataFilesystem } from './data-filesystem.js';
export { dataFilesystem } from './data-filesystem.js';
export {
  type CurrentDeployment,
  currentDeployments,
  type DeploymentsFilter,
  type DeploymentsOutline,
  deploymentsOutline,
} from './deployments.js';
export type { DoraGrouping } from './dora.js';
export { doraFigures } from './dora.js';
export {
  classifyInsertError,
  clickHouseErrorCode,
  clickHouseErrorName,
  QueryLimitError,
  SchemaMismatchError,
  SqlFailedError,
  SqlRefusedError,
  StoreQueryError,
} from './errors.js';
export type { MergeSettingChange } from './merge-settings.js';
export { MERGE_TREE_SETTINGS, tableSetting } from './merge-settings.js';
export { MIGRATIONS, MIGRATIONS_TABLE } from './migrations.js';
export type { EventCursor, EventFilter, StoredEvent } from './queries.js';
export { countEvents, searchEvents, searchPage, serviceTimeline, upstreamEvents } from './queries.js';
export type { EventRow, EventTags } from './rows.js';
export { toEventRow } from './rows.js';
export type { SqlLimits } from './sql.js';
export { DEFAULT_SQL_LIMITS, runReadOnlySql } from './sql.js';
export type { Turn } from './statement-queue.js';
export { DEFAULT_QUERY_LIMITS, partitionChunks, Store, withQuerySignal } from './store.js';
