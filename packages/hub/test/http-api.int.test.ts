import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishRaw } from '@argus/bus';
import { type CDEvent, createEvent } from '@argus/cdevents';
import { parseOptions } from '@argus/runtime';
import { captureLogs, NatsServer, waitFor } from '@argus/testkit';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { QUERY_API_PREFIX } from '../src/api/routes.js';
import { HUB_OPTIONS, type RunningHub, runHub } from '../src/index.js';
import { MAX_TAILS_PER_CALLER } from '../src/query/service.js';

const TOKEN = 'http-secret';
const logs = captureLogs({ level: 'info' });
let server: NatsServer;
let running: RunningHub;
let dataDir: string;
let base: string;

const T0 = Date.UTC(2026, 0, 5, 10, 0);
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

const deployed = (
  type: 'service.deployed' | 'service.upgraded',
  id: string,
  cluster: string,
  minute: number,
  artifact: string,
): CDEvent =>
  createEvent({
    type,
    id,
    source: `/argocd/${cluster}/podinfo/podinfo`,
    timestamp: at(minute),
    subject: { id: 'podinfo', content: { environment: { id: `${cluster}/podinfo` }, artifactId: artifact } },
  });

const SCENARIO: { event: CDEvent; instance: string; cluster: string }[] = [
  {
    event: deployed('service.deployed', 'eu-1', 'prod-eu', 0, 'pkg:oci/podinfo@v1'),
    instance: 'argo-eu',
    cluster: 'prod-eu',
  },
  {
    event: deployed('service.deployed', 'us-1', 'prod-us', 5, 'pkg:oci/podinfo@v1'),
    instance: 'argo-us',
    cluster: 'prod-us',
  },
  {
    event: deployed('service.upgraded', 'eu-2', 'prod-eu', 10, 'pkg:oci/podinfo@v2'),
    instance: 'argo-eu',
    cluster: 'prod-eu',
  },
  {
    event: createEvent({
      type: 'incident.detected',
      id: 'inc-1-detected',
      source: '/argocd/prod-eu/podinfo/podinfo',
      timestamp: at(20),
      subject: {
        id: 'inc-1',
        content: {
          description: 'podinfo Degraded',
          environment: { id: 'prod-eu/podinfo' },
          service: { id: 'podinfo', source: '/argocd/prod-eu/podinfo/podinfo' },
        },
      },
    }),
    instance: 'argo-eu',
    cluster: 'prod-eu',
  },
];

