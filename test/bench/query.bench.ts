/**
 * Query latency over a large store: the newest 50 events of one service (the timeline and the
 * filtered search), with N events stored (default 10M; ARGUS_BENCH_QUERY_EVENTS to change), through
 * the store and end to end through the gRPC API. Baseline: `SELECT 1` through the same client in
 * the same run (the fixed cost of a query). Target: < 100 ms for the last 50 events of a service.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startQueryServer } from '@argus/hub';
import { type GetServiceTimelineResponse, QueryServiceClient } from '@argus/query-api';
import { TokenVerifier } from '@argus/runtime';
import { countEvents, Store, searchPage, serviceTimeline } from '@argus/store';
import { captureLogs, NatsServer } from '@argus/testkit';
import { credentials, Metadata } from '@grpc/grpc-js';
import type { BenchResult } from './harness.js';

const EVENTS = Number(process.env.ARGUS_BENCH_QUERY_EVENTS ?? 10_000_000);
const SERVICES = 10_000;
const CLUSTERS = 20;
const QUERIES = 100;
const CHUNK = 1_000_000;

/** Rows made by ClickHouse itself (INSERT ... SELECT FROM numbers): 10M rows in seconds, not minutes. */
const fill = async (store: Store): Promise<void> => {
  for (let offset = 0; offset < EVENTS; offset += CHUNK) {
    const count = Math.min(CHUNK, EVENTS - offset);
    await store.command(`
      INSERT INTO ${store.table('cdevents')}
        (identity, id, source, type, spec_version, subject_type, predicate, subject_id, subject_source,
         timestamp, chain_id, links, linked_ids, instance, cluster, environment, artifact_id, labels,
         received_at, raw)
      SELECT
        lower(hex(MD5(toString(n)))) AS identity,
        concat('ev-', toString(n)) AS id,
        concat('/argocd/', cl, '/apps/', svc) AS source,
        concat('dev.cdevents.', st, '.', pr, '.0.3.0') AS type,
        '0.5.1', st, pr,
        multiIf(st = 'service', svc, st = 'incident', concat('inc-', toString(n)), concat('x-', toString(n))) AS subject_id,
        '', ts, '', '', [], concat('argo-', toString(n % ${CLUSTERS})), cl, concat(cl, '/apps'),
        if(st = 'service', concat('pkg:oci/', svc, '@', toString(n)), ''), map(), ts,
        concat('{"context":{"id":"ev-', toString(n), '"},"subject":{"id":"', subject_id,
               '","content":{"service":{"id":"', svc, '"}}}}') AS raw
      FROM (
        SELECT number + ${offset} AS n,
               -- the kind of event, independent of the service (n decides both otherwise)
               cityHash64(n) % 10 AS k,
               concat('svc-', toString((n * 7919) % ${SERVICES})) AS svc,
               concat('cluster-', toString(n % ${CLUSTERS})) AS cl,
               ['service', 'service', 'service', 'service', 'service', 'service', 'incident', 'change', 'build', 'artifact'][k + 1] AS st,
               ['deployed', 'upgraded', 'upgraded', 'upgraded', 'upgraded', 'rolledback', 'detected', 'merged', 'finished', 'published'][k + 1] AS pr,
               toDateTime64('2025-11-25 00:00:00', 3, 'UTC') + toIntervalMillisecond(n * 3) AS ts
        FROM numbers(${count})
      )`);
  }
};

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

const timeEach = async (fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> => {
  await fn(0);
  const times: number[] = [];
  for (let i = 1; i <= QUERIES; i++) {
    const start = performance.now();
    await fn(i);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
};

export const run = async (): Promise<BenchResult> => {
  const dir = mkdtempSync(join(tmpdir(), 'argus-bench-query-'));
  const logs = captureLogs({ level: 'warn' });
  const store = await Store.open({ dataDir: dir, database: 'bench', logger: logs.logger });
  const nats = await NatsServer.start();
  const { connectNats } = await import('@argus/bus');
  const nc = await connectNats({ servers: nats.url, name: 'bench', logger: logs.logger });
  try {
    const fillStart = performance.now();
    await fill(store);
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const stored = await countEvents(store);
    const service = (i: number) => `svc-${(i * 104_729) % SERVICES}`;

    const server = await startQueryServer({
      listen: { host: '127.0.0.1', port: 0 },
      store,
      nc,
      logger: logs.logger,
      tokens: new TokenVerifier(new Map()),
      stats: () => ({
        consumed: 0,
        stored: 0,
        duplicates: 0,
        deadLetters: 0,
        republished: 0,
        storeErrors: 0,
      }),
      consumerName: 'argus-hub',
    });
    const client = new QueryServiceClient(`127.0.0.1:${server.address.port}`, credentials.createInsecure());
    const grpcTimeline = (svc: string) =>
      new Promise<GetServiceTimelineResponse>((resolve, reject) =>
        client.getServiceTimeline({ service: svc, limit: 50 }, new Metadata(), (err, res) =>
          err === null ? resolve(res) : reject(err),
        ),
      );

    const baseline = await timeEach(() => store.rows('SELECT 1'));
    const timeline = await timeEach(async (i) => {
      const events = await serviceTimeline(store, service(i), {}, 50);
      if (events.length === 0) throw new Error(`no events for ${service(i)}`);
    });
    const search = await timeEach((i) => searchPage(store, { service: service(i) }, 50));
    const grpc = await timeEach(async (i) => {
      const response = await grpcTimeline(service(i));
      if (response.entries.length !== 50)
        throw new Error(`expected 50 entries, got ${response.entries.length}`);
    });
    client.close();
    await server.close();
    const ratio = (ms: number) => ms / baseline.p50;
    return {
      benchmark: `query latency, ${(stored.events / 1e6).toFixed(1)}M events stored (chdb)`,
      baseline: 'SELECT 1 through the same client, p50',
      measurements: [
        { name: 'baseline SELECT 1 p50', opsPerSec: baseline.p50, unit: 'ms' },
        {
          name: 'timeline, last 50 of a service p50 (store)',
          opsPerSec: timeline.p50,
          unit: 'ms',
          ratio: ratio(timeline.p50),
        },
        {
          name: 'timeline, last 50 of a service p99 (store)',
          opsPerSec: timeline.p99,
          unit: 'ms',
          ratio: ratio(timeline.p99),
        },
        {
          name: 'search by service, 50 newest p50 (store)',
          opsPerSec: search.p50,
          unit: 'ms',
          ratio: ratio(search.p50),
        },
        {
          name: 'search by service, 50 newest p99 (store)',
          opsPerSec: search.p99,
          unit: 'ms',
          ratio: ratio(search.p99),
        },
        {
          name: 'GetServiceTimeline(limit 50) p50 (gRPC)',
          opsPerSec: grpc.p50,
          unit: 'ms',
          ratio: ratio(grpc.p50),
        },
        {
          name: 'GetServiceTimeline(limit 50) p99 (gRPC)',
          opsPerSec: grpc.p99,
          unit: 'ms',
          ratio: ratio(grpc.p99),
        },
      ],
      notes: [
        `${stored.events} events over ${SERVICES} services and ${CLUSTERS} clusters, a year of timestamps; generated in ${fillSeconds.toFixed(1)} s`,
        `${QUERIES} queries each, a different service every time; target: last 50 events of one service < 100 ms`,
      ],
    };
  } finally {
    await nc.close();
    await nats.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
};
