/**
 * Versioned, idempotent schema migrations. Each statement may run again safely (IF NOT EXISTS),
 * so hub replicas starting together, or a crash mid-migration, leave a correct schema.
 * `{db}` is replaced by the (validated) database name.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

/**
 * A materialized view that keeps `table` from each insert into cdevents, and the backfill of the
 * events stored before it: one SELECT for both, so they cannot drift apart.
 */
const viewWithBackfill = (view: string, table: string, select: string): [string, string] => [
  `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.${view} TO {db}.${table} AS
      ${select}`,
  `INSERT INTO {db}.${table}
      ${select}`,
];

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'cdevents table',
    statements: [
      // One row per event identity (source + id). ReplacingMergeTree collapses repeats that share the
      // sorting key in the background; queries use `LIMIT 1 BY identity` so they never return two rows
      // for one identity even before (or without) a merge. Insert deduplication tokens make a retried
      // batch a no-op (non_replicated_deduplication_window keeps the recent block ids).
      `CREATE TABLE IF NOT EXISTS {db}.cdevents
      (
        identity       String COMMENT 'digest of source and id, as Nats-Msg-Id',
        id             String,
        source         String,
        type           LowCardinality(String),
        spec_version   LowCardinality(String),
        subject_type   LowCardinality(String),
        predicate      LowCardinality(String),
        subject_id     String,
        subject_source String,
        timestamp      DateTime64(3, 'UTC') COMMENT 'context.timestamp: when it happened',
        chain_id       String,
        links          String COMMENT 'context.links as JSON',
        linked_ids     Array(String) COMMENT 'context ids the links point at',
        instance       LowCardinality(String) COMMENT 'who published it (from the NATS subject)',
        cluster        LowCardinality(String),
        environment    LowCardinality(String),
        artifact_id    String,
        labels         Map(LowCardinality(String), String),
        received_at    DateTime64(3, 'UTC') COMMENT 'when the hub received it',
        raw            String COMMENT 'the CDEvent JSON exactly as received' CODEC(ZSTD(3)),
        INDEX idx_identity identity TYPE bloom_filter(0.001) GRANULARITY 1,
        INDEX idx_subject_id subject_id TYPE bloom_filter(0.01) GRANULARITY 1,
        INDEX idx_chain_id chain_id TYPE bloom_filter(0.01) GRANULARITY 1
      )
      ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(timestamp)
      ORDER BY (cluster, subject_type, timestamp, identity)
      SETTINGS non_replicated_deduplication_window = 10000`,
    ],
  },
  {
    version: 2,
    name: 'service_id column for timelines and DORA',
    statements: [
      // The service an event is about: the subject of service events, `content.service.id` of
      // incidents. Computed by ClickHouse (at insert; on read for older parts), so the hub's insert
      // stays as it is and a timeline is one indexed column lookup.
      `ALTER TABLE {db}.cdevents ADD COLUMN IF NOT EXISTS service_id String
      MATERIALIZED if(subject_type = 'service', subject_id, JSONExtractString(raw, 'subject', 'content', 'service', 'id'))
      AFTER subject_source`,
      `ALTER TABLE {db}.cdevents ADD INDEX IF NOT EXISTS idx_service_id service_id TYPE bloom_filter(0.01) GRANULARITY 1`,
    ],
  },
  {
    version: 3,
    name: 'service_last: what runs where without reading every deployment',
    statements: [
      // The last deployment of each service in each cluster, as seen by each instance in each
      // environment (so those filters still apply before the last one is picked), kept up to date by
      // ClickHouse at insert. Reading every deployment instead took seconds with 6M of them
      // (docs/benchmarks.md, 2026-12-06). argMax and max give the same answer when an event is
      // counted twice, so the backfill below may overlap with inserts the view already saw, and a
      // migration cut short may run again.
      `CREATE TABLE IF NOT EXISTS {db}.service_last
      (
        service_id  String,
        cluster     LowCardinality(String),
        instance    LowCardinality(String),
        environment LowCardinality(String),
        latest      AggregateFunction(argMax, Tuple(LowCardinality(String), LowCardinality(String), String, String, String), Tuple(DateTime64(3, 'UTC'), String)) COMMENT '(environment, instance, kind, artifact_id, id) of the last deployment',
        at          SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'when the last deployment happened'
      )
      ENGINE = AggregatingMergeTree
      ORDER BY (service_id, cluster, instance, environment)`,
      ...viewWithBackfill(
        'service_last_mv',
        'service_last',
        `SELECT service_id, cluster, instance, environment,
             argMaxState((environment, instance, concat(subject_type, '.', predicate), artifact_id, id), (timestamp, identity)) AS latest,
             max(timestamp) AS at
      FROM {db}.cdevents
      WHERE subject_type = 'service' AND predicate IN ('deployed', 'upgraded', 'rolledback', 'removed')
      GROUP BY service_id, cluster, instance, environment`,
      ),
    ],
  },
  {
    version: 4,
    name: "incident_state and timeline_index: open incidents and a service's timeline without reading every event",
    statements: [
      // Each incident's last opening (detected, reported) and last resolution, per service and cluster,
      // kept by ClickHouse at insert. Open means opened after its last resolution (a tie is resolved), as
      // the last event of the incident deciding. Grouping every incident event at read took 0.7-1.7 s
      // with 2M of them (docs/benchmarks.md, 2026-12-06); reading this table FINAL, 0.1 s. max is
      // idempotent, so the backfill may overlap the view and run again.
      `CREATE TABLE IF NOT EXISTS {db}.incident_state
      (
        service_id    String,
        cluster       LowCardinality(String),
        subject_id    String COMMENT 'the incident',
        last_opened   SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'the last detection or report; 1970 if none',
        last_resolved SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'the last resolution; 1970 if none'
      )
      ENGINE = AggregatingMergeTree
      ORDER BY (service_id, cluster, subject_id)`,
      ...viewWithBackfill(
        'incident_state_mv',
        'incident_state',
        `SELECT service_id, cluster, subject_id,
             maxIf(timestamp, predicate != 'resolved') AS last_opened,
             maxIf(timestamp, predicate = 'resolved') AS last_resolved
      FROM {db}.cdevents
      WHERE subject_type = 'incident' AND service_id != ''
      GROUP BY service_id, cluster, subject_id`,
      ),
      // Where each event of a service's timeline (TIMELINE_TYPES, written out: a migration does not
      // change after it ran) sits in cdevents (its sorting key), ordered by service
      // and time: the newest N of one service are a range here, then N key lookups in cdevents, where
      // the service_id bloom filter skipped almost nothing once a service's events spread over every
      // granule (0.11-0.19 s at 10M; 0.04-0.06 s this way). Repeats are harmless: reads keep one row
      // per identity.
      `CREATE TABLE IF NOT EXISTS {db}.timeline_index
      (
        service_id   String,
        timestamp    DateTime64(3, 'UTC'),
        identity     String,
        cluster      LowCardinality(String),
        subject_type LowCardinality(String)
      )
      ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(timestamp)
      ORDER BY (service_id, timestamp, identity)`,
      ...viewWithBackfill(
        'timeline_index_mv',
        'timeline_index',
        `SELECT service_id, timestamp, identity, cluster, subject_type
      FROM {db}.cdevents
      WHERE service_id != '' AND concat(subject_type, '.', predicate) IN ('service.deployed', 'service.upgraded', 'service.rolledback', 'service.removed',
                                                      'incident.detected', 'incident.reported', 'incident.resolved')`,
      ),
    ],
  },
  {
    version: 5,
    name: 'merge_refs and artifact_refs: lead time without reading every merge and artifact',
    statements: [
      // What DORA's lead time follows, kept by ClickHouse at insert: each merge's references
      // (sipHash128 of 'c:' + its chain id and of 'i:' + its id) with its time, and each published or
      // packaged artifact's references (its chain id, the ids it links to). Lead time joins the
      // window's deployments to these instead of reading every merge and artifact event: with every
      // deployment traced to a merge, that needed more than the hub's 256 MiB for 30 days of the 10M
      // benchmark (docs/benchmarks.md, 2026-12-06, fifth session). A repeat is the same row, and the
      // query takes minimums, so the backfill may overlap the view and run again. Monthly partitions
      // and a `timestamp` column: --retention drops them with the events.
      `CREATE TABLE IF NOT EXISTS {db}.merge_refs
      (
        ref       UInt128 COMMENT 'sipHash128 of c:<chain id> or i:<event id> of a change.merged',
        timestamp DateTime64(3, 'UTC') COMMENT 'when it was merged'
      )
      ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(timestamp)
      ORDER BY (ref, timestamp)`,
      ...viewWithBackfill(
        'merge_refs_mv',
        'merge_refs',
        `SELECT reinterpretAsUInt128(sipHash128(text)) AS ref, timestamp
      FROM {db}.cdevents
      ARRAY JOIN arrayFilter(r -> r != 'c:', [concat('c:', chain_id), concat('i:', id)]) AS text
      WHERE subject_type = 'change' AND predicate = 'merged'`,
      ),
      `CREATE TABLE IF NOT EXISTS {db}.artifact_refs
      (
        subject_id String COMMENT 'the artifact',
        ref        UInt128 COMMENT 'sipHash128 of c:<chain id> or i:<linked event id>',
        timestamp  DateTime64(3, 'UTC') COMMENT 'when it was published or packaged'
      )
      ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(timestamp)
      ORDER BY (subject_id, ref, timestamp)`,
      ...viewWithBackfill(
        'artifact_refs_mv',
        'artifact_refs',
        `SELECT subject_id, reinterpretAsUInt128(sipHash128(text)) AS ref, timestamp
      FROM {db}.cdevents
      ARRAY JOIN arrayConcat(if(chain_id = '', [], [concat('c:', chain_id)]), arrayMap(x -> concat('i:', x), linked_ids)) AS text
      WHERE subject_type = 'artifact' AND predicate IN ('published', 'packaged')`,
      ),
    ],
  },
  {
    version: 6,
    name: 'dora_steps: change failure verdicts without sorting every event of the window',
    statements: [
      // Each deployment (deployed, upgraded, rolled back) and detection, narrow and ordered by service,
      // cluster and time, kept by ClickHouse at insert: DORA's verdicts read a window of it in the
      // order they need (each pair's events already sorted) instead of hashing and sorting the events'
      // strings; 52-78 ms against 148-181 ms for 30 days of the 10M benchmark (docs/benchmarks.md,
      // 2026-12-06, fifth session). The digest is the first 64 bits of the identity's sipHash128, read
      // big-endian (ties in time keep the digest's order); the step is 1 a deployment, 2 a rollback,
      // 3 a detection. A repeat is the same row, so the backfill may overlap the view and run again.
      `CREATE TABLE IF NOT EXISTS {db}.dora_steps
      (
        service_id  String,
        cluster     LowCardinality(String),
        environment LowCardinality(String),
        timestamp   DateTime64(3, 'UTC'),
        digest      UInt64 COMMENT 'the first 64 bits of sipHash128(identity), big-endian',
        step        UInt8 COMMENT '1 deployed or upgraded, 2 rolled back, 3 incident detected'
      )
      ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(timestamp)
      ORDER BY (service_id, cluster, timestamp, digest)`,
      ...viewWithBackfill(
        'dora_steps_mv',
        'dora_steps',
        `SELECT service_id, cluster, environment, timestamp,
             reinterpretAsUInt64(reverse(substring(sipHash128(identity), 1, 8))) AS digest,
             toUInt8(multiIf(subject_type = 'incident', 3, predicate = 'rolledback', 2, 1)) AS step
      FROM {db}.cdevents
      WHERE concat(subject_type, '.', predicate) IN ('service.deployed', 'service.upgraded', 'service.rolledback', 'incident.detected')`,
      ),
    ],
  },
];

export const MIGRATIONS_TABLE = 'argus_migrations';