const get = (path: string, token: string | null = TOKEN, init: RequestInit = {}) =>
  fetch(`${base}${QUERY_API_PREFIX}${path}`, {
    ...init,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
const json = async (path: string): Promise<Record<string, unknown>> => {
  const res = await get(path);
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
  return (await res.json()) as Record<string, unknown>;
};

beforeAll(async () => {
  server = await NatsServer.start();
  dataDir = mkdtempSync(join(tmpdir(), 'argus-http-api-'));
  const options = parseOptions(HUB_OPTIONS, {
    flags: {
      nats: server.url,
      dataDir,
      httpListen: '127.0.0.1:0',
      grpcListen: '127.0.0.1:0',
      apiTokens: `alice=${TOKEN}`,
      batchMaxWait: '20ms',
      maxEventAge: '36500d',
      logLevel: 'info',
    },
    env: {},
  });
  running = await runHub(options, logs.destination);
  base = `http://127.0.0.1:${running.http.address.port}`;
  const js = jetstream(running.nc);
  for (const { event, instance, cluster } of SCENARIO) await publishRaw(js, event, { instance, cluster });
  await waitFor(async () => running.hub.stats().stored >= SCENARIO.length, {
    what: 'the scenario to be stored',
    timeoutMs: 20_000,
  });
});

afterAll(async () => {
  await running?.shutdown.shutdown('test done');
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('HTTP JSON query API', () => {
  test('what runs where: the last deployment per service and cluster, with open incidents', async () => {
    const body = (await json('deployments')) as {
      deployments: {
        service: string;
        cluster: string;
        artifactId: string;
        kind: string;
        instance: string;
        openIncidents?: number;
      }[];
      truncated?: boolean;
    };
    // The gRPC answer's JSON (GetDeployments): proto3 leaves out false and 0.
    expect(body.truncated).toBeUndefined();
    expect(
      body.deployments.map((d) => [d.cluster, d.artifactId, d.kind, d.instance, d.openIncidents ?? 0]),
    ).toEqual([
      ['prod-eu', 'pkg:oci/podinfo@v2', 'service.upgraded', 'argo-eu', 1],
      ['prod-us', 'pkg:oci/podinfo@v1', 'service.deployed', 'argo-us', 0],
    ]);
    expect(body.deployments[0]).toMatchObject({ service: 'podinfo', time: expect.stringMatching(/Z$/) });
    const us = (await json('deployments?cluster=prod-us')) as { deployments: { cluster: string }[] };
    expect(us.deployments.map((d) => d.cluster)).toEqual(['prod-us']);
    // The dashboard's call: a page of services whose name contains the text, with the page's outline.
    const paged = (await json('deployments?serviceContains=INFO&pageSize=100&page=1')) as {
      deployments: { service: string }[];
      totalServices?: number;
      columns?: { cluster: string }[];
      clusters?: string[];
    };
    expect([paged.deployments.map((d) => d.service), paged.totalServices]).toEqual([
      ['podinfo', 'podinfo'],
      1,
    ]);
    expect([paged.columns?.map((c) => c.cluster), paged.clusters]).toEqual([
      ['prod-eu', 'prod-us'],
      ['prod-eu', 'prod-us'],
    ]);
    const weekly = (await json(`dora?groupBy=cluster&bucket=week&since=${at(-60)}&until=${at(120)}`)) as {
      metrics: { key: string; bucketStart: string; deployments?: number }[];
    };
    expect(weekly.metrics.map((m) => [m.key, m.bucketStart, m.deployments ?? 0])).toEqual([
      ['prod-eu', at(-60), 2],
      ['prod-us', at(-60), 1],
    ]);
  });

  test('search, timeline, DORA and instances answer what the gRPC calls answer, as proto JSON', async () => {
    const search = (await json('events?cluster=prod-eu&subjectType=service')) as {
      events: { id: string; timestamp: string; cdeventJson: string }[];
    };
    expect(search.events.map((e) => e.id)).toEqual(['eu-2', 'eu-1']);
    expect(search.events[0]?.timestamp).toBe(at(10));
    expect(JSON.parse(search.events[0]?.cdeventJson ?? '{}').context.id).toBe('eu-2');

    const paged = (await json('events?pageSize=1')) as { events: unknown[]; nextPageToken: string };
    expect(paged.events).toHaveLength(1);
    const next = (await json(`events?pageSize=1&pageToken=${paged.nextPageToken}`)) as {
      events: { id: string }[];
    };
    expect(next.events).toHaveLength(1);

    const timeline = (await json('services/podinfo/timeline')) as {
      entries: { kind: string; detail: string }[];
      clusters: string[];
    };
    expect(timeline.clusters).toEqual(['prod-eu', 'prod-us']);
    expect(timeline.entries.map((e) => e.kind)).toEqual([
      'service.deployed',
      'service.deployed',
      'service.upgraded',
      'incident.detected',
    ]);
    const traced = (await json('services/podinfo/timeline?upstream=true')) as {
      entries: unknown[];
      upstream?: { kind: string }[];
    };
    // Accepted (a bad value is a 400 below); this scenario has no builds or changes to trace.
    expect(traced.entries).toHaveLength(4);
    expect(traced.upstream ?? []).toEqual([]);

    const dora = (await json(`dora?groupBy=cluster&since=${at(-60)}&until=${at(120)}`)) as {
      metrics: { key: string; deployments: number }[];
    };
    expect(dora.metrics.map((m) => [m.key, m.deployments])).toEqual([
      ['prod-eu', 2],
      ['prod-us', 1],
    ]);

    const instances = (await json('instances')) as { instances: { instance: string }[] };
    expect(instances.instances.map((i) => i.instance)).toEqual(['argo-eu', 'argo-us']);
    const stats = (await json('stats')) as { storedEvents: string | number };
    expect(Number(stats.storedEvents)).toBe(SCENARIO.length);
  });

  test('errors map like gRPC: 401 without or with a wrong token, 400 for bad arguments, 404, 405', async () => {
    for (const [path, token, status, code] of [
      ['events', null, 401, 'UNAUTHENTICATED'],
      ['events', 'wrong', 401, 'UNAUTHENTICATED'],
      ['deployments', null, 401, 'UNAUTHENTICATED'],
      ['stream', null, 401, 'UNAUTHENTICATED'],
      ['events?clustr=prod-eu', TOKEN, 400, 'INVALID_ARGUMENT'],
      ['events?since=yesterday', TOKEN, 400, 'INVALID_ARGUMENT'],
      [`events?since=${at(10)}&until=${at(0)}`, TOKEN, 400, 'INVALID_ARGUMENT'],
      ['events?pageSize=5000', TOKEN, 400, 'INVALID_ARGUMENT'],
      ['events?pageToken=forged', TOKEN, 400, 'INVALID_ARGUMENT'],
      ['dora?groupBy=planet', TOKEN, 400, 'INVALID_ARGUMENT'],
      ['dora?bucket=month', TOKEN, 400, 'INVALID_ARGUMENT'],
      ['services/podinfo/timeline?upstream=yes', TOKEN, 400, 'INVALID_ARGUMENT'],
      ['deployments?pageSize=1001', TOKEN, 400, 'INVALID_ARGUMENT'],
      ['deployments?page=first', TOKEN, 400, 'INVALID_ARGUMENT'],
      ['deployments?service=podinfo', TOKEN, 400, 'INVALID_ARGUMENT'],
      ['deployments?service=podinfo', TOKEN, 400, 'INVALID_ARGUMENT'],
      ['nothing-here', TOKEN, 404, 'NOT_FOUND'],
      // Names of Object.prototype are no calls.
      ['constructor', TOKEN, 404, 'NOT_FOUND'],
      ['dead-letters?pageSize=5000', TOKEN, 400, 'INVALID_ARGUMENT'],
      ['dead-letters?sequence=1', TOKEN, 400, 'INVALID_ARGUMENT'],
      ['dead-letters/abc', TOKEN, 400, 'INVALID_ARGUMENT'],
      ['dead-letters/0', TOKEN, 400, 'INVALID_ARGUMENT'],
      ['dead-letters/99', TOKEN, 404, 'NOT_FOUND'],
      ['dead-letters/1', null, 401, 'UNAUTHENTICATED'],
    ] as const) {
      const res = await get(path, token);
      expect(res.status, path).toBe(status);
      const body = (await res.json()) as { error: string; code: string };
      expect(body.code, path).toBe(code);
      expect(body.error.length, path).toBeGreaterThan(5);
    }
    const post = await get('events', TOKEN, { method: 'POST' });
    expect(post.status).toBe(405);
    // A replay is POST only, with a JSON content type (no cross-site form), and this is an API token.
    expect((await get('dead-letters/1/replay', TOKEN)).status).toBe(405);
    const replay = (contentType: string) =>
      fetch(`${base}${QUERY_API_PREFIX}dead-letters/1/replay`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': contentType },
        body: '{}',
      });
    expect((await replay('text/plain')).status).toBe(415);
    const denied = await replay('application/json');
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { code: string }).code).toBe('PERMISSION_DENIED');
    expect(((await json('dead-letters')) as { total?: unknown }).total ?? '0').toBe('0');
    // The token is never taken from the URL.
    expect((await get(`events?token=${TOKEN}`, null)).status).toBe(401);
  });

  test('stream: Server-Sent Events of the unified stream, an event published after opening arrives', async () => {
    const controller = new AbortController();
    const res = await get('stream?cluster=prod-us', TOKEN, { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const first = await reader.read();
    text += first.value ?? '';
    expect(text).toContain(': tail started');
    const js = jetstream(running.nc);
    await publishRaw(js, deployed('service.upgraded', 'eu-3', 'prod-eu', 30, 'pkg:oci/podinfo@v3'), {
      instance: 'argo-eu',
      cluster: 'prod-eu',
    });
    await publishRaw(js, deployed('service.upgraded', 'us-2', 'prod-us', 31, 'pkg:oci/podinfo@v3'), {
      instance: 'argo-us',
      cluster: 'prod-us',
    });
    const started = Date.now();
    while (!text.includes('"us-2"') && Date.now() - started < 10_000) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    controller.abort();
    const events = text
      .split('\n\n')
      .filter((block) => block.startsWith('id: '))
      .map((block) => JSON.parse(block.split('\ndata: ')[1] ?? '{}') as { id: string; cluster: string });
    // The filter holds: the prod-eu event never came.
    expect(events.map((e) => [e.id, e.cluster])).toEqual([['us-2', 'prod-us']]);
  });
});

test('streams are bounded per caller like gRPC tails: the 21st is 429, a closed one frees its place', async () => {
  const open: AbortController[] = [];
  for (let i = 0; i < MAX_TAILS_PER_CALLER; i++) {
    const controller = new AbortController();
    const res = await get('stream', TOKEN, { signal: controller.signal });
    expect(res.status).toBe(200);
    open.push(controller);
  }
  const refused = await get('stream');
  expect(refused.status).toBe(429);
  expect(((await refused.json()) as { code: string }).code).toBe('RESOURCE_EXHAUSTED');
  open.pop()?.abort();
  await waitFor(
    async () => {
      const res = await get('stream', TOKEN, { signal: AbortSignal.timeout(5_000) });
      const ok = res.status === 200;
      if (ok) open.push(new AbortController());
      await res.body?.cancel();
      return ok;
    },
    { what: 'a freed stream place', timeoutMs: 10_000 },
  );
  for (const controller of open) controller.abort();
});

test('the dashboard: pages answer index.html naming the bundle under its version, no inline script; files only from the bundle, kept a year under their version', async () => {
  let version = '';
  for (const path of ['/', '/live', '/dora', '/instances', '/services/podinfo']) {
    const res = await fetch(`${base}${path}`);
    expect(res.status, path).toBe(200);
    expect(res.headers.get('cache-control'), path).toBe('no-cache');
    const html = await res.text();
    version = /src="\/assets\/(v-[\w-]{12})\/main\.js"/.exec(html)?.[1] ?? '';
    expect(version, path).not.toBe('');
    // The early-calls script runs before the pages' module: deferred scripts run in document order.
    expect(html.indexOf(`<script defer src="/assets/${version}/early.js">`), path).toBeGreaterThan(0);
    expect(html.indexOf(`<script defer src="/assets/${version}/early.js">`)).toBeLessThan(
      html.indexOf(`<script type="module" src="/assets/${version}/main.js">`),
    );
    expect(html).toContain(`href="/assets/${version}/style.css"`);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self';");
  }
  // The pages' module names uPlot's file (a split of its own), which is served under the version too.
  const main = await (await fetch(`${base}/assets/${version}/main.js`)).text();
  const chart = /import\("\.\/(uPlot[\w.-]*\.js)"\)/.exec(main)?.[1];
  expect(chart).toBeDefined();
  for (const [path, type] of [
    [`/assets/${version}/main.js`, 'text/javascript; charset=utf-8'],
    [`/assets/${version}/early.js`, 'text/javascript; charset=utf-8'],
    [`/assets/${version}/${chart}`, 'text/javascript; charset=utf-8'],
    [`/assets/${version}/style.css`, 'text/css; charset=utf-8'],
    [`/assets/${version}/main.js.map`, 'application/json; charset=utf-8'],
  ]) {
    const res = await fetch(`${base}${path}`);
    expect([res.status, res.headers.get('content-type'), res.headers.get('cache-control')], path).toEqual([
      200,
      type,
      'public, max-age=31536000, immutable',
    ]);
  }
  // Unversioned, or another version's address: today's file, asked for again next time.
  for (const path of ['/assets/main.js', '/assets/v-older123456/main.js']) {
    const res = await fetch(`${base}${path}`);
    expect([res.status, res.headers.get('cache-control')], path).toEqual([200, 'no-cache']);
  }
  for (const path of [
    '/assets/..%2Fpackage.json',
    `/assets/${version}/..%2F..%2Fpackage.json`,
    '/assets/../../package.json',
    '/assets/.tsbuildinfo',
    '/assets/api.d.ts',
    '/assets/other.js',
    '/vendor/preact.js',
    '/nowhere',
  ])
    expect((await fetch(`${base}${path}`)).status, path).toBe(404);
});
