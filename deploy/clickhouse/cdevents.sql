-- Argus on a ClickHouse cluster: the schema of packages/store/src/migrations.ts (migrations 1 to 6)
-- as a ReplicatedReplacingMergeTree table on every shard plus a Distributed table over them, and
-- the tables the views keep (migrations 3 to 6) the same way.
--
-- Run once, on any node, with a user allowed to run DDL ON CLUSTER:
--   clickhouse client --multiquery < deploy/clickhouse/cdevents.sql
-- It uses the macros {cluster}, {shard} and {replica} of each server's config (<macros>), and the
-- database `argus` (the hub's default --database). For another database, replace `argus` below.
-- test/deploy/clickhouse.test.ts checks that the columns, codecs, indexes, partitioning and
-- ordering equal what the migrations create, and the merge settings what the hub gives its tables
-- (packages/store/src/merge-settings.ts: fewer merges of the hub's small parts). Tables made before
-- those settings: ALTER TABLE argus.<table>_local ON CLUSTER '{cluster}' MODIFY SETTING merge_selector_base = 10.

CREATE DATABASE IF NOT EXISTS argus ON CLUSTER '{cluster}';

-- One row per event identity (source + id) on each shard. Rows of one identity always land on the
-- same shard (the Distributed table shards by identity), so ReplacingMergeTree collapses repeats
-- there, and the hub's queries (`LIMIT 1 BY identity`) never return two rows for one identity.
CREATE TABLE IF NOT EXISTS argus.cdevents_local ON CLUSTER '{cluster}'
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
  -- migration 2: the service an event is about (timelines, DORA)
  service_id     String
    MATERIALIZED if(subject_type = 'service', subject_id, JSONExtractString(raw, 'subject', 'content', 'service', 'id')),
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
  INDEX idx_chain_id chain_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_service_id service_id TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(timestamp)
ORDER BY (cluster, subject_type, timestamp, identity)
-- a retried insert batch (same insert_deduplication_token) is a no-op, as on one server
SETTINGS replicated_deduplication_window = 10000, merge_selector_base = 10;

-- What the hub reads and writes (`<database>.cdevents`): the same columns, over every shard.
CREATE TABLE IF NOT EXISTS argus.cdevents ON CLUSTER '{cluster}' AS argus.cdevents_local
ENGINE = Distributed('{cluster}', argus, cdevents_local, cityHash64(identity));

-- Migration 3: the last deployment of each service in each cluster (per instance and environment),
-- kept by ClickHouse at insert on each shard; the hub merges the shards' states through service_last.
-- A cluster created before migration 3: run these three statements and the INSERT below, then
--   INSERT INTO argus.service_last_local SELECT <the view's SELECT> FROM argus.cdevents_local
-- on one replica of each shard (the backfill; the view has the statement).
CREATE TABLE IF NOT EXISTS argus.service_last_local ON CLUSTER '{cluster}'
(
  service_id  String,
  cluster     LowCardinality(String),
  instance    LowCardinality(String),
  environment LowCardinality(String),
  latest      AggregateFunction(argMax, Tuple(LowCardinality(String), LowCardinality(String), String, String, String), Tuple(DateTime64(3, 'UTC'), String)) COMMENT '(environment, instance, kind, artifact_id, id) of the last deployment',
  at          SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'when the last deployment happened'
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (service_id, cluster, instance, environment)
SETTINGS merge_selector_base = 10;

CREATE MATERIALIZED VIEW IF NOT EXISTS argus.service_last_mv ON CLUSTER '{cluster}' TO argus.service_last_local AS
SELECT service_id, cluster, instance, environment,
       argMaxState((environment, instance, concat(subject_type, '.', predicate), artifact_id, id), (timestamp, identity)) AS latest,
       max(timestamp) AS at
FROM argus.cdevents_local
WHERE subject_type = 'service' AND predicate IN ('deployed', 'upgraded', 'rolledback', 'removed')
GROUP BY service_id, cluster, instance, environment;

CREATE TABLE IF NOT EXISTS argus.service_last ON CLUSTER '{cluster}' AS argus.service_last_local
ENGINE = Distributed('{cluster}', argus, service_last_local);

-- Migration 4: each incident's last opening and resolution, and a service's timeline index.
-- An incident's events land on shards by their identities, so the view sends its rows through the
-- Distributed incident_state, sharded by the incident: each shard then holds whole incidents, and
-- the hub's FINAL read on each shard is right. The timeline index stays beside its events (the view
-- writes the local table); the hub looks the newest up with GLOBAL IN.
-- A cluster created before migration 4: run the statements below, then on one replica of each shard
--   INSERT INTO argus.incident_state SELECT <the view's SELECT> FROM argus.cdevents_local
--   INSERT INTO argus.timeline_index_local SELECT <the view's SELECT> FROM argus.cdevents_local
CREATE TABLE IF NOT EXISTS argus.incident_state_local ON CLUSTER '{cluster}'
(
  service_id    String,
  cluster       LowCardinality(String),
  subject_id    String COMMENT 'the incident',
  last_opened   SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'the last detection or report; 1970 if none',
  last_resolved SimpleAggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'the last resolution; 1970 if none'
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (service_id, cluster, subject_id)
SETTINGS merge_selector_base = 10;

CREATE TABLE IF NOT EXISTS argus.incident_state ON CLUSTER '{cluster}' AS argus.incident_state_local
ENGINE = Distributed('{cluster}', argus, incident_state_local, cityHash64(service_id, cluster, subject_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS argus.incident_state_mv ON CLUSTER '{cluster}' TO argus.incident_state AS
SELECT service_id, cluster, subject_id,
       maxIf(timestamp, predicate != 'resolved') AS last_opened,
       maxIf(timestamp, predicate = 'resolved') AS last_resolved
FROM argus.cdevents_local
WHERE subject_type = 'incident' AND service_id != ''
GROUP BY service_id, cluster, subject_id;

CREATE TABLE IF NOT EXISTS argus.timeline_index_local ON CLUSTER '{cluster}'
(
  service_id   String,
  timestamp    DateTime64(3, 'UTC'),
  identity     String,
  cluster      LowCardinality(String),
  subject_type LowCardinality(String)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(timestamp)
ORDER BY (service_id, timestamp, identity)
SETTINGS merge_selector_base = 10;

CREATE MATERIALIZED VIEW IF NOT EXISTS argus.timeline_index_mv ON CLUSTER '{cluster}' TO argus.timeline_index_local AS
SELECT service_id, timestamp, identity, cluster, subject_type
FROM argus.cdevents_local
WHERE service_id != '' AND concat(subject_type, '.', predicate) IN ('service.deployed', 'service.upgraded', 'service.rolledback', 'service.removed',
                                                      'incident.detected', 'incident.reported', 'incident.resolved');

CREATE TABLE IF NOT EXISTS argus.timeline_index ON CLUSTER '{cluster}' AS argus.timeline_index_local
ENGINE = Distributed('{cluster}', argus, timeline_index_local);

-- Migration 5: the references DORA's lead time follows (each merge's, and each published or packaged
-- artifact's), kept beside their events on each shard; the hub joins them through the Distributed
-- tables (GLOBAL JOIN and GLOBAL IN, so each shard is sent the window's artifacts once).
-- A cluster created before migration 5: run the statements below, then on one replica of each shard
--   INSERT INTO argus.merge_refs_local SELECT <the view's SELECT> FROM argus.cdevents_local
--   INSERT INTO argus.artifact_refs_local SELECT <the view's SELECT> FROM argus.cdevents_local
CREATE TABLE IF NOT EXISTS argus.merge_refs_local ON CLUSTER '{cluster}'
(
  ref       UInt128 COMMENT 'sipHash128 of c:<chain id> or i:<event id> of a change.merged',
  timestamp DateTime64(3, 'UTC') COMMENT 'when it was merged'
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(timestamp)
ORDER BY (ref, timestamp)
SETTINGS merge_selector_base = 10;

CREATE MATERIALIZED VIEW IF NOT EXISTS argus.merge_refs_mv ON CLUSTER '{cluster}' TO argus.merge_refs_local AS
SELECT reinterpretAsUInt128(sipHash128(text)) AS ref, timestamp
FROM argus.cdevents_local
ARRAY JOIN arrayFilter(r -> r != 'c:', [concat('c:', chain_id), concat('i:', id)]) AS text
WHERE subject_type = 'change' AND predicate = 'merged';

CREATE TABLE IF NOT EXISTS argus.merge_refs ON CLUSTER '{cluster}' AS argus.merge_refs_local
ENGINE = Distributed('{cluster}', argus, merge_refs_local);

CREATE TABLE IF NOT EXISTS argus.artifact_refs_local ON CLUSTER '{cluster}'
(
  subject_id String COMMENT 'the artifact',
  ref        UInt128 COMMENT 'sipHash128 of c:<chain id> or i:<linked event id>',
  timestamp  DateTime64(3, 'UTC') COMMENT 'when it was published or packaged'
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(timestamp)
ORDER BY (subject_id, ref, timestamp)
SETTINGS merge_selector_base = 10;

CREATE MATERIALIZED VIEW IF NOT EXISTS argus.artifact_refs_mv ON CLUSTER '{cluster}' TO argus.artifact_refs_local AS
SELECT subject_id, reinterpretAsUInt128(sipHash128(text)) AS ref, timestamp
FROM argus.cdevents_local
ARRAY JOIN arrayConcat(if(chain_id = '', [], [concat('c:', chain_id)]), arrayMap(x -> concat('i:', x), linked_ids)) AS text
WHERE subject_type = 'artifact' AND predicate IN ('published', 'packaged');

CREATE TABLE IF NOT EXISTS argus.artifact_refs ON CLUSTER '{cluster}' AS argus.artifact_refs_local
ENGINE = Distributed('{cluster}', argus, artifact_refs_local);

-- Migration 6: deployments and detections in (service, cluster, time) order for DORA's verdicts,
-- kept beside their events on each shard; the hub groups each pair's through the Distributed table
-- (the shards' arrays are merged before they are sorted, so a pair split over shards is right).
-- A cluster created before migration 6: run the statements below, then on one replica of each shard
--   INSERT INTO argus.dora_steps_local SELECT <the view's SELECT> FROM argus.cdevents_local
CREATE TABLE IF NOT EXISTS argus.dora_steps_local ON CLUSTER '{cluster}'
(
  service_id  String,
  cluster     LowCardinality(String),
  environment LowCardinality(String),
  timestamp   DateTime64(3, 'UTC'),
  digest      UInt64 COMMENT 'the first 64 bits of sipHash128(identity), big-endian',
  step        UInt8 COMMENT '1 deployed or upgraded, 2 rolled back, 3 incident detected'
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(timestamp)
ORDER BY (service_id, cluster, timestamp, digest)
SETTINGS merge_selector_base = 10;

CREATE MATERIALIZED VIEW IF NOT EXISTS argus.dora_steps_mv ON CLUSTER '{cluster}' TO argus.dora_steps_local AS
SELECT service_id, cluster, environment, timestamp,
       reinterpretAsUInt64(reverse(substring(sipHash128(identity), 1, 8))) AS digest,
       toUInt8(multiIf(subject_type = 'incident', 3, predicate = 'rolledback', 2, 1)) AS step
FROM argus.cdevents_local
WHERE concat(subject_type, '.', predicate) IN ('service.deployed', 'service.upgraded', 'service.rolledback', 'incident.detected');

CREATE TABLE IF NOT EXISTS argus.dora_steps ON CLUSTER '{cluster}' AS argus.dora_steps_local
ENGINE = Distributed('{cluster}', argus, dora_steps_local);

-- The hub's migration record, replicated to every node, with migrations 1 to 6 marked as applied:
-- the hub must not run them against the Distributed table (a Distributed table has no skipping
-- indexes, so migration 2's ADD INDEX would fail there).
CREATE TABLE IF NOT EXISTS argus.argus_migrations ON CLUSTER '{cluster}'
(
  version    UInt32,
  name       String,
  applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}')
ORDER BY version
SETTINGS merge_selector_base = 10;

INSERT INTO argus.argus_migrations (version, name) VALUES
  (1, 'cdevents table'),
  (2, 'service_id column for timelines and DORA'),
  (3, 'service_last: what runs where without reading every deployment'),
  (4, 'incident_state and timeline_index: open incidents and a service''s timeline without reading every event'),
  (5, 'merge_refs and artifact_refs: lead time without reading every merge and artifact'),
  (6, 'dora_steps: change failure verdicts without sorting every event of the window');
