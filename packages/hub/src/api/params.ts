import {
  DoraBucket,
  DoraGroupBy,
  type EventFilter,
  type GetDeploymentsRequest,
  type GetDoraMetricsRequest,
  type GetServiceTimelineRequest,
  type ListDeadLettersRequest,
  type RunSqlRequest,
  type SearchEventsRequest,
} from '@argus/query-api';
import { FILTER_FIELDS } from '../query/convert.js';
import { QueryArgumentError } from '../query/errors.js';

/**
 * Query-string parameters of the HTTP JSON API, turned into the gRPC requests. Names are the
 * proto's JSON names (camelCase); an unknown name is refused, so a typo never silently widens a
 * query. Times are RFC 3339.
 */

const WINDOW_PARAMS = ['since', 'until'] as const;

const checkKnown = (params: URLSearchParams, known: readonly string[]): void => {
  for (const name of params.keys()) {
    if (!known.includes(name))
      throw new QueryArgumentError(
        `unknown parameter ${JSON.stringify(name)}: this call takes ${known.join(', ') || 'none'}`,
      );
  }
};

const time = (params: URLSearchParams, name: string): Date | undefined => {
  const value = params.get(name);
  if (value === null || value === '') return undefined;
  const parsed = new Date(value);
  if (!/^\d{4}-\d\d-\d\dT/.test(value) || Number.isNaN(parsed.getTime()))
    throw new QueryArgumentError(`${name} ${JSON.stringify(value)} is not an RFC 3339 time`);
  return parsed;
};

const count = (params: URLSearchParams, name: string): number => {
  const value = params.get(name);
  if (value === null || value === '') return 0;
  if (!/^\d{1,9}$/.test(value))
    throw new QueryArgumentError(`${name} ${JSON.stringify(value)} is not a whole number`);
  return Number(value);
};

const text = (params: URLSearchParams, name: string): string => params.get(name) ?? '';

/** `true` or `false` (absent: false), as proto JSON writes a bool. */
const flag = (params: URLSearchParams, name: string): boolean => {
  const value = params.get(name);
  if (value === null || value === 'false') return false;
  if (value === 'true') return true;
  throw new QueryArgumentError(`${name} must be true or false, got ${JSON.stringify(value)}`);
};

/** The event filter of `?cluster=…&since=…`. */
export const filterParams = (params: URLSearchParams, extra: readonly string[] = []): EventFilter => {
  checkKnown(params, [...FILTER_FIELDS, ...WINDOW_PARAMS, ...extra]);
  const since = time(params, 'since');
  const until = time(params, 'until');
  return {
    cluster: text(params, 'cluster'),
    instance: text(params, 'instance'),
    environment: text(params, 'environment'),
    subjectType: text(params, 'subjectType'),
    predicate: text(params, 'predicate'),
    type: text(params, 'type'),
    subjectId: text(params, 'subjectId'),
    chainId: text(params, 'chainId'),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
  };
};

export const searchParams = (params: URLSearchParams): SearchEventsRequest => ({
  filter: filterParams(params, ['pageSize', 'pageToken']),
  pageSize: count(params, 'pageSize'),
  pageToken: text(params, 'pageToken'),
});

export const timelineParams = (service: string, params: URLSearchParams): GetServiceTimelineRequest => {
  checkKnown(params, [...WINDOW_PARAMS, 'limit', 'upstream']);
  const since = time(params, 'since');
  const until = time(params, 'until');
  return {
    service,
    limit: count(params, 'limit'),
    upstream: flag(params, 'upstream'),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
  };
};

const GROUP_BY: Readonly<Record<string, DoraGroupBy>> = {
  '': DoraGroupBy.DORA_GROUP_BY_UNSPECIFIED,
  service: DoraGroupBy.DORA_GROUP_BY_SERVICE,
  cluster: DoraGroupBy.DORA_GROUP_BY_CLUSTER,
  environment: DoraGroupBy.DORA_GROUP_BY_ENVIRONMENT,
};

const BUCKET: Readonly<Record<string, DoraBucket>> = {
  '': DoraBucket.DORA_BUCKET_UNSPECIFIED,
  day: DoraBucket.DORA_BUCKET_DAY,
  week: DoraBucket.DORA_BUCKET_WEEK,
};

export const doraParams = (params: URLSearchParams): GetDoraMetricsRequest => {
  checkKnown(params, ['service', 'cluster', 'environment', ...WINDOW_PARAMS, 'groupBy', 'bucket']);
  const groupBy = GROUP_BY[text(params, 'groupBy')];
  if (groupBy === undefined)
    throw new QueryArgumentError(
      `groupBy ${JSON.stringify(params.get('groupBy'))} is not known: service, cluster or environment`,
    );
  const bucket = BUCKET[text(params, 'bucket')];
  if (bucket === undefined)
    throw new QueryArgumentError(`bucket ${JSON.stringify(params.get('bucket'))} is not known: week or day`);
  const since = time(params, 'since');
  const until = time(params, 'until');
  return {
    service: text(params, 'service'),
    cluster: text(params, 'cluster'),
    environment: text(params, 'environment'),
    groupBy,
    bucket,
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
  };
};

/** `cluster`, `environment`, `instance`, `serviceContains`, `pageSize`, `page` of the what-runs-where matrix. */
export const deploymentParams = (params: URLSearchParams): GetDeploymentsRequest => {
  checkKnown(params, ['cluster', 'environment', 'instance', 'serviceContains', 'pageSize', 'page']);
  return {
    cluster: text(params, 'cluster'),
    environment: text(params, 'environment'),
    instance: text(params, 'instance'),
    serviceContains: text(params, 'serviceContains'),
    pageSize: count(params, 'pageSize'),
    page: count(params, 'page'),
  };
};

/** `producer`, `reason`, `pageSize`, `pageToken` of the dead letters' list. */
export const deadLettersParams = (params: URLSearchParams): ListDeadLettersRequest => {
  checkKnown(params, ['producer', 'reason', 'pageSize', 'pageToken']);
  return {
    producer: text(params, 'producer'),
    reason: text(params, 'reason'),
    pageSize: count(params, 'pageSize'),
    pageToken: text(params, 'pageToken'),
  };
};

/** `q` (the statement) and `maxRows` of RunSql. */
export const sqlParams = (params: URLSearchParams): RunSqlRequest => {
  checkKnown(params, ['q', 'maxRows']);
  return { query: text(params, 'q'), maxRows: count(params, 'maxRows') };
};

/** The `<seq>` of `dead-letters/<seq>`: a CDEVENTS_DLQ sequence. */
export const deadLetterSequence = (text: string): number => {
  if (!/^[1-9]\d{0,15}$/.test(text) || !Number.isSafeInteger(Number(text)))
    throw new QueryArgumentError(
      `dead letter ${JSON.stringify(text)} is not a sequence: a whole number, as dead-letters lists them`,
    );
  return Number(text);
};

/** No parameters (instances, stats). */
export const noParams = (params: URLSearchParams): void => checkKnown(params, []);
