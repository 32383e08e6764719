import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAgentsBucket, publishRaw, RAW_STREAM, UNIFIED_STREAM, writeHeartbeat } from '@argus/bus';
import { type CDEvent, createEvent } from '@argus/cdevents';
import {
  DoraBucket,
  DoraGroupBy,
  type Event,
  EventFilter,
  type GetDeploymentsRequest,
  type GetDeploymentsResponse,
  QueryServiceClient,
  type SearchEventsRequest,
  type SearchEventsResponse,
  type TailEventsResponse,
} from '@argus/query-api';
import { parseOptions } from '@argus/runtime';
import { captureLogs, NatsServer, waitFor } from '@argus/testkit';
import {
  type CallOptions,
  type ClientReadableStream,
  credentials,
  loadPackageDefinition,
  Metadata,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HUB_OPTIONS, type RunningHub, runHub } from '../src/index.js';
import { MAX_DEPLOYMENT_PAGE_SIZE } from '../src/query/limits.js';

const TOKEN = 'query-secret';
const logs = captureLogs({ level: 'info' });
let server: NatsServer;
let running: RunningHub;
let client: QueryServiceClient;
let dataDir: string;

const T0 = Date.UTC(2026, 0, 5, 10, 0);
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

const auth = (token = TOKEN): Metadata => {
  const m = new Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
};
const deadline = (): Partial<CallOptions> => ({ deadline: Date.now() + 10_000 });

/** Promisified unary call through the generated client. */
const call = <Req, Res>(
  method: (
    req: Req,
    md: Metadata,
    opts: Partial<CallOptions>,
    cb: (e: ServiceError | null, r: Res) => void,
  ) => unknown,
  request: Req,
  metadata = auth(),
): Promise<Res> =>
  new Promise((resolve, reject) =>
    method.call(client, request, metadata, deadline(), (err, res) =>
      err === null ? resolve(res) : reject(err),
    ),
  );
const search = (request: Partial<SearchEventsRequest>, metadata?: Metadata) =>
  call<SearchEventsRequest, SearchEventsResponse>(
    client.searchEvents,
    { pageSize: 0, pageToken: '', ...request },
    metadata,
  );

const service = (
  type: 'service.deployed' | 'service.upgraded' | 'service.rolledback',
  id: string,
  cluster: string,
  minute: number,
  artifact: string,
  chainId?: string,
): CDEvent =>
  createEvent({
    type,
    id,
    source: `/argocd/${cluster}/podinfo/podinfo`,
    timestamp: at(minute),
    ...(chainId === undefined ? {} : { chainId }),
    subject: { id: 'podinfo', content: { environment: { id: `${cluster}/podinfo` }, artifactId: artifact } },
  });

const incident = (predicate: 'detected' | 'resolved', cluster: string, minute: number): CDEvent =>
  createEvent({
    type: predicate === 'detected' ? 'incident.detected' : 'incident.resolved',
    id: `inc-1-${predicate}`,
    source: `/argocd/${cluster}/podinfo/podinfo`,
    timestamp: at(minute),
    subject: {
      id: 'inc-1',
      content: {
        description: 'podinfo Degraded',
        environment: { id: `${cluster}/podinfo` },
        service: { id: 'podinfo', source: `/argocd/${cluster}/podinfo/podinfo` },
      },
    },
  });

/**
 * The known scenario. Lead times: eu deploy 30 min (via artifact v1 -> chain c1 -> merge at 0),
 * eu upgrade 20 min (chain c2, merged at 40), us deploy 45 min (artifact v1). The eu upgrade is
 * followed by an incident (a failed deployment) restored after 30 min; the rollback ships an
 * artifact nobody traced.
 */
