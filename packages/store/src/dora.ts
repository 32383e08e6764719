import { DEPLOYMENT_KINDS, INCIDENT_KINDS } from './activity.js';
import { StoreQueryError } from './errors.js';
import { filterConditions } from './queries.js';
import type { Store } from './store.js';

/** What DORA figures are grouped by: one row per service, cluster or environment, or one in all. */
export type DoraGrouping = 'none' | 'service' | 'cluster' | 'environment';

export interface DoraQuery {
  readonly service?: string;
  readonly cluster?: string;
  readonly environment?: string;
  /** Inclusive. */
  readonly since: Date;
  /** Exclusive. */
  readonly until: Date;
  readonly grouping: DoraGrouping;
  /**
   * Length of a bucket in milliseconds, buckets counted from `since` (the last one ends at `until`
   * and may be shorter); the whole window when absent. Each bucket's figures are those of a window
   * that is the bucket: a deployment's verdict or an incident's resolution in a later bucket does not
   * count in its own.
   */
  readonly bucketMs?: number;
}

/** The four DORA metrics of one group in one bucket. */
export interface DoraFigures {
  readonly key: string;
  /** Start of the bucket (`since` when not bucketed). */
  readonly bucketStart: Date;
  readonly deployments: number;
  readonly deploymentsPerDay: number;
  readonly leadTimeSamples: number;
  readonly leadTimeMedianSeconds: number;
  readonly failedDeployments: number;
  readonly changeFailureRate: number;
  readonly incidents: number;
  readonly restoredIncidents: number;
  readonly timeToRestoreMedianSeconds: number;
}

const DAY_MS = 86_400_000;

const KEY_COLUMNS: Record<DoraGrouping, string> = {
  none: "''",
  service: 'service_id',
  cluster: 'cluster',
  environment: 'environment',
};

const quoted = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');
const DEPLOYMENTS = quoted(DEPLOYMENT_KINDS);
const INCIDENTS = quoted(INCIDENT_KINDS);

/**
 * The tables DORA reads: the events, migration 5's references of merges and of artifacts, and
 * migration 6's steps (deployments and detections in pair order).
 */
interface DoraTables {
  readonly events: string;
  readonly steps: string;
  readonly mergeRefs: string;
  readonly artifactRefs: string;
}

/**
 * The first 64 bits of the identity's 128-bit SipHash, read big-endian: it orders identities as the
 * whole digest does (two events of one group agreeing on all 64 bits: about 1 in 2^64), and packs
 * with other numbers into one sort key.
 */
const IDENTITY_DIGEST = 'reinterpretAsUInt64(reverse(substring(sipHash128(identity), 1, 8)))';

/**
 * The DORA definitions (the events of a window never leave ClickHouse):
 * - deployments: service.deployed, upgraded and rolledback;
 * - a deployment failed when, on its service and cluster, the next deployment or detected incident
 *   after it (oldest first; ties in time by the identity's digest) is an incident or a rollback (a
 *   rollback is itself a deployment);
 * - lead time: from the earliest `change.merged` not after the deployment, traced through the
 *   deployment's chain id or links, or those of the artifact events (published or packaged before the
 *   window's end) whose subject is the artifact it deployed (merges and artifacts may be older than
 *   the window); medians are exact (the mean of the two middle samples for an even count);
 * - time to restore: from each incident.detected to the first incident.resolved of the same incident
 *   subject at or after it, in the same group and bucket.
 * Every event counts once per identity, before merges or without them.
 *
 * Three queries, one per family of figures, run one after the other: in one query ClickHouse ran
 * them at once and their memory added up (84 days of the 10M benchmark needed more than the hub's
 * 256 MiB; each alone fits). Each reads only the kinds it needs. The verdicts read migration 6's
 * steps, in pair order; restores read the events. Lead time reads merges and artifacts
 * from migration 5's narrow tables, and only the artifacts the window deployed: with every deployment
 * traced to a merge, reading them from the events needed more than 256 MiB (docs/benchmarks.md,
 * 2026-12-06, fifth session).
 */
