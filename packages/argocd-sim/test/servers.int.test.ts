import { afterEach, expect, test } from 'vitest';
import { type RunningServer, SimulatedArgoCD, startArgoCdApi, startKubeApi } from '../src/index.js';

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

const sim = () => {
  const s = new SimulatedArgoCD({ name: 'argo', historyWindow: 3 });
  s.createApp({
    name: 'podinfo',
    destination: { namespace: 'podinfo' },
    source: { repoURL: 'https://github.com/x/y' },
  });
  return s;
};

const auth = { authorization: 'Bearer t' };

/** Reads newline-delimited JSON from a streaming response until `count` lines arrived. */
const readLines = async (res: Response, count: number): Promise<unknown[]> => {
  const reader = res.body?.getReader();
  const lines: unknown[] = [];
  let buffer = '';
  while (reader !== undefined && lines.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += new TextDecoder().decode(value);
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const p of parts) if (p.trim() !== '') lines.push(JSON.parse(p));
  }
  await reader?.cancel();
  return lines;
};

test('Argo CD API: list, clusters, stream in the grpc-gateway format, and auth', async () => {
  const s = sim();
  const api = await startArgoCdApi(s, { token: 't' });
  running.push(api);
  expect((await fetch(`${api.url}/api/v1/applications`)).status).toBe(401);
  const list = (await (await fetch(`${api.url}/api/v1/applications`, { headers: auth })).json()) as {
    metadata: { resourceVersion: string };
    items: { kind?: string; metadata: { name: string } }[];
  };
  expect(list.metadata.resourceVersion).toBe(String(s.resourceVersion));
  expect(list.items.map((i) => i.metadata.name)).toEqual(['podinfo']);
  expect(list.items[0]?.kind).toBeUndefined();
  const clusters = (await (await fetch(`${api.url}/api/v1/clusters`, { headers: auth })).json()) as {
    items: { name: string; server: string }[];
  };
  expect(clusters.items[0]).toMatchObject({ name: 'in-cluster', server: 'https://kubernetes.default.svc' });
  const stream = await fetch(`${api.url}/api/v1/stream/applications`, { headers: auth });
  setTimeout(() => s.sync('podinfo', { revision: 'r1' }), 50);
  // The request, Running, history (still Running), Succeeded, then the refresh: five updates per sync.
  const lines = (await readLines(stream, 6)) as {
    result: { type: string; application: { metadata: { name: string } } };
  }[];
  expect(lines.map((l) => l.result.type)).toEqual(['ADDED', ...Array(5).fill('MODIFIED')]);
  expect(lines[0]?.result.application.metadata.name).toBe('podinfo');
});

test('Kubernetes API: list, watch from a resourceVersion with bookmarks, 410 Expired when too old', async () => {
  const s = sim();
  const kube = await startKubeApi(s, { token: 't', bookmarkMs: 50 });
  running.push(kube);
  const path = `${kube.url}/apis/argoproj.io/v1alpha1/namespaces/argocd/applications`;
  const list = (await (await fetch(path, { headers: auth })).json()) as {
    kind: string;
    metadata: { resourceVersion: string };
  };
  expect(list.kind).toBe('ApplicationList');
  s.refresh('podinfo');
  const watch = await fetch(
    `${path}?watch=1&resourceVersion=${list.metadata.resourceVersion}&allowWatchBookmarks=true`,
    { headers: auth },
  );
  const lines = (await readLines(watch, 2)) as { type: string; object: { kind: string } }[];
  expect(lines.map((l) => l.type)).toEqual(['MODIFIED', 'BOOKMARK']);
  for (let i = 0; i < 5; i++) s.refresh('podinfo');
  const expired = await fetch(`${path}?watch=1&resourceVersion=${list.metadata.resourceVersion}`, {
    headers: auth,
  });
  const [error] = (await readLines(expired, 1)) as {
    type: string;
    object: { code: number; reason: string };
  }[];
  expect(error).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
  expect((await fetch(path)).status).toBe(401);
});