const SCENARIO: { event: CDEvent; instance: string; cluster?: string }[] = [
  {
    event: createEvent({
      type: 'change.merged',
      id: 'pr-1',
      source: '/github/acme/podinfo',
      timestamp: at(0),
      chainId: 'c1',
      subject: { id: 'acme/podinfo/pull/1', content: {} },
    }),
    instance: 'ci',
  },
  {
    event: createEvent({
      type: 'artifact.published',
      id: 'v1-published',
      source: '/ci/podinfo',
      timestamp: at(10),
      chainId: 'c1',
      subject: { id: 'pkg:oci/podinfo@v1', content: {} },
    }),
    instance: 'ci',
  },
  {
    event: service('service.deployed', 'eu-1', 'prod-eu', 30, 'pkg:oci/podinfo@v1'),
    instance: 'argo-eu',
    cluster: 'prod-eu',
  },
  {
    event: createEvent({
      type: 'change.merged',
      id: 'pr-2',
      source: '/github/acme/podinfo',
      timestamp: at(40),
      chainId: 'c2',
      subject: { id: 'acme/podinfo/pull/2', content: {} },
    }),
    instance: 'ci',
  },
  {
    event: service('service.deployed', 'us-1', 'prod-us', 45, 'pkg:oci/podinfo@v1'),
    instance: 'argo-us',
    cluster: 'prod-us',
  },
  {
    event: service('service.upgraded', 'eu-2', 'prod-eu', 60, 'pkg:oci/podinfo@v2', 'c2'),
    instance: 'argo-eu',
    cluster: 'prod-eu',
  },
  { event: incident('detected', 'prod-eu', 70), instance: 'argo-eu', cluster: 'prod-eu' },
  { event: incident('resolved', 'prod-eu', 100), instance: 'argo-eu', cluster: 'prod-eu' },
  {
    event: service('service.rolledback', 'eu-3', 'prod-eu', 110, 'pkg:oci/podinfo@v0'),
    instance: 'argo-eu',
    cluster: 'prod-eu',
  },
];

beforeAll(async () => {
  server = await NatsServer.start();
  dataDir = mkdtempSync(join(tmpdir(), 'argus-query-'));
  const options = parseOptions(HUB_OPTIONS, {
    flags: {
      nats: server.url,
      dataDir,
      httpListen: '127.0.0.1:0',
      grpcListen: '127.0.0.1:0',
      apiTokens: `alice=${TOKEN}`,
      batchMaxWait: '20ms',
      // The fixtures are dated from 2026-01-05 (a Monday, for weekly figures): accept them whenever this runs.
      maxEventAge: '36500d',
      // The answers' caps must hold with more clusters than the ingestion cap lets through by default.
      maxClustersPerInstance: '2000',
      logLevel: 'info',
    },
    env: {},
  });
  running = await runHub(options, logs.destination);
  client = new QueryServiceClient(`127.0.0.1:${running.grpc.address.port}`, credentials.createInsecure());
  const js = jetstream(running.nc);
  for (const { event, instance, cluster } of SCENARIO) await publishRaw(js, event, { instance, cluster });
  // A repeat (agent restart): JetStream's window absorbs it; it must not show twice anywhere.
  const repeat = await publishRaw(js, SCENARIO[2]!.event, { instance: 'argo-eu', cluster: 'prod-eu' });
  expect(repeat.duplicate).toBe(true);
  const kv = await openAgentsBucket(running.nc);
  await writeHeartbeat(kv, {
    instance: 'argo-eu',
    architecture: 'distributed',
    source: 'api',
    version: '0.1.0',
    clusters: ['prod-eu'],
    apps: 1,
    startedAt: at(0),
    lastSeen: new Date().toISOString(),
    spoolDepth: 0,
  });
  // argo-us's heartbeat key holding a value that says argo-eu (one agent posing as another): refused.
  await kv.put(
    'argo-us',
    JSON.stringify({
      instance: 'argo-eu',
      architecture: 'EVIL',
      lastSeen: '2099-01-01T00:00:00Z',
      clusters: [],
    }),
  );
  await waitFor(async () => running.hub.stats().stored >= SCENARIO.length, {
    what: 'the scenario to be stored',
    timeoutMs: 20_000,
  });
});

