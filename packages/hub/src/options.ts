import {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_DLQ_MAX_AGE_MS,
  DEFAULT_DLQ_MAX_BYTES,
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_PROGRESS_BUCKET_MAX_BYTES,
  DEFAULT_RAW_MAX_AGE_MS,
  DEFAULT_RAW_MAX_BYTES,
  DEFAULT_UNIFIED_MAX_AGE_MS,
  DEFAULT_UNIFIED_MAX_BYTES,
  HUB_CONSUMER,
  MIN_DUPLICATE_WINDOW_MS,
} from '@argus/bus';
import { DEFAULT_MAX_EVENT_BYTES, EVENT_TIME_OPTIONS } from '@argus/cdevents';
import {
  HTTP_REQUEST_TIMEOUT_MS,
  LISTENER_TLS_OPTIONS,
  LOG_LEVEL_OPTION,
  NATS_CLIENT_OPTIONS,
  type OptionsSpec,
} from '@argus/runtime';
import { DEFAULT_QUERY_LIMITS, DEFAULT_SQL_LIMITS } from '@argus/store';
import { DEFAULT_MAX_IN_FLIGHT_BYTES } from './pipeline/budget.js';
import { DEFAULT_MAX_CLUSTERS_PER_INSTANCE } from './pipeline/cluster-cap.js';
import { DEFAULT_BATCH_MAX_WAIT_MS, DEFAULT_BATCH_SIZE } from './pipeline/consume.js';
import { DEFAULT_DEDUPE_CACHE_SIZE } from './pipeline/dedupe.js';
import { FAILPOINT_PATTERN } from './pipeline/failpoints.js';
import { DEFAULT_STALL_AFTER_MS } from './pipeline/health.js';

