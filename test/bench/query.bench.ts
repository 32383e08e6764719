/**
 * Query latency over a large store, in a real hub (runHub: embedded chdb, NATS, HTTP and gRPC
 * listeners) holding N events over the last 365 days (default 10M; ARGUS_BENCH_QUERY_EVENTS to
 * change): the newest 50 events of one service (timeline, search; store and gRPC), what runs where,
 * DORA for 30 days by cluster (whole window and weekly), then exactly the calls each dashboard page
 * makes through the hub's HTTP JSON API, and each page drawn by Chromium, data included (when
 * ARGUS_CHROMIUM or /usr/bin/chromium exists). Baseline: `SELECT 1` through the same client in the
 * same run. Targets: timeline < 100 ms, what runs where < 300 ms, DORA 30 days by cluster < 1 s,
 * each page drawn < 1 s.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HUB_OPTIONS, MAX_DEPLOYMENT_CELLS, runHub } from '@argus/hub';
import { type GetServiceTimelineResponse, QueryServiceClient } from '@argus/query-api';
import { parseOptions } from '@argus/runtime';
import { currentDeployments, doraFigures, type Store, searchPage, serviceTimeline } from '@argus/store';
import { captureLogs, NatsServer } from '@argus/testkit';
import { credentials, Metadata } from '@grpc/grpc-js';
import { chromium, type Page } from 'playwright-core';
import type { BenchResult, Measurement } from './harness.js';
import { buildCli } from './shipped-hub.js';

const EVENTS = Number(process.env.ARGUS_BENCH_QUERY_EVENTS ?? 10_000_000);
const SERVICES = 10_000;
const CLUSTERS = 20;
/** Rounds of the light queries (ARGUS_BENCH_QUERY_ROUNDS: fewer on a crowded machine). */
const QUERIES = Number(process.env.ARGUS_BENCH_QUERY_ROUNDS ?? 100);
/** Whole-store queries (what runs where, DORA) and page loads take longer: fewer rounds. */
const HEAVY_QUERIES = 10;
const PAGE_LOADS = 5;
const CHUNK = 1_000_000;
const DAY_MS = 86_400_000;
/** The events are spread evenly over the year before the run, so "the last 30 days" holds 1/12. */
const SPAN_MS = 365 * DAY_MS;
const CHROMIUM = process.env.ARGUS_CHROMIUM ?? '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 860 };
const MAX_MEMORY = process.env.ARGUS_BENCH_QUERY_MAX_MEMORY;

/**
 * Rows made by ClickHouse itself (INSERT ... SELECT FROM numbers): 10M rows in seconds, not minutes.
 * A tenth are incidents; 99 in 100 are resolved 10 minutes to 2 hours later (a second row), as in a
 * store that people use: an incident open for months is the exception. Every ten events in a row are
 * one delivery chain: its merges and artifacts carry the chain id, its deployments ship its artifact
 * (`pkg:oci/build@<chain>`), so DORA's lead time and a timeline's upstream have work to do, as where
 * CI reports to Argus (until 2026-12-06 no deployment led to a merge here).
 */
