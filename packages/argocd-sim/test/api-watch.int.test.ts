import { afterEach, expect, test } from 'vitest';
import { type Application, type RunningServer, SimulatedArgoCD, startArgoCdApi } from '../src/index.js';

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

const auth = { authorization: 'Bearer t' };
const app = (name: string, namespace?: string) => ({
  name,
  ...(namespace === undefined ? {} : { namespace }),
  destination: { namespace: name },
  source: { repoURL: 'https://github.com/x/y' },
});

type Line = { result: { type: string; application: Application } };

/** Reads newline-delimited JSON until `count` lines arrived. */
const readLines = async (res: Response, count: number): Promise<Line[]> => {
  const reader = res.body?.getReader();
  const lines: Line[] = [];
  let buffer = '';
  while (reader !== undefined && lines.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += new TextDecoder().decode(value);
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const p of parts) if (p.trim() !== '') lines.push(JSON.parse(p) as Line);
  }
  await reader?.cancel();
  return lines;
};

const NO_ANSWER_MS = 300;

test('the stream answers only with its first message (pkg/apiclient/application/application.pb.gw.go waits for grpc headers)', async () => {
  const sim = new SimulatedArgoCD({ name: 'argo' });
  const api = await startArgoCdApi(sim, { token: 't' });
  running.push(api);
  const response = fetch(`${api.url}/api/v1/stream/applications`, { headers: auth });
  const early = await Promise.race([
    response.then(() => 'answered'),
    new Promise((r) => setTimeout(() => r('waiting'), NO_ANSWER_MS)),
  ]);
  expect(early).toBe('waiting');
  sim.createApp(app('late'));
  const [first] = await readLines(await response, 1);
  expect(first?.result).toMatchObject({ type: 'ADDED', application: { metadata: { name: 'late' } } });
});

test('the ADDED burst comes from the stream own snapshot, older than a list taken during burstDelayMs; changes before the subscription are lost (server/application/application.go Watch)', async () => {
  const sim = new SimulatedArgoCD({ name: 'argo' });
  sim.createApp(app('a'));
  sim.degrade('a');
  const api = await startArgoCdApi(sim, { token: 't', burstDelayMs: 200 });
  running.push(api);
  const stream = fetch(`${api.url}/api/v1/stream/applications`, { headers: auth });
  await new Promise((r) => setTimeout(r, 50));
  sim.recover('a');
  const list = (await (await fetch(`${api.url}/api/v1/applications`, { headers: auth })).json()) as {
    items: Application[];
  };
  expect(list.items[0]?.status.health).toMatchObject({ status: 'Healthy' });
  const response = await stream;
  setTimeout(() => sim.refresh('a'), 100);
  const lines = await readLines(response, 2);
  // The burst still shows Degraded; the recover itself was never streamed, the later refresh is.
  expect(
    lines.map((l) => [l.result.type, (l.result.application.status.health as { status: string }).status]),
  ).toEqual([
    ['ADDED', 'Degraded'],
    ['MODIFIED', 'Healthy'],
  ]);
});

test('list: sorted by name, no apiVersion/kind, no resource health on 3.0+; the stream re-inflates it (inferResourcesStatusHealth)', async () => {
  const sim = new SimulatedArgoCD({ name: 'argo', version: '3.1' });
  sim.createApp(app('mid'));
  sim.createApp(app('alpha', 'x-team'));
  sim.sync('mid', { revision: 'r1' });
  sim.degrade('mid', 'Back-off pulling image');
  const api = await startArgoCdApi(sim, { token: 't' });
  running.push(api);
  const list = (await (await fetch(`${api.url}/api/v1/applications`, { headers: auth })).json()) as {
    items: Application[];
  };
  expect(list.items.map((i) => [i.metadata.name, i.kind])).toEqual([
    ['alpha', undefined],
    ['mid', undefined],
  ]);
  const listed = list.items[1]?.status.resources as { kind: string; health?: unknown }[];
  expect(listed.find((r) => r.kind === 'Deployment')?.health).toBeUndefined();
  const lines = await readLines(await fetch(`${api.url}/api/v1/stream/applications`, { headers: auth }), 2);
  // Burst order is the qualified name: `mid` (control-plane namespace) before `x-team/alpha`.
  expect(lines.map((l) => l.result.application.metadata.name)).toEqual(['mid', 'alpha']);
  const streamed = lines[0]?.result.application.status.resources as { kind: string; health?: unknown }[];
  expect(streamed.find((r) => r.kind === 'Deployment')?.health).toEqual({
    status: 'Degraded',
    message: 'Back-off pulling image',
  });
});