/** Every hub option: the CLI flag, its `ARGUS_*` env var and its help line come from here. */
export const HUB_OPTIONS = {
  ...NATS_CLIENT_OPTIONS,
  dataDir: {
    kind: 'string',
    description: 'data directory of the embedded ClickHouse (chdb)',
    default: '.argus/hub-data',
    placeholder: '<dir>',
  },
  clickhouseUrl: {
    kind: 'string',
    description: 'use this ClickHouse server instead of the embedded one',
    placeholder: '<url>',
  },
  clickhouseUser: { kind: 'string', description: 'ClickHouse user', placeholder: '<user>' },
  clickhousePassword: { kind: 'string', description: 'ClickHouse password', placeholder: '<password>' },
  database: { kind: 'string', description: 'ClickHouse database', default: 'argus', placeholder: '<name>' },
  registry: {
    kind: 'string',
    description:
      'registry YAML: clusters, instances and the destinations and sources each owns (strict unless it says otherwise; docs/tenancy.md); the hub creates the KV bucket of each instance listed',
    placeholder: '<file>',
  },
  httpListen: {
    kind: 'string',
    description:
      'HTTP listener: /healthz, /readyz, /metrics, POST /api/v1/events, the dashboard at / and its JSON API (GET /api/v1/query/...)',
    default: '127.0.0.1:8080',
    placeholder: '<host:port>',
  },
  metricsListen: {
    kind: 'string',
    description:
      'serve /metrics (and /healthz, /readyz) on this listener only, not beside the ingest (its labels name the ingest producers)',
    placeholder: '<host:port>',
  },
  httpRequestTimeout: {
    kind: 'duration',
    description:
      'longest an HTTP request (headers and body) may take before its connection is closed (slow senders hold a connection each)',
    default: HTTP_REQUEST_TIMEOUT_MS,
    min: 1000,
  },
  grpcListen: {
    kind: 'string',
    description: 'gRPC query API listener (reflection on); without API tokens it must be loopback',
    default: '127.0.0.1:50051',
    placeholder: '<host:port>',
  },
  apiTokens: {
    kind: 'list',
    description: 'query API bearer tokens as name=token, comma-separated',
    placeholder: '<n=t,...>',
  },
  apiTokensFile: {
    kind: 'string',
    description: 'file of name=token lines for the query API',
    placeholder: '<file>',
  },
  adminTokens: {
    kind: 'list',
    description:
      'query API tokens that may also replay dead letters (argus dlq replay) and run SQL (argus sql), as name=token',
    placeholder: '<n=t,...>',
  },
  adminTokensFile: {
    kind: 'string',
    description: 'file of name=token lines for admin tokens',
    placeholder: '<file>',
  },
  ...LISTENER_TLS_OPTIONS,
  ingestTokens: {
    kind: 'list',
    description: 'HTTP ingest bearer tokens as producer=token, comma-separated',
    placeholder: '<p=t,...>',
  },
  ingestTokensFile: {
    kind: 'string',
    description: 'file of producer=token lines for the HTTP ingest',
    placeholder: '<file>',
  },
  ingestRate: {
    kind: 'integer',
    description: 'events per second each ingest producer may send (429 beyond, with Retry-After)',
    default: 1000,
    min: 1,
  },
  ingestBurst: {
    kind: 'integer',
    description:
      'events an ingest producer may send at once after a quiet spell (default: twice --ingest-rate)',
    min: 1,
  },
  maxBatchBytes: {
    kind: 'integer',
    description: 'largest ingest batch request in bytes',
    default: 10_485_760,
    min: 1024,
  },
  batchSize: {
    kind: 'integer',
    description: 'most events per ClickHouse insert',
    default: DEFAULT_BATCH_SIZE,
    min: 1,
  },
  batchMaxWait: {
    kind: 'duration',
    description:
      'longest wait to fill a batch while the store is free (while it is busy, a batch fills until it is free or full)',
    default: DEFAULT_BATCH_MAX_WAIT_MS,
    min: 1,
  },
  maxEventBytes: {
    kind: 'integer',
    description: 'largest accepted event in bytes',
    default: DEFAULT_MAX_EVENT_BYTES,
    min: 1024,
  },
  ...EVENT_TIME_OPTIONS,
  maxInFlightBytes: {
    kind: 'integer',
    description: 'bytes of messages the hub holds at once (pulled, not yet acked); it pulls no more beyond',
    default: DEFAULT_MAX_IN_FLIGHT_BYTES,
    min: 1_048_576,
  },
  queryMaxTime: {
    kind: 'duration',
    description:
      'longest a query API read may run in ClickHouse (max_execution_time); beyond it RESOURCE_EXHAUSTED',
    default: DEFAULT_QUERY_LIMITS.maxExecutionMs,
    min: 100,
  },
  queryMaxMemory: {
    kind: 'integer',
    description:
      'bytes of memory a query API read may use in ClickHouse (max_memory_usage); beyond it RESOURCE_EXHAUSTED',
    default: DEFAULT_QUERY_LIMITS.maxMemoryBytes,
    min: 1_048_576,
  },
  sqlMaxRows: {
    kind: 'integer',
    description: 'most rows one `argus sql` statement returns (RunSql); more are cut and the answer says so',
    default: DEFAULT_SQL_LIMITS.maxRows,
    min: 1,
  },
  sqlMaxTime: {
    kind: 'duration',
    description:
      'longest one `argus sql` statement may run in ClickHouse (max_execution_time); beyond it RESOURCE_EXHAUSTED',
    default: DEFAULT_SQL_LIMITS.maxExecutionMs,
    min: 100,
  },
  stallAfter: {
    kind: 'duration',
    description:
      'a pipeline stage (insert, republish) failing this long makes /readyz not ready; a schema problem does at once',
    default: DEFAULT_STALL_AFTER_MS,
    min: 1000,
  },
  maxClustersPerInstance: {
    kind: 'integer',
    description:
      'distinct clusters one instance may report; events for further clusters are dead-lettered too-many-clusters',
    default: DEFAULT_MAX_CLUSTERS_PER_INSTANCE,
    min: 1,
  },
  dedupeCacheSize: {
    kind: 'integer',
    description: 'event identities remembered for de-duplication',
    default: DEFAULT_DEDUPE_CACHE_SIZE,
    min: 1,
  },
  replicas: {
    kind: 'integer',
    description: 'JetStream replicas of the streams and KV buckets the hub creates',
    default: 1,
    min: 1,
  },
  retention: {
    kind: 'duration',
    description:
      'how long ClickHouse keeps events, by their timestamp, in whole days (e.g. 400d); whole months are dropped once past it; unset: for ever. DORA windows reach back 366 days',
    placeholder: '<days>d',
    min: 86_400_000,
  },
  rawMaxAge: { kind: 'duration', description: 'retention of CDEVENTS_RAW', default: DEFAULT_RAW_MAX_AGE_MS },
  unifiedMaxAge: {
    kind: 'duration',
    description: 'retention of the unified stream CDEVENTS',
    default: DEFAULT_UNIFIED_MAX_AGE_MS,
  },
  dlqMaxAge: { kind: 'duration', description: 'retention of CDEVENTS_DLQ', default: DEFAULT_DLQ_MAX_AGE_MS },
  rawMaxBytes: {
    kind: 'integer',
    description:
      'storage limit of CDEVENTS_RAW: full, new messages are refused (publishers retry); above 80 % the hub purges handled messages of the instances holding the most',
    default: DEFAULT_RAW_MAX_BYTES,
    min: 1_048_576,
  },
  unifiedMaxBytes: {
    kind: 'integer',
    description: 'storage limit of CDEVENTS: full, the oldest events go',
    default: DEFAULT_UNIFIED_MAX_BYTES,
    min: 1_048_576,
  },
  dlqMaxBytes: {
    kind: 'integer',
    description: 'storage limit of CDEVENTS_DLQ: full, the oldest dead letters go',
    default: DEFAULT_DLQ_MAX_BYTES,
    min: 1_048_576,
  },
  progressBucketMaxBytes: {
    kind: 'integer',
    description: "storage limit of each agent's progress bucket: full, that agent's puts are refused",
    default: DEFAULT_PROGRESS_BUCKET_MAX_BYTES,
    min: 1_048_576,
  },
  duplicateWindow: {
    kind: 'duration',
    description: 'JetStream duplicate window (>= 10m)',
    default: DEFAULT_DUPLICATE_WINDOW_MS,
    min: MIN_DUPLICATE_WINDOW_MS,
  },
  ackWait: {
    kind: 'duration',
    description: 'time a batch may take before JetStream redelivers it',
    default: DEFAULT_ACK_WAIT_MS,
    min: 1000,
  },
  consumer: {
    kind: 'string',
    description: 'durable consumer name shared by hub replicas',
    default: HUB_CONSUMER,
    placeholder: '<name>',
  },
  failpoint: {
    kind: 'string',
    description:
      'fault injection for tests, never in production: kill-after-insert (SIGKILL after a batch is stored, before it is acked) or fail-inserts-for=<duration> (every insert fails from the start until then)',
    pattern: FAILPOINT_PATTERN,
    placeholder: '<failpoint>',
  },
  ...LOG_LEVEL_OPTION,
} as const satisfies OptionsSpec;

export type HubOptionsSpec = typeof HUB_OPTIONS;