export const fill = async (store: Store, start: number, events = EVENTS): Promise<void> => {
  const stepMs = Math.floor(SPAN_MS / events);
  for (let offset = 0; offset < events; offset += CHUNK) {
    const count = Math.min(CHUNK, events - offset);
    await store.command(`
      INSERT INTO ${store.table('cdevents')}
        (identity, id, source, type, spec_version, subject_type, predicate, subject_id, subject_source,
         timestamp, chain_id, links, linked_ids, instance, cluster, environment, artifact_id, labels,
         received_at, raw)
      SELECT
        lower(hex(MD5(concat(toString(n), suffix)))) AS identity,
        concat('ev-', toString(n), suffix) AS id,
        concat('/argocd/', cl, '/apps/', svc) AS source,
        concat('dev.cdevents.', st, '.', pr, '.0.3.0') AS type,
        '0.5.1', st, pr,
        multiIf(st = 'service', svc, st = 'incident', concat('inc-', toString(n)), st = 'artifact', build,
                concat('x-', toString(n))) AS subject_id,
        '', ts, if(st IN ('change', 'artifact'), concat('chain-', toString(intDiv(n, 10))), ''), '', [],
        concat('argo-', toString(n % ${CLUSTERS})), cl, concat(cl, '/apps'),
        if(st = 'service', build, ''), map(), ts,
        concat('{"context":{"id":"ev-', toString(n), suffix, '"},"subject":{"id":"', subject_id,
               '","content":{"service":{"id":"', svc, '"}}}}') AS raw
      FROM (
        SELECT n, k, svc, cl, st, concat('pkg:oci/build@', toString(intDiv(n, 10))) AS build,
               if(resolution, 'resolved', pr0) AS pr,
               if(resolution, '-resolved', '') AS suffix,
               if(resolution, at + toIntervalSecond(600 + cityHash64(n, 2) % 6600), at) AS ts
        FROM (
          SELECT number + ${offset} AS n,
                 -- the kind of event, independent of the service (n decides both otherwise)
                 cityHash64(n) % 10 AS k,
                 concat('svc-', toString((n * 7919) % ${SERVICES})) AS svc,
                 concat('cluster-', toString(n % ${CLUSTERS})) AS cl,
                 ['service', 'service', 'service', 'service', 'service', 'service', 'incident', 'change', 'build', 'artifact'][k + 1] AS st,
                 ['deployed', 'upgraded', 'upgraded', 'upgraded', 'upgraded', 'rolledback', 'detected', 'merged', 'finished', 'published'][k + 1] AS pr0,
                 toDateTime64(${start / 1000}, 3, 'UTC') + toIntervalMillisecond(n * ${stepMs}) AS at
          FROM numbers(${count})
        )
        ARRAY JOIN if(st = 'incident' AND cityHash64(n, 1) % 100 != 0, [false, true], [false]) AS resolution
      )`);
  }
};

/**
 * Chromium behind a Playwright browser server in a child process (`launchServer`), for `connect`: the
 * benchmark's process then holds only Playwright's client beside the hub.
 */
const launchBrowserServer = async (): Promise<{ wsEndpoint: string; stop: () => void }> => {
  const script = `const { chromium } = require('playwright-core');
    chromium.launchServer({ executablePath: process.argv[1] }).then((server) => {
      console.log(server.wsEndpoint());
      process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
    });`;
  const child = spawn(process.execPath, ['-e', script, CHROMIUM], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const wsEndpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('ws://'));
      if (line !== undefined) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`the browser server exited (${code}) before it listened`)));
  });
  return { wsEndpoint, stop: () => child.kill('SIGTERM') };
};

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