const doraQueries = (tables: DoraTables, where: string, key: string) => {
  // The rows of the window in `table`, with their group key and bucket.
  const inWindow = (table: string, columns: string, condition = '') => `
    SELECT ${columns}, toUnixTimestamp64Milli(timestamp) AS ms, ${key} AS key,
           intDiv(ms - {sinceMs:Int64}, {bucketMs:Int64}) AS bucket
    FROM ${table}
    WHERE ${where}${condition}`;
  // The events of the window of some kinds.
  const windowed = (kinds: string, columns: string) =>
    inWindow(tables.events, columns, ` AND concat(subject_type, '.', predicate) IN (${kinds})`);
  return {
    verdicts: `
WITH
  -- A deployment failed when the next deployment or detection on its service and cluster is a
  -- detection or a rollback. dora_steps (migration 6) holds those events in (service, cluster, time,
  -- digest) order, so each pair's are read together; each becomes one 128-bit number: the time since
  -- the window's start (62 bits), the identity's digest (64) and the step (2), sorted (ties in time
  -- by the digest), a repeat an equal neighbour dropped by arrayCompact.
  verdicts AS (
    SELECT service_id, cluster, bucket, any(key) AS key,
           arrayMap(x -> toUInt8(bitAnd(x, 3)), arrayCompact(arraySort(groupArray(packed)))) AS steps,
           arrayCount(s -> s != 3, steps) AS deployments,
           arrayCount((s, next) -> s != 3 AND next >= 2, steps, arrayPushBack(arrayPopFront(steps), 0)) AS failed
    FROM (
      ${inWindow(
        tables.steps,
        `service_id, cluster,
         bitOr(bitShiftLeft(toUInt128(ms - {sinceMs:Int64}), 66), bitOr(bitShiftLeft(toUInt128(digest), 2), step)) AS packed`,
      )}
    )
    GROUP BY service_id, cluster, bucket
  )
SELECT bucket, key, sum(deployments) AS deployments, sum(failed) AS failed
FROM verdicts GROUP BY bucket, key`,
    lead: `
WITH
  -- The window's deployments, each with its own references (a chain id, linked event ids) as
  -- migration 5 digests them: sipHash128 of 'c:' + the chain id or 'i:' + the event id.
  deployments AS (
    ${windowed(
      DEPLOYMENTS,
      `identity, artifact_id,
       arrayMap(r -> reinterpretAsUInt128(sipHash128(r)),
                arrayConcat(if(chain_id = '', [], [concat('c:', chain_id)]), arrayMap(x -> concat('i:', x), linked_ids))) AS own`,
    )}
  ),
  -- The earliest merge of each artifact deployed in the window, through the artifact's references
  -- (artifact_refs: its chain and links, published before the window's end; merge_refs: every merge's).
  artifact_first AS (
    SELECT a.subject_id AS artifact_id, toUnixTimestamp64Milli(min(m.timestamp)) AS merged
    FROM ${tables.mergeRefs} AS m
    GLOBAL INNER JOIN (
      SELECT subject_id, ref FROM ${tables.artifactRefs}
      WHERE timestamp < {until:DateTime64(3, 'UTC')}
        AND subject_id GLOBAL IN (SELECT artifact_id FROM deployments WHERE artifact_id != '')
    ) AS a ON m.ref = a.ref
    GROUP BY a.subject_id
  ),
  -- The earliest merge of each deployment's own references.
  own_first AS (
    SELECT o.identity AS identity, toUnixTimestamp64Milli(min(m.timestamp)) AS merged
    FROM ${tables.mergeRefs} AS m
    GLOBAL INNER JOIN (SELECT identity, arrayJoin(own) AS ref FROM deployments WHERE notEmpty(own)) AS o ON m.ref = o.ref
    GROUP BY o.identity
  ),
  candidates AS (
    SELECT d.identity AS identity, d.bucket AS bucket, d.key AS key, d.ms AS ms, f.merged AS merged
    FROM deployments AS d GLOBAL INNER JOIN artifact_first AS f ON f.artifact_id = d.artifact_id
    UNION ALL
    SELECT d.identity, d.bucket, d.key, d.ms, f.merged
    FROM deployments AS d GLOBAL INNER JOIN own_first AS f ON f.identity = d.identity
    WHERE notEmpty(d.own)
  )
-- Lead time per deployment (once per identity): from the earliest merge it references, if that is
-- not after it (the earliest of those not after it is then the earliest of all).
SELECT bucket, key, count() AS lead_samples, quantileExactInclusive(0.5)(lead_ms / 1000) AS lead_median
FROM (
  SELECT bucket, key, any(ms) - min(merged) AS lead_ms
  FROM candidates WHERE merged <= ms
  GROUP BY bucket, key, identity
)
GROUP BY bucket, key`,
    restores: `
WITH
  -- Each incident's detections and resolutions as one sorted array of 128-bit numbers: the identity's
  -- digest (64 bits), the time since the window's start (63) and 1 for a resolution. Sorted by digest,
  -- a repeat of an event (one identity) follows it and is dropped, whatever its time.
  restores AS (
    SELECT bucket, key,
           arraySort(groupArray(packed)) AS sorted,
           arrayFilter((x, previous) -> bitShiftRight(x, 64) != bitShiftRight(previous, 64),
                       sorted, arrayPushFront(arrayPopBack(sorted), toUInt128(0))) AS once,
           arrayMap(x -> toInt64(bitShiftRight(bitAnd(x, 0xFFFFFFFFFFFFFFFF), 1)), arrayFilter(x -> bitAnd(x, 1) = 0, once)) AS detected,
           arrayMap(x -> toInt64(bitShiftRight(bitAnd(x, 0xFFFFFFFFFFFFFFFF), 1)), arrayFilter(x -> bitAnd(x, 1) = 1, once)) AS resolved,
           arrayFilter(x -> x >= 0,
             arrayMap(t -> if(arrayExists(r -> r >= t, resolved),
                              arrayMin(arrayFilter(r -> r >= t, resolved)) - t, -1), detected)) AS restore_ms
    FROM (
      ${windowed(
        INCIDENTS,
        `subject_id,
         bitOr(bitShiftLeft(toUInt128(${IDENTITY_DIGEST}), 64), bitOr(bitShiftLeft(toUInt128(ms - {sinceMs:Int64}), 1), predicate = 'resolved')) AS packed`,
      )}
    )
    GROUP BY bucket, key, subject_id
  )
SELECT bucket, key, sum(length(detected)) AS incidents, sum(length(restore_ms)) AS restored,
       if(empty(groupArrayArray(restore_ms)), 0,
          arrayReduce('quantileExactInclusive(0.5)', groupArrayArray(restore_ms)) / 1000) AS restore_median
FROM restores GROUP BY bucket, key`,
  };
};

