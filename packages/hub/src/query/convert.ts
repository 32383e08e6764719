import { NO_CLUSTER_TOKEN } from '@argus/bus';
import type { Event, EventFilter as ProtoEventFilter } from '@argus/query-api';
import type { EventCursor, EventFilter, StoredEvent } from '@argus/store';
import { QueryArgumentError } from './errors.js';

/** Longest filter value accepted: ids and names are far shorter; a longer one is a mistake. */
export const MAX_FILTER_VALUE_LENGTH = 1024;

/** The filter's fields, as the proto names them (camelCase in JSON); one list for gRPC and HTTP. */
export const FILTER_FIELDS = [
  'cluster',
  'instance',
  'environment',
  'subjectType',
  'predicate',
  'type',
  'subjectId',
  'chainId',
] as const;

const toSnake = (field: string): string => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Refuses a value longer than any id or name (`name` is the field as the proto spells it). */
export const checkValueLength = (name: string, value: string): void => {
  if (value.length > MAX_FILTER_VALUE_LENGTH)
    throw new QueryArgumentError(
      `${name} is ${value.length} characters; at most ${MAX_FILTER_VALUE_LENGTH} are accepted`,
    );
};

/** Checks a window: until after since, both real dates. Field names are the proto's. */
export const checkWindow = (since: Date | undefined, until: Date | undefined): void => {
  for (const [name, value] of [
    ['since', since],
    ['until', until],
  ] as const) {
    if (value !== undefined && Number.isNaN(value.getTime()))
      throw new QueryArgumentError(`${name} is not a valid time`);
  }
  if (since !== undefined && until !== undefined && since.getTime() >= until.getTime())
    throw new QueryArgumentError(
      `since (${since.toISOString()}) must be before until (${until.toISOString()})`,
    );
};

/** A request's filter as the store's: empty strings mean "any"; values stay values (parameters). */
export const toStoreFilter = (filter: ProtoEventFilter | undefined): EventFilter => {
  const result: Record<string, unknown> = {};
  if (filter === undefined) return {};
  for (const field of FILTER_FIELDS) {
    const value = filter[field];
    if (value === '') continue;
    checkValueLength(`filter.${toSnake(field)}`, value);
    // Events without a cluster go out on `cdevents.unified.unassigned.…`; the filter names them the same.
    result[field] = field === 'cluster' && value === NO_CLUSTER_TOKEN ? '' : value;
  }
  checkWindow(filter.since, filter.until);
  if (filter.since !== undefined) result.since = filter.since;
  if (filter.until !== undefined) result.until = filter.until;
  return result as EventFilter;
};

/** The API's view of a stored event. */
export const toApiEvent = (e: StoredEvent): Event => ({
  id: e.id,
  source: e.source,
  type: e.type,
  specVersion: e.spec_version,
  subjectType: e.subject_type,
  predicate: e.predicate,
  subjectId: e.subject_id,
  timestamp: new Date(e.timestamp),
  instance: e.instance,
  cluster: e.cluster,
  environment: e.environment,
  chainId: e.chain_id,
  artifactId: e.artifact_id,
  labels: { ...e.labels },
  identity: e.identity,
  cdeventJson: e.raw,
});

/** Page tokens are opaque to clients: base64url of the cursor's position. */
export const encodePageToken = (cursor: EventCursor): string =>
  Buffer.from(JSON.stringify([cursor.time, cursor.identity]), 'utf8').toString('base64url');

export const decodePageToken = (token: string): EventCursor | undefined => {
  if (token === '') return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,3})?$/.test(value[0]) &&
      typeof value[1] === 'string' &&
      /^[0-9a-f]{1,64}$/.test(value[1])
    ) {
      return { time: value[0], identity: value[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new QueryArgumentError('page_token is not one this API issued: pass next_page_token unchanged');
};