test('RBAC: hidden apps are omitted from list and stream and can come back; clusters need clusters,get (server/cluster/cluster.go List)', async () => {
  const sim = new SimulatedArgoCD({ name: 'argo' });
  sim.createApp(app('public'));
  sim.createApp(app('secret'));
  let hidden = true;
  let clustersAllowed = false;
  const api = await startArgoCdApi(sim, {
    token: 't',
    canGetApp: (a) => !(hidden && a.metadata.name === 'secret'),
    canGetClusters: () => clustersAllowed,
  });
  running.push(api);
  const names = async () =>
    (
      (await (await fetch(`${api.url}/api/v1/applications`, { headers: auth })).json()) as {
        items: Application[];
      }
    ).items.map((i) => i.metadata.name);
  expect(await names()).toEqual(['public']);
  hidden = false;
  expect(await names()).toEqual(['public', 'secret']);
  expect(await (await fetch(`${api.url}/api/v1/clusters`, { headers: auth })).json()).toEqual({
    metadata: {},
    items: [],
  });
  clustersAllowed = true;
  sim.addCluster({ name: 'prod-eu', server: 'https://prod-eu.example:6443' });
  sim.renameCluster('https://kubernetes.default.svc', 'control-plane');
  const clusters = (await (await fetch(`${api.url}/api/v1/clusters`, { headers: auth })).json()) as {
    items: { name: string }[];
  };
  expect(clusters.items.map((c) => c.name)).toEqual(['control-plane', 'prod-eu']);
});

test('a stream for one name matches it in the control-plane namespace unless appNamespace is given (appNamespaceOrDefault)', async () => {
  const sim = new SimulatedArgoCD({ name: 'argo' });
  sim.createApp(app('frontend'));
  sim.createApp(app('frontend', 'team-b'));
  const api = await startArgoCdApi(sim, { token: 't' });
  running.push(api);
  const first = async (query: string) =>
    (await readLines(await fetch(`${api.url}/api/v1/stream/applications?${query}`, { headers: auth }), 1))[0]
      ?.result.application.metadata.namespace;
  expect(await first('name=frontend')).toBe('argocd');
  expect(await first('name=frontend&appNamespace=team-b')).toBe('team-b');
});

/** Reads raw text until `done(text)` holds. */
const readUntil = async (res: Response, done: (text: string) => boolean): Promise<string> => {
  const reader = res.body?.getReader();
  let text = '';
  while (reader !== undefined && !done(text)) {
    const { value, done: end } = await reader.read();
    if (end) break;
    text += new TextDecoder().decode(value);
  }
  await reader?.cancel().catch(() => undefined);
  return text;
};

test('Accept: text/event-stream gets "data: <json> \\n\\n" frames and ":" keepalives (argoproj/pkg v0.13 grpc/http/forwarders.go)', async () => {
  const sim = new SimulatedArgoCD({ name: 'argo' });
  sim.createApp(app('a'));
  const api = await startArgoCdApi(sim, { token: 't', keepaliveMs: 50 });
  running.push(api);
  const res = await fetch(`${api.url}/api/v1/stream/applications`, {
    headers: { ...auth, accept: 'text/event-stream' },
  });
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const text = await readUntil(res, (t) => t.includes(':\n'));
  expect(text).toMatch(/^data: \{"result":\{"type":"ADDED","application":\{.*\}\}\} \n\n\n/);
  expect(text).toContain(':\n');
});

test('an error after the 200 is one line {"error":{grpc_code,http_code,message,http_status}} and the end (grpc-gateway v1.16.0 handleForwardResponseStreamError)', async () => {
  const sim = new SimulatedArgoCD({ name: 'argo' });
  sim.createApp(app('a'));
  const api = await startArgoCdApi(sim, { token: 't' });
  running.push(api);
  const res = await fetch(`${api.url}/api/v1/stream/applications`, { headers: auth });
  setTimeout(() => api.endStreams({ grpcCode: 14, message: 'transport is closing' }), 50);
  const lines = (await readUntil(res, () => false)).split('\n');
  expect(JSON.parse(lines[0] ?? '')).toMatchObject({ result: { type: 'ADDED' } });
  expect(JSON.parse(lines[1] ?? '')).toEqual({
    error: {
      grpc_code: 14,
      http_code: 503,
      message: 'transport is closing',
      http_status: 'Service Unavailable',
    },
  });
});

test('list fields= selects only the fixed paths; items.status.history is dropped (forwarder_overwrite.go appFields, 2.6+)', async () => {
  const sim = new SimulatedArgoCD({ name: 'argo' });
  sim.createApp(app('a'));
  sim.sync('a', { revision: 'r1' });
  const api = await startArgoCdApi(sim, { token: 't' });
  running.push(api);
  const fields = 'items.metadata.name,items.status.history,items.status.sync.status,items.metadata.labels';
  const body = (await (
    await fetch(`${api.url}/api/v1/applications?fields=${fields}`, { headers: auth })
  ).json()) as {
    items: unknown[];
  };
  expect(body.items).toEqual([
    { metadata: { name: 'a', labels: null }, status: { sync: { status: 'Synced' } } },
  ]);
});

test('a deletion seen only as an informer tombstone is not streamed (server/application/broadcaster.go OnDelete)', async () => {
  const sim = new SimulatedArgoCD({ name: 'argo' });
  sim.createApp(app('gone'));
  sim.createApp(app('kept'));
  const api = await startArgoCdApi(sim, { token: 't' });
  running.push(api);
  const res = await fetch(`${api.url}/api/v1/stream/applications`, { headers: auth });
  setTimeout(() => {
    sim.startDelete('gone');
    sim.finishDelete('gone', { tombstone: true });
    sim.refresh('kept');
  }, 50);
  const lines = await readLines(res, 4);
  expect(lines.map((l) => `${l.result.type} ${l.result.application.metadata.name}`)).toEqual([
    'ADDED gone',
    'ADDED kept',
    'MODIFIED gone',
    'MODIFIED kept',
  ]);
});