interface GroupBucket {
  bucket: string | number;
  key: string;
}
interface VerdictRecord extends GroupBucket {
  deployments: string | number;
  failed: string | number;
}
interface LeadRecord extends GroupBucket {
  lead_samples: string | number;
  lead_median: number;
}
interface RestoreRecord extends GroupBucket {
  incidents: string | number;
  restored: string | number;
  restore_median: number;
}
type DoraRecord = Partial<VerdictRecord & LeadRecord & RestoreRecord>;

/**
 * DORA figures per group and bucket, computed by ClickHouse (doraQueries). Every bucket of the
 * window is answered for every group that has an event in any bucket (zeros where it has none), so
 * a trend has no gaps; not grouped, an empty window is zeros (one row per bucket).
 */
export const doraFigures = async (store: Store, query: DoraQuery): Promise<DoraFigures[]> => {
  const sinceMs = query.since.getTime();
  const windowMs = query.until.getTime() - sinceMs;
  if (!(windowMs > 0)) throw new StoreQueryError('the DORA window must end after it starts');
  const bucketMs = query.bucketMs ?? windowMs;
  if (!Number.isInteger(bucketMs) || bucketMs < 1)
    throw new StoreQueryError(`bucketMs must be a positive whole number, got ${bucketMs}`);
  const { conditions, params } = filterConditions({
    since: query.since,
    until: query.until,
    ...(query.service === undefined ? {} : { service: query.service }),
    ...(query.cluster === undefined ? {} : { cluster: query.cluster }),
    ...(query.environment === undefined ? {} : { environment: query.environment }),
  });
  const tables = {
    events: store.table('cdevents'),
    steps: store.table('dora_steps'),
    mergeRefs: store.table('merge_refs'),
    artifactRefs: store.table('artifact_refs'),
  };
  const sql = doraQueries(tables, conditions.join(' AND '), KEY_COLUMNS[query.grouping]);
  const queryParams = { ...params, sinceMs, bucketMs };
  // Each pair's steps are read in the table's order and grouped as they come (no hash of every pair).
  const verdicts = await store.rows<VerdictRecord>(sql.verdicts, queryParams, store.queryLimits, {
    optimize_aggregation_in_order: 1,
  });
  // The set of the window's artifacts is for the join only: as an index condition (ClickHouse's
  // default) it cost more than the rows it skipped.
  const lead = await store.rows<LeadRecord>(sql.lead, queryParams, store.queryLimits, {
    use_index_for_in_with_subqueries: 0,
  });
  const restores = await store.rows<RestoreRecord>(sql.restores, queryParams);
  // Every group with an event has a verdict row (deployments, detections) or a restore row (incidents).
  const found = new Map<string, DoraRecord>();
  for (const r of [...verdicts, ...lead, ...restores]) {
    const at = `${r.key}\u0000${Number(r.bucket)}`;
    found.set(at, { ...found.get(at), ...r });
  }
  const buckets = Math.ceil(windowMs / bucketMs);
  const keys = [...new Set([...found.values()].map((r) => r.key ?? ''))].sort((a, b) => a.localeCompare(b));
  if (keys.length === 0 && query.grouping === 'none') keys.push('');
  return keys.flatMap((key) =>
    Array.from({ length: buckets }, (_, bucket) => {
      const start = sinceMs + bucket * bucketMs;
      const days = (Math.min(start + bucketMs, sinceMs + windowMs) - start) / DAY_MS;
      const r = found.get(`${key}\u0000${bucket}`);
      const deployments = Number(r?.deployments ?? 0);
      const failed = Number(r?.failed ?? 0);
      const leadSamples = Number(r?.lead_samples ?? 0);
      const restored = Number(r?.restored ?? 0);
      return {
        key,
        bucketStart: new Date(start),
        deployments,
        deploymentsPerDay: deployments / days,
        leadTimeSamples: leadSamples,
        leadTimeMedianSeconds: leadSamples === 0 ? 0 : Number(r?.lead_median ?? 0),
        failedDeployments: failed,
        changeFailureRate: deployments === 0 ? 0 : failed / deployments,
        incidents: Number(r?.incidents ?? 0),
        restoredIncidents: restored,
        timeToRestoreMedianSeconds: restored === 0 ? 0 : Number(r?.restore_median ?? 0),
      };
    }),
  );
};