afterAll(async () => {
  client?.close();
  await running?.shutdown.shutdown('test done');
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const codeOf = async (promise: Promise<unknown>): Promise<number | undefined> =>
  promise.then(
    () => undefined,
    (err: ServiceError) => err.code,
  );

describe('gRPC query API', () => {
  test('search: filters, newest first, one per identity, paging to the end', async () => {
    const all = await search({ pageSize: 100 });
    expect(all.events).toHaveLength(SCENARIO.length);
    expect(all.nextPageToken).toBe('');
    expect(all.events.map((e) => e.id)[0]).toBe('eu-3');
    const eu = await search({
      filter: EventFilter.fromPartial({ cluster: 'prod-eu', subjectType: 'service' }),
    });
    expect(eu.events.map((e) => e.id)).toEqual(['eu-3', 'eu-2', 'eu-1']);
    expect(eu.events[0]).toMatchObject({ instance: 'argo-eu', cluster: 'prod-eu', predicate: 'rolledback' });
    expect(JSON.parse(eu.events[0]!.cdeventJson).context.id).toBe('eu-3');

    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await search({ pageSize: 4, pageToken });
      expect(page.events.length).toBeLessThanOrEqual(4);
      seen.push(...page.events.map((e) => e.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(seen).toEqual(all.events.map((e) => e.id));
  });

  test('values that try to be SQL find nothing and change nothing; bad arguments are INVALID_ARGUMENT', async () => {
    for (const attack of [
      "prod-eu' OR '1'='1",
      "x'); DROP TABLE argus.cdevents; --",
      '\\',
      "' UNION SELECT 1 --",
    ]) {
      expect((await search({ filter: EventFilter.fromPartial({ cluster: attack }) })).events).toEqual([]);
      expect((await search({ filter: EventFilter.fromPartial({ subjectId: attack }) })).events).toEqual([]);
    }
    expect((await search({ pageSize: 100 })).events).toHaveLength(SCENARIO.length);
    expect(await codeOf(search({ pageToken: 'not-a-token' }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(search({ pageSize: 5000 }))).toBe(status.INVALID_ARGUMENT);
    expect(
      await codeOf(
        search({ filter: EventFilter.fromPartial({ since: new Date(at(10)), until: new Date(at(0)) }) }),
      ),
    ).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(search({ filter: EventFilter.fromPartial({ cluster: 'x'.repeat(5000) }) }))).toBe(
      status.INVALID_ARGUMENT,
    );
  });

  test('no token or a wrong one is UNAUTHENTICATED, and tokens never reach the logs', async () => {
    expect(await codeOf(search({}, new Metadata()))).toBe(status.UNAUTHENTICATED);
    expect(await codeOf(search({}, auth('guess')))).toBe(status.UNAUTHENTICATED);
    expect(logs.text()).not.toContain(TOKEN);
  });

  test('timeline: one service across clusters, oldest first, incidents in place', async () => {
    const timeline = await call(client.getServiceTimeline, { service: 'podinfo', limit: 0, upstream: false });
    expect(timeline.entries.map((e) => `${e.event?.cluster} ${e.kind}`)).toEqual([
      'prod-eu service.deployed',
      'prod-us service.deployed',
      'prod-eu service.upgraded',
      'prod-eu incident.detected',
      'prod-eu incident.resolved',
      'prod-eu service.rolledback',
    ]);
    expect(timeline.clusters).toEqual(['prod-eu', 'prod-us']);
    expect(timeline.entries[0]?.detail).toBe('pkg:oci/podinfo@v1');
    expect(timeline.entries[3]?.detail).toBe('podinfo Degraded');
    expect(timeline.upstream).toEqual([]);
    expect(await codeOf(call(client.getServiceTimeline, { service: '', limit: 0, upstream: false }))).toBe(
      status.INVALID_ARGUMENT,
    );
  });

  test("timeline with upstream: the deployed artifacts' builds and the changes of their chains, in one call", async () => {
    const timeline = await call(client.getServiceTimeline, { service: 'podinfo', limit: 0, upstream: true });
    // v1's build (chain c1) brings pr-1; the upgrade's own chain c2 brings pr-2; v0 and v2 were never built here.
    expect(timeline.upstream.map((e) => [e.kind, e.event?.id, e.detail])).toEqual([
      ['change.merged', 'pr-1', 'acme/podinfo/pull/1'],
      ['artifact.published', 'v1-published', 'pkg:oci/podinfo@v1'],
      ['change.merged', 'pr-2', 'acme/podinfo/pull/2'],
    ]);
    // The entries are the same as without it.
    expect(timeline.entries.map((e) => e.event?.id)).toEqual([
      'eu-1',
      'us-1',
      'eu-2',
      'inc-1-detected',
      'inc-1-resolved',
      'eu-3',
    ]);
  });

  test('DORA figures of the known scenario, overall and by cluster', async () => {
    const window = { since: new Date(at(0)), until: new Date(T0 + 86_400_000) };
    const overall = await call(client.getDoraMetrics, {
      service: '',
      cluster: '',
      environment: '',
      ...window,
      groupBy: DoraGroupBy.DORA_GROUP_BY_UNSPECIFIED,
      bucket: DoraBucket.DORA_BUCKET_UNSPECIFIED,
    });
    expect(overall.metrics).toEqual([
      {
        key: '',
        deployments: 4,
        deploymentsPerDay: 4,
        leadTimeSamples: 3,
        leadTimeMedianSeconds: 1800,
        failedDeployments: 1,
        changeFailureRate: 0.25,
        incidents: 1,
        restoredIncidents: 1,
        timeToRestoreMedianSeconds: 1800,
      },
    ]);
    const byCluster = await call(client.getDoraMetrics, {
      service: 'podinfo',
      cluster: '',
      environment: '',
      ...window,
      groupBy: DoraGroupBy.DORA_GROUP_BY_CLUSTER,
      bucket: DoraBucket.DORA_BUCKET_UNSPECIFIED,
    });
    expect(
      byCluster.metrics.map((m) => [m.key, m.deployments, m.leadTimeMedianSeconds, m.changeFailureRate]),
    ).toEqual([
      ['prod-eu', 3, 1500, 1 / 3],
      ['prod-us', 1, 2700, 0],
    ]);
  });

  test('DORA by week: every bucket answered, its start given; the scenario in the second week', async () => {
    const weekly = await call(client.getDoraMetrics, {
      service: '',
      cluster: '',
      environment: '',
      since: new Date(T0 - 7 * 86_400_000),
      until: new Date(T0 + 7 * 86_400_000),
      groupBy: DoraGroupBy.DORA_GROUP_BY_UNSPECIFIED,
      bucket: DoraBucket.DORA_BUCKET_WEEK,
    });
    expect(
      weekly.metrics.map((m) => [
        m.bucketStart?.toISOString(),
        m.deployments,
        m.deploymentsPerDay,
        m.leadTimeMedianSeconds,
        m.changeFailureRate,
        m.timeToRestoreMedianSeconds,
      ]),
    ).toEqual([
      [new Date(T0 - 7 * 86_400_000).toISOString(), 0, 0, 0, 0, 0],
      [at(0), 4, 4 / 7, 1800, 0.25, 1800],
    ]);
  });

  test('what runs where: the last deployment per service and cluster, filtered, with its outline', async () => {
    const where = (request: Partial<GetDeploymentsRequest>) =>
      call<GetDeploymentsRequest, GetDeploymentsResponse>(client.getDeployments, {
        cluster: '',
        environment: '',
        instance: '',
        serviceContains: '',
        pageSize: 0,
        page: 0,
        ...request,
      });
    const eu = await where({ cluster: 'prod-eu' });
    expect(eu).toEqual({
      deployments: [
        {
          service: 'podinfo',
          cluster: 'prod-eu',
          // The registry's tag: none configured here.
          environment: '',
          instance: 'argo-eu',
          kind: 'service.rolledback',
          artifactId: 'pkg:oci/podinfo@v0',
          time: new Date(at(110)),
          eventId: 'eu-3',
          openIncidents: 0,
        },
      ],
      truncated: false,
      totalServices: 1,
      // The filter's columns; every value to filter by, whatever the filter (empty names left out).
      columns: [{ cluster: 'prod-eu', environment: '' }],
      clusters: ['prod-eu', 'prod-us'],
      environments: [],
      instances: ['argo-eu', 'argo-us'],
    });
    const us = await where({ instance: 'argo-us' });
    expect(us.deployments.map((d) => [d.cluster, d.kind, d.artifactId])).toEqual([
      ['prod-us', 'service.deployed', 'pkg:oci/podinfo@v1'],
    ]);
    // A page of services by name: the first page holds podinfo in both clusters, the second nothing.
    const first = await where({ serviceContains: 'PODin', pageSize: 1 });
    expect(first.deployments.map((d) => d.cluster)).toEqual(['prod-eu', 'prod-us']);
    expect(first.totalServices).toBe(1);
    expect(first.columns.map((c) => c.cluster)).toEqual(['prod-eu', 'prod-us']);
    const second = await where({ serviceContains: 'podin', pageSize: 1, page: 2 });
    expect([second.deployments, second.totalServices]).toEqual([[], 1]);
    const none = await where({ serviceContains: 'guestbook' });
    expect([none.deployments, none.totalServices, none.columns, none.clusters]).toEqual([
      [],
      0,
      [],
      ['prod-eu', 'prod-us'],
    ]);
    expect(await codeOf(where({ cluster: 'x'.repeat(5000) }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(where({ serviceContains: 'x'.repeat(5000) }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(where({ pageSize: MAX_DEPLOYMENT_PAGE_SIZE + 1 }))).toBe(status.INVALID_ARGUMENT);
  });

  test('DORA over more than 366 days is refused with INVALID_ARGUMENT before any read', async () => {
    const until = new Date(T0);
    const refused = await call(client.getDoraMetrics, {
      service: '',
      cluster: '',
      environment: '',
      since: new Date(T0 - 367 * 86_400_000),
      until,
      groupBy: DoraGroupBy.DORA_GROUP_BY_UNSPECIFIED,
      bucket: DoraBucket.DORA_BUCKET_UNSPECIFIED,
    }).catch((e: ServiceError) => e);
    expect(refused).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect((refused as ServiceError).details).toMatch(/at most 366 days/);
  });

  test('instances: heartbeats joined with what each instance sent; stats count this hub', async () => {
    const { instances } = await call(client.listInstances, {});
    expect(instances.map((i) => [i.instance, i.architecture, i.eventsTotal])).toEqual([
      ['argo-eu', 'distributed', 5],
      ['argo-us', '', 1],
      ['ci', '', 3],
    ]);
    expect(instances[1]?.lastHeartbeat).toBeUndefined();
    expect(logs.find((l) => l.msg === 'heartbeats refused; not listed')).toMatchObject({
      refused: [{ key: 'argo-us', reason: 'instance-mismatch' }],
    });
    expect(instances[0]?.lastHeartbeat).toBeInstanceOf(Date);
    expect(instances[0]?.eventsLastHour).toBe(5);
    const stats = await call(client.getStats, {});
    expect(stats).toMatchObject({ storedEvents: SCENARIO.length, consumerPending: 0, deadLetters: 0 });
    expect(stats.consumed).toBe(SCENARIO.length);
  });

  test('tail: live events matching the filter, and a cancel ends the stream and its consumer', async () => {
    const received: Event[] = [];
    const stream: ClientReadableStream<TailEventsResponse> = client.tailEvents(
      { filter: EventFilter.fromPartial({ cluster: 'prod-us', subjectType: 'service' }) },
      auth(),
    );
    stream.on('data', (r: TailEventsResponse) => received.push(r.event!));
    const ended = new Promise<ServiceError | undefined>((resolve) => {
      stream.on('error', (err: ServiceError) => resolve(err));
      stream.on('end', () => resolve(undefined));
    });
    const jsm = await jetstreamManager(running.nc);
    await waitFor(async () => (await jsm.streams.info(UNIFIED_STREAM)).state.consumer_count > 0, {
      what: 'the tail consumer',
    });
    // The server drops a crashed hub's consumer after 30 s: the wire value is nanoseconds.
    for await (const c of jsm.consumers.list(UNIFIED_STREAM))
      expect(c.config.inactive_threshold).toBe(30_000_000_000);
    const js = jetstream(running.nc);
    await publishRaw(js, service('service.upgraded', 'eu-9', 'prod-eu', 200, 'pkg:oci/podinfo@v9'), {
      instance: 'argo-eu',
      cluster: 'prod-eu',
    });
    await publishRaw(js, service('service.upgraded', 'us-9', 'prod-us', 201, 'pkg:oci/podinfo@v9'), {
      instance: 'argo-us',
      cluster: 'prod-us',
    });
    await waitFor(() => received.length >= 1, { what: 'the prod-us upgrade on the tail' });
    await new Promise((r) => setTimeout(r, 300));
    expect(received.map((e) => [e.id, e.cluster, e.instance])).toEqual([['us-9', 'prod-us', 'argo-us']]);
    stream.cancel();
    expect((await ended)?.code).toBe(status.CANCELLED);
    await waitFor(async () => (await jsm.streams.info(UNIFIED_STREAM)).state.consumer_count === 0, {
      what: 'the tail consumer to be removed after cancel',
      timeoutMs: 10_000,
    });
    expect((await jsm.consumers.info(RAW_STREAM, 'argus-hub')).num_pending).toBe(0);
  });

  test('tail without a token, or with a wrong one, is refused at once with UNAUTHENTICATED', async () => {
    const refusal = (metadata: Metadata) =>
      new Promise<ServiceError | undefined>((resolve) => {
        const stream = client.tailEvents({ filter: EventFilter.fromPartial({}) }, metadata, {
          deadline: Date.now() + 5_000,
        });
        stream.on('data', () => undefined);
        stream.on('error', (err: ServiceError) => resolve(err));
        stream.on('end', () => resolve(undefined));
      });
    const started = performance.now();
    const [missing, wrong] = await Promise.all([refusal(new Metadata()), refusal(auth('wrong-token'))]);
    expect(missing?.code).toBe(status.UNAUTHENTICATED);
    expect(missing?.details).toMatch(/missing bearer token/);
    expect(wrong?.code).toBe(status.UNAUTHENTICATED);
    expect(wrong?.details).toBe('unknown token');
    // Not the 5 s deadline: the hub answered.
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  test('one caller may hold 20 tails; the 21st is RESOURCE_EXHAUSTED, and a tail ended frees its place', async () => {
    const open = (): { stream: ClientReadableStream<TailEventsResponse>; failed: Promise<ServiceError> } => {
      const stream = client.tailEvents({ filter: EventFilter.fromPartial({ cluster: 'none' }) }, auth());
      stream.on('data', () => undefined);
      const failed = new Promise<ServiceError>((resolve) => stream.on('error', resolve));
      return { stream, failed };
    };
    const jsm = await jetstreamManager(running.nc);
    const held = Array.from({ length: 20 }, open);
    await waitFor(async () => (await jsm.streams.info(UNIFIED_STREAM)).state.consumer_count >= 20, {
      what: '20 tail consumers',
    });
    const extra = open();
    const refused = await extra.failed;
    expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused.details).toMatch(/alice has 20 tails open/);
    held[0]?.stream.cancel();
    // The client ends at once; the hub learns of it a moment later.
    await waitFor(async () => (await jsm.streams.info(UNIFIED_STREAM)).state.consumer_count <= 19, {
      what: 'the cancelled tail consumer to go',
      timeoutMs: 10_000,
    });
    const again = open();
    const outcome = await Promise.race([
      again.failed,
      new Promise<'open'>((r) => setTimeout(() => r('open'), 1000)),
    ]);
    expect(outcome).toBe('open');
    for (const t of [...held.slice(1), again]) t.stream.cancel();
    await waitFor(async () => (await jsm.streams.info(UNIFIED_STREAM)).state.consumer_count === 0, {
      what: 'the tail consumers to go',
      timeoutMs: 10_000,
    });
  });

  test('tail replaying from a time waits for a slow client instead of buffering the stream', async () => {
    const js = jetstream(running.nc);
    const count = 2000;
    const big = 'x'.repeat(2000);
    const storedBefore = running.hub.stats().stored;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        publishRaw(
          js,
          createEvent({
            type: 'service.deployed',
            id: `bulk-${i}`,
            source: '/argocd/bulk/app/app',
            timestamp: at(300),
            subject: {
              id: 'bulk-app',
              content: { environment: { id: 'bulk/app' }, artifactId: 'pkg:oci/app@1' },
            },
            customData: { padding: big },
          }),
          { instance: 'argo-bulk', cluster: 'bulk' },
        ),
      ),
    );
    await waitFor(() => running.hub.stats().stored >= storedBefore + count, {
      what: 'the bulk events stored',
      timeoutMs: 30_000,
    });
    const stream = client.tailEvents(
      { filter: EventFilter.fromPartial({ cluster: 'bulk', since: new Date(Date.now() - 600_000) }) },
      auth(),
    );
    let received = 0;
    stream.on('data', () => {
      received += 1;
      if (received === 1) stream.pause();
    });
    stream.on('error', () => undefined);
    const jsm = await jetstreamManager(running.nc);
    const delivered = async () => {
      let most = 0;
      for await (const c of jsm.consumers.list(UNIFIED_STREAM))
        most = Math.max(most, c.delivered.consumer_seq);
      return most;
    };
    await waitFor(() => received >= 1, { what: 'the first replayed event' });
    await new Promise((r) => setTimeout(r, 1500));
    // Paused: the hub stopped taking messages once the client's buffers were full.
    expect(await delivered()).toBeLessThan(count);
    stream.resume();
    await waitFor(() => received >= count, { what: `all ${count} replayed events`, timeoutMs: 30_000 });
    stream.cancel();
  });

  test('one agent with 1100 long clusters: ListInstances and DORA by cluster answer, capped (finding 11)', async () => {
    const js = jetstream(running.nc);
    const flood = 1100;
    const storedBefore = running.hub.stats().stored;
    const cluster = (i: number) => `flood-${String(i).padStart(4, '0')}-${'c'.repeat(300)}`;
    for (let i = 0; i < flood; i++)
      await publishRaw(js, service('service.deployed', `flood-${i}`, cluster(i), 600, 'pkg:oci/f@1'), {
        instance: 'argo-flood',
        cluster: cluster(i),
      });
    await waitFor(() => running.hub.stats().stored >= storedBefore + flood, {
      what: `the ${flood} flood events stored`,
      timeoutMs: 30_000,
    });
    const { instances } = await call(client.listInstances, {});
    const flooded = instances.find((i) => i.instance === 'argo-flood');
    expect(flooded?.clusters).toHaveLength(51);
    expect(flooded?.clusters.at(-1)).toBe('(+1050 more)');
    expect(Math.max(...(flooded?.clusters ?? []).map((c) => c.length))).toBe(128);
    expect(instances.find((i) => i.instance === 'argo-eu')?.clusters).toEqual(['prod-eu']);

    const byCluster = await call(client.getDoraMetrics, {
      service: '',
      cluster: '',
      environment: '',
      since: new Date(at(0)),
      until: new Date(T0 + 86_400_000),
      groupBy: DoraGroupBy.DORA_GROUP_BY_CLUSTER,
      bucket: DoraBucket.DORA_BUCKET_UNSPECIFIED,
    });
    expect(byCluster.metrics).toHaveLength(1000);
    // The busiest groups are kept: prod-eu (several deployments) is in, among 1100 of one each.
    expect(byCluster.metrics.find((m) => m.key === 'prod-eu')?.deployments).toBeGreaterThan(1);
    expect(Math.max(...byCluster.metrics.map((m) => m.key.length))).toBe(128);
  });

  test('server reflection lists the query service', async () => {
    const require = createRequire(import.meta.url);
    const protoPath = join(
      require.resolve('@grpc/reflection/package.json').replace(/package\.json$/, ''),
      'build/proto/grpc/reflection/v1/reflection.proto',
    );
    const definition = loadPackageDefinition(loadSync(protoPath)) as unknown as {
      grpc: {
        reflection: {
          v1: {
            ServerReflection: new (
              address: string,
              creds: unknown,
            ) => {
              serverReflectionInfo(
                md: Metadata,
              ): NodeJS.ReadWriteStream & { end(): void; write(v: unknown): void };
              close(): void;
            };
          };
        };
      };
    };
    const reflection = new definition.grpc.reflection.v1.ServerReflection(
      `127.0.0.1:${running.grpc.address.port}`,
      credentials.createInsecure(),
    );
    const stream = reflection.serverReflectionInfo(new Metadata());
    const response = new Promise<{ listServicesResponse?: { service: { name: string }[] } }>(
      (resolve, reject) => {
        stream.on('data', resolve);
        stream.on('error', reject);
      },
    );
    stream.write({ listServices: '' });
    const names = (await response).listServicesResponse?.service.map((s) => s.name);
    stream.end();
    reflection.close();
    expect(names).toContain('argus.v1.QueryService');
  });
});