const timeEach = async (
  fn: (i: number) => Promise<unknown>,
  rounds = QUERIES,
): Promise<{ p50: number; p99: number }> => {
  await fn(0);
  const times: number[] = [];
  for (let i = 1; i <= rounds; i++) {
    const start = performance.now();
    await fn(i);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
};

/**
 * What runs where as main read it before migration 3 (service_last): six argMax over every
 * deployment event. Kept here only to measure what the aggregate saves, in the same run.
 */
const whereBefore = (table: string): string => `
WITH last AS (
       SELECT service_id AS service, cluster,
              argMax(environment, (timestamp, identity)) AS environment,
              argMax(instance, (timestamp, identity)) AS instance,
              argMax(concat(subject_type, '.', predicate), (timestamp, identity)) AS kind,
              argMax(artifact_id, (timestamp, identity)) AS artifact_id,
              toString(max(timestamp)) AS time,
              argMax(id, (timestamp, identity)) AS event_id
       FROM ${table}
       WHERE concat(subject_type, '.', predicate) IN {kinds:Array(String)} 
       GROUP BY service, cluster
       ORDER BY service, cluster
       LIMIT {limit:UInt32}
     ),
     open AS (
       SELECT service, cluster, countIf(state != 'resolved') AS open_incidents
       FROM (
         SELECT service_id AS service, cluster, subject_id,
                argMax(predicate, (timestamp, identity)) AS state
         FROM ${table}
         WHERE subject_type = 'incident' AND service_id != '' 
         GROUP BY service, cluster, subject_id
       )
       GROUP BY service, cluster
     )
     SELECT last.*, ifNull(open.open_incidents, 0) AS open_incidents
     FROM last LEFT JOIN open ON last.service = open.service AND last.cluster = open.cluster
     ORDER BY service, cluster
     SETTINGS join_use_nulls = 1`;

/** One GET of the hub's JSON API, as the dashboard makes it; fails on anything but 200. */
const getJson = async <T>(base: string, path: string, params: Record<string, string> = {}): Promise<T> => {
  const query = new URLSearchParams(params).toString();
  const res = await fetch(`${base}/api/v1/query/${path}${query === '' ? '' : `?${query}`}`);
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
};

const ms = (name: string, value: number, baseline: number): Measurement => ({
  name,
  opsPerSec: value,
  unit: 'ms',
  ratio: value / baseline,
});

/** Longest wait for the fill's background merges, in ms: a store in use has its parts merged. */
const MERGES_WAIT_MS = 600_000;
/**
 * How long ClickHouse must merge nothing, its parts unchanged, before the store counts as merged: a
 * moment with no merge running is not enough (ClickHouse picks the next merge seconds later).
 */
const MERGES_QUIET_MS = 20_000;

/** Active parts of the store's tables (what merges reduce). */
const activeParts = async (store: Store): Promise<number> => {
  const [parts] = await store.rows<{ n: string }>(
    'SELECT count() AS n FROM system.parts WHERE active AND database = {db:String}',
    { db: store.database },
  );
  return Number(parts?.n ?? 0);
};

/**
 * Waits until ClickHouse has merged nothing for MERGES_QUIET_MS (or MERGES_WAIT_MS passed), and
 * returns how long it waited and the active parts left. Right after the fill, merges took a core and
 * the pages measured slower than on the same data merged: that is the fill, not what a user of a
 * 10M-event store sees. Until 2026-12-06 (sixth session) the wait ended at the first moment no merge
 * ran, often before the first merge had been picked ("waited 0 s").
 */
const settleMerges = async (store: Store): Promise<{ seconds: number; parts: number }> => {
  const started = performance.now();
  let parts = await activeParts(store);
  let quietSince = performance.now();
  for (;;) {
    const [merging] = await store.rows<{ n: string }>(
      'SELECT count() AS n FROM system.merges WHERE database = {db:String}',
      { db: store.database },
    );
    const now = await activeParts(store);
    if (Number(merging?.n ?? 0) > 0 || now !== parts) quietSince = performance.now();
    parts = now;
    if (performance.now() - quietSince >= MERGES_QUIET_MS || performance.now() - started > MERGES_WAIT_MS)
      break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return { seconds: (performance.now() - started) / 1000, parts };
};

export const run = async (): Promise<BenchResult> => {
  // The pages are drawn from this checkout's dashboard, bundled by `pnpm build`.
  buildCli();
  const dataDir = mkdtempSync(join(tmpdir(), 'argus-bench-query-'));
  const logs = captureLogs({ level: 'warn' });
  const nats = await NatsServer.start();
  const hub = await runHub(
    parseOptions(HUB_OPTIONS, {
      flags: {
        nats: nats.url,
        dataDir,
        httpListen: '127.0.0.1:0',
        grpcListen: '127.0.0.1:0',
        logLevel: 'warn',
        // The hub's defaults unless set (ARGUS_BENCH_QUERY_MAX_MEMORY, bytes): to time what they refuse.
        ...(MAX_MEMORY === undefined ? {} : { queryMaxMemory: MAX_MEMORY }),
      },
      env: {},
    }),
    logs.destination,
  );
  const store = hub.store;
  const base = `http://127.0.0.1:${hub.http.address.port}`;
  const client = new QueryServiceClient(`127.0.0.1:${hub.grpc.address.port}`, credentials.createInsecure());
  try {
    const now = Date.now();
    const fillStart = performance.now();
    await fill(store, Math.floor((now - SPAN_MS) / 1000) * 1000);
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const settled = await settleMerges(store);
    // count(), not countEvents: uniqExact over 10M identities needs more than the hub's query memory.
    const [counted] = await store.rows<{ n: string }>(`SELECT count() AS n FROM ${store.table('cdevents')}`);
    const stored = { events: Number(counted?.n ?? 0) };
    const service = (i: number) => `svc-${(i * 104_729) % SERVICES}`;
    const grpcTimeline = (svc: string) =>
      new Promise<GetServiceTimelineResponse>((resolve, reject) =>
        client.getServiceTimeline({ service: svc, limit: 50, upstream: false }, new Metadata(), (err, res) =>
          err === null ? resolve(res) : reject(err),
        ),
      );
    const month = { since: new Date(now - 30 * DAY_MS), until: new Date(now) };
    const notes: string[] = [];
    /** A measurement that fails (a query limit) is reported as a note, and the run goes on. */
    const heavy = async (name: string, fn: (i: number) => Promise<unknown>, rounds = HEAVY_QUERIES) => {
      try {
        return await timeEach(fn, rounds);
      } catch (error) {
        notes.push(`${name} failed: ${(error as Error).message.split('\n')[0]?.slice(0, 300)}`);
        return { p50: Number.NaN, p99: Number.NaN };
      }
    };

    const baseline = await timeEach(() => store.rows('SELECT 1'));
    const timeline = await timeEach(async (i) => {
      const events = await serviceTimeline(store, service(i), {}, 50);
      if (events.length === 0) throw new Error(`no events for ${service(i)}`);
    });
    const search = await timeEach((i) => searchPage(store, { service: service(i) }, 50));
    const grpc = await timeEach(async (i) => {
      const response = await grpcTimeline(service(i));
      if (response.entries.length === 0) throw new Error(`no entries for ${service(i)}`);
    });
    const where = await heavy(
      'what runs where',
      async () => {
        const cells = await currentDeployments(store, {}, MAX_DEPLOYMENT_CELLS + 1);
        if (cells.length === 0) throw new Error('what runs where is empty');
      },
      HEAVY_QUERIES,
    );
    const whereRaw = await heavy(
      'what runs where without service_last',
      () =>
        store.rows(whereBefore(store.table('cdevents')), {
          kinds: ['service.deployed', 'service.upgraded', 'service.rolledback', 'service.removed'],
          limit: MAX_DEPLOYMENT_CELLS + 1,
        }),
      HEAVY_QUERIES,
    );
    const dora = await heavy(
      'DORA 30 days by cluster',
      async () => {
        const figures = await doraFigures(store, { ...month, grouping: 'cluster' });
        if (figures.length !== CLUSTERS)
          throw new Error(`expected ${CLUSTERS} clusters, got ${figures.length}`);
      },
      HEAVY_QUERIES,
    );
    const doraWeekly = await heavy(
      'DORA weekly',
      async () => {
        const figures = await doraFigures(store, { ...month, grouping: 'cluster', bucketMs: 7 * DAY_MS });
        if (figures.length !== CLUSTERS * 5)
          throw new Error(`expected 5 weeks x ${CLUSTERS}, got ${figures.length}`);
      },
      HEAVY_QUERIES,
    );

    // The dashboard's calls, page by page, through the hub's HTTP JSON API (what the browser fetches).
    const statsApi = await heavy('page /instances stats call', () => getJson(base, 'stats'), HEAVY_QUERIES);
    // The page asks for 100 services; the whole matrix (argus where) is the comparison.
    const overviewApi = await heavy(
      'page / calls',
      () => getJson(base, 'deployments', { pageSize: '100' }),
      HEAVY_QUERIES,
    );
    const wholeMatrixApi = await heavy(
      'whole matrix call',
      () => getJson(base, 'deployments'),
      HEAVY_QUERIES,
    );
    const servicePageApi = await heavy(
      'page /services calls',
      async (i) => {
        const timeline = await getJson<{ entries?: unknown[] }>(base, `services/${service(i)}/timeline`, {
          upstream: 'true',
        });
        if ((timeline.entries ?? []).length === 0) throw new Error(`no entries for ${service(i)}`);
      },
      HEAVY_QUERIES,
    );
    const doraPageApi = await heavy(
      'page /dora calls',
      async () => {
        // One after the other, as the page makes them (the table's first).
        await getJson(base, 'dora', { groupBy: 'cluster' });
        await getJson(base, 'dora', {
          groupBy: 'cluster',
          bucket: 'week',
          since: new Date(Date.now() - 84 * DAY_MS).toISOString(),
          until: new Date().toISOString(),
        });
      },
      HEAVY_QUERIES,
    );

    // Each page drawn by Chromium, data included: from the navigation's start to the first frame after
    // the page's content is in the document, timed by the page itself (performance.now() counts from
    // the navigation's start), as a person sees it. Playwright's role locators are not used to wait:
    // they walk every element of a 2,000-cell table and added ~0.1 s to each figure.
    const pages: Measurement[] = [];
    if (existsSync(CHROMIUM)) {
      // Playwright's browser side (the protocol work of every new context and page) in a process of
      // its own, as a person's browser is: launched here it shared the hub's event loop, which
      // answers the pages' calls.
      const browserServer = await launchBrowserServer();
      const browser = await chromium.connect(browserServer.wsEndpoint).catch((error: unknown) => {
        browserServer.stop();
        throw error;
      });
      try {
        const page = await browser.newPage({ viewport: VIEWPORT });
        // Functions, not strings: the dashboard's CSP forbids eval. The page's globals are typed here
        // by hand (the benchmarks compile without the DOM library).
        type PageGlobals = {
          document: { querySelectorAll(selector: string): { length: number } };
          requestAnimationFrame(callback: () => void): void;
          performance: {
            now(): number;
            getEntriesByType(type: 'resource'): { name: string; startTime: number; responseEnd: number }[];
          };
        };
        const drawnAt = async (on: Page, selector: string, count = 1): Promise<number> => {
          await on.waitForFunction(
            ([s, n]) => (globalThis as unknown as PageGlobals).document.querySelectorAll(s).length >= n,
            [selector, count] as const,
            { polling: 'raf', timeout: 30_000 },
          );
          return on.evaluate(
            () =>
              new Promise<number>((resolve) => {
                const page = globalThis as unknown as PageGlobals;
                page.requestAnimationFrame(() => setTimeout(() => resolve(page.performance.now())));
              }),
          );
        };
        /**
         * Loads `path` PAGE_LOADS times (after one not counted) and times each selector's drawing: in
         * one tab, as a person opening the dashboard again (its modules in the browser's cache), or on a
         * first visit, each load in a new browser context (an empty cache).
         */
        const render = async (
          path: string,
          parts: Record<string, readonly [string, number?]>,
          visit: 'again' | 'first' = 'again',
        ): Promise<Record<string, number> & { callStarted: number; callTook: number }> => {
          const times: Record<string, number[]> = Object.fromEntries(Object.keys(parts).map((k) => [k, []]));
          // The page's opening data call, as the browser saw it: when it started, how long it took.
          const call = { started: [] as number[], took: [] as number[] };
          try {
            for (let round = 0; round <= PAGE_LOADS; round++) {
              const tab = visit === 'first' ? await browser.newPage({ viewport: VIEWPORT }) : page;
              try {
                await tab.goto(`${base}${path}`);
                for (const [name, [selector, count]] of Object.entries(parts)) {
                  const at = await drawnAt(tab, selector, count);
                  if (round > 0) times[name]?.push(at);
                }
                const opening = await tab.evaluate(() => {
                  const entry = (globalThis as unknown as PageGlobals).performance
                    .getEntriesByType('resource')
                    .find((e) => e.name.includes('/api/v1/query/'));
                  return entry === undefined
                    ? undefined
                    : [entry.startTime, entry.responseEnd - entry.startTime];
                });
                if (round > 0 && opening !== undefined) {
                  call.started.push(opening[0] ?? Number.NaN);
                  call.took.push(opening[1] ?? Number.NaN);
                }
              } finally {
                if (tab !== page) await tab.close();
              }
            }
          } catch (error) {
            notes.push(
              `page ${path} drawn failed: ${(error as Error).message.split('\n')[0]?.slice(0, 300)}`,
            );
          }
          const median = (v: number[]) =>
            percentile(
              v.sort((a, b) => a - b),
              50,
            ) || Number.NaN;
          return {
            ...Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])),
            callStarted: median(call.started),
            callTook: median(call.took),
          };
        };
        /** Where a page's time went, for the notes: its opening data call as the browser saw it. */
        const callNote = (what: string, drawn: { callStarted: number; callTook: number }) =>
          notes.push(
            `${what}: its data call started ${drawn.callStarted.toFixed(0)} ms after the navigation and took ${drawn.callTook.toFixed(0)} ms in the browser (p50)`,
          );
        const overviewParts = { table: ['table[aria-label="Services by cluster"]'] } as const;
        const serviceParts = { timeline: ['ol.timeline'] } as const;
        // The charts are waited for even when only the table is reported: the next load must not
        // overlap the trend's query.
        const doraParts = {
          table: ['table[aria-label="DORA metrics by cluster"]'],
          charts: ['figure.chart .uplot canvas', 4],
        } as const;
        const overview = await render('/', overviewParts);
        const servicePage = await render(`/services/${service(1)}`, serviceParts);
        const doraPage = await render('/dora', doraParts);
        const overviewFirst = await render('/', overviewParts, 'first');
        const serviceFirst = await render(`/services/${service(1)}`, serviceParts, 'first');
        const doraFirst = await render('/dora', doraParts, 'first');
        callNote('page / opened again', overview);
        callNote('page /dora opened again', doraPage);
        callNote('first visit of /', overviewFirst);
        callNote('first visit of /services/<id>', serviceFirst);
        callNote('first visit of /dora', doraFirst);
        pages.push(
          ms('page / drawn, data included p50 (Chromium)', overview.table ?? Number.NaN, baseline.p50),
          ms('page /services/<id> drawn p50 (Chromium)', servicePage.timeline ?? Number.NaN, baseline.p50),
          ms('page /dora drawn: the 30-day table p50 (Chromium)', doraPage.table ?? Number.NaN, baseline.p50),
          ms('first visit, empty cache: page / drawn p50', overviewFirst.table ?? Number.NaN, baseline.p50),
          ms('first visit: page /services/<id> drawn p50', serviceFirst.timeline ?? Number.NaN, baseline.p50),
          ms('first visit: page /dora 30-day table drawn p50', doraFirst.table ?? Number.NaN, baseline.p50),
          ms(
            'page /dora drawn: its 4 weekly trend charts after the table p50 (Chromium)',
            doraPage.charts ?? Number.NaN,
            baseline.p50,
          ),
        );
      } finally {
        await browser.close().finally(() => browserServer.stop());
      }
    } else notes.push(`${CHROMIUM} is missing: pages not drawn (set ARGUS_CHROMIUM)`);
    // Fewer parts now than after the wait: ClickHouse merged during the measurements, which then share
    // the cores with it.
    const partsAfter = await activeParts(store);

    return {
      benchmark: `query latency, ${(stored.events / 1e6).toFixed(1)}M events stored (chdb, a real hub)`,
      baseline: 'SELECT 1 through the same client, p50',
      // A query that failed (a limit) has no figure: its note says why.
      measurements: [
        { name: 'baseline SELECT 1 p50', opsPerSec: baseline.p50, unit: 'ms' },
        ms('timeline, last 50 of a service p50 (store)', timeline.p50, baseline.p50),
        ms('timeline, last 50 of a service p99 (store)', timeline.p99, baseline.p50),
        ms('search by service, 50 newest p50 (store)', search.p50, baseline.p50),
        ms('search by service, 50 newest p99 (store)', search.p99, baseline.p50),
        ms('GetServiceTimeline(limit 50) p50 (gRPC)', grpc.p50, baseline.p50),
        ms('GetServiceTimeline(limit 50) p99 (gRPC)', grpc.p99, baseline.p50),
        ms('what runs where, every service x cluster p50 (store)', where.p50, baseline.p50),
        ms('what runs where p99 (store)', where.p99, baseline.p50),
        ms('what runs where without service_last (main before) p50 (store)', whereRaw.p50, baseline.p50),
        ms('what runs where without service_last p99 (store)', whereRaw.p99, baseline.p50),
        ms('DORA 30 days by cluster p50 (store)', dora.p50, baseline.p50),
        ms('DORA 30 days by cluster p99 (store)', dora.p99, baseline.p50),
        ms('DORA 30 days by cluster, weekly p50 (store)', doraWeekly.p50, baseline.p50),
        ms('DORA 30 days by cluster, weekly p99 (store)', doraWeekly.p99, baseline.p50),
        ms('page / calls: deployments, 100 services p50 (HTTP JSON)', overviewApi.p50, baseline.p50),
        ms(
          'what runs where, whole matrix as argus where asks p50 (HTTP JSON)',
          wholeMatrixApi.p50,
          baseline.p50,
        ),
        ms('page /instances stats call: stored events p50 (HTTP JSON)', statsApi.p50, baseline.p50),
        ms(
          'page /services/<id> calls: timeline with upstream p50 (HTTP JSON)',
          servicePageApi.p50,
          baseline.p50,
        ),
        ms(
          'page /dora calls: dora, then dora weekly (12 weeks) p50 (HTTP JSON)',
          doraPageApi.p50,
          baseline.p50,
        ),
        ...pages,
      ].filter((m) => !Number.isNaN(m.opsPerSec)),
      notes: [
        `${stored.events} events over ${SERVICES} services and ${CLUSTERS} clusters, the last 365 days; generated in ${fillSeconds.toFixed(1)} s; measured after its background merges ended (waited ${settled.seconds.toFixed(0)} s, the last ${MERGES_QUIET_MS / 1000} s without a merge; ${settled.parts} active parts, ${partsAfter} after the measurements)`,
        `${QUERIES} rounds for the timeline and search lines, ${HEAVY_QUERIES} for what runs where, DORA and the pages' calls, ${PAGE_LOADS} page loads; p99 of 10 rounds is their slowest`,
        'targets: timeline < 100 ms; what runs where < 300 ms; DORA 30 days by cluster < 1 s; each page drawn < 1 s',
        `the hub's query memory: ${MAX_MEMORY === undefined ? 'its default' : `${MAX_MEMORY} bytes (ARGUS_BENCH_QUERY_MAX_MEMORY)`}`,
        ...notes,
      ],
    };
  } finally {
    client.close();
    await hub.shutdown.shutdown('bench done');
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
