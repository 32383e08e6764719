import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEADERS, HeaderList, rawSubject } from '@argus/bus';
import { createEvent } from '@argus/cdevents';
import { HUB_OPTIONS, type RunningHub, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import { captureLogs, NatsServer, runArgus, waitFor } from '@argus/testkit';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const API_TOKEN = 'api-secret';
const ADMIN_TOKEN = 'admin-secret';

let server: NatsServer;
let running: RunningHub;
let dir: string;
let registryFile: string;
let hub: string;
const logs = captureLogs();

const registry = (clusters: string[]) =>
  [
    'strict: true',
    'clusters:',
    ...clusters.map((c) => `  ${c}: { environment: production }`),
    'instances:',
    '  argo-eu:',
    `    clusters: [${clusters.join(', ')}]`,
    '',
  ].join('\n');

const argus = (args: string[], token = API_TOKEN) =>
  runArgus(args, { env: { ARGUS_HUB: hub, ARGUS_QUERY_TOKEN: token } });

const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const deployed = createEvent({
  type: 'service.deployed',
  id: 'spoke-2-deployed',
  source: '/argocd/spoke-2/podinfo',
  subject: { id: 'podinfo', content: { environment: { id: 'spoke-2/podinfo' }, artifactId: 'pkg:oci/p@1' } },
});

beforeAll(async () => {
  server = await NatsServer.start();
  dir = mkdtempSync(join(tmpdir(), 'argus-cli-dlq-'));
  registryFile = join(dir, 'registry.yaml');
  writeFileSync(registryFile, registry(['prod-eu']));
  running = await runHub(
    parseOptions(HUB_OPTIONS, {
      flags: {
        nats: server.url,
        dataDir: join(dir, 'data'),
        registry: registryFile,
        httpListen: '127.0.0.1:0',
        grpcListen: '127.0.0.1:0',
        apiTokens: `ops=${API_TOKEN}`,
        adminTokens: `oncall=${ADMIN_TOKEN}`,
        batchMaxWait: '20ms',
      },
      env: {},
    }),
    logs.destination,
  );
  hub = `127.0.0.1:${running.grpc.address.port}`;
  const js = jetstream(running.nc);
  // An agent reports a cluster the registry does not give it yet: refused, fixable by the registry.
  const h = new HeaderList();
  h.set(HEADERS.cluster, 'spoke-2');
  await js.publish(rawSubject('argo-eu', 'service', 'deployed'), JSON.stringify(deployed), { headers: h });
  // Bytes no fix will make an event.
  await js.publish(rawSubject('argo-eu', 'service', 'deployed'), '{"context": not json');
  await waitFor(async () => running.hub.stats().deadLetters >= 2, { what: 'two dead letters' });
}, 120_000);

afterAll(async () => {
  await running?.shutdown.shutdown('test done');
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('argus dlq list, show and replay against a real hub, nats-server and embedded ClickHouse', () => {
  test('list shows reason, error class, time and producer; show the original bytes and headers', async () => {
    const list = await argus(['dlq', 'list', '--output', 'json']);
    expect(list.stderr).toBe('');
    const [refused, malformed] = jsonLines(list.stdout);
    expect(refused).toMatchObject({
      sequence: 1,
      producer: 'argo-eu',
      reason: 'cluster-not-allowed',
      errorClass: 'RegistryPolicy',
      originalSubject: 'cdevents.raw.argo-eu.service.deployed',
      truncated: false,
      replayOf: 0,
    });
    expect(Date.now() - Date.parse(String(refused?.time))).toBeLessThan(120_000);
    expect(malformed).toMatchObject({ sequence: 2, reason: 'malformed-json' });

    const table = await argus(['dlq', 'list', '--reason', 'malformed-json']);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^SEQ\s+TIME\s+PRODUCER\s+REASON\s+ERROR CLASS\s+BYTES\s+DETAIL$/,
    );
    expect(table.stdout.trim().split('\n')).toHaveLength(2);

    const show = await argus(['dlq', 'show', '1', '--output', 'json']);
    const shown = jsonLines(show.stdout)[0] as { data: string; headers: { name: string; value: string }[] };
    expect(JSON.parse(shown.data)).toEqual(deployed);
    expect(shown.headers).toContainEqual({ name: HEADERS.cluster, value: 'spoke-2' });
    expect(shown.headers.map((h) => h.name)).not.toContain(HEADERS.errorReason);
    const text = await argus(['dlq', 'show', '1']);
    expect(text.stdout).toContain('reason:    cluster-not-allowed (RegistryPolicy)');
    expect(text.stdout).toContain('"id":"spoke-2-deployed"');

    const usage = await argus(['dlq', 'replay']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('dlq replay takes one dead letter sequence');
  });

  test('replay needs an admin token, stores a fixed event exactly once, and sends a still bad one back', async () => {
    const denied = await argus(['dlq', 'replay', '1']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('PERMISSION_DENIED: ops is a query token');

    // The fix: the registry now gives argo-eu spoke-2 (the hub reloads it without a restart).
    writeFileSync(registryFile, registry(['prod-eu', 'spoke-2']));
    await waitFor(async () => logs.find((l) => l.msg === 'registry reloaded') !== undefined, {
      what: 'the registry reload',
      timeoutMs: 20_000,
    });
    // Two replayers at once, then a third after both.
    const [a, b] = await Promise.all([
      argus(['dlq', 'replay', '1', '--output', 'json'], ADMIN_TOKEN),
      argus(['dlq', 'replay', '1', '--output', 'json'], ADMIN_TOKEN),
    ]);
    const answers = [a, b].filter((r) => r.code === 0).map((r) => jsonLines(r.stdout)[0]);
    expect(answers.length).toBeGreaterThan(0);
    // Whoever read it before the other deleted it published under the same message id: one raw message.
    expect(answers.filter((r) => r?.duplicate === false)).toHaveLength(1);
    for (const r of [a, b].filter((x) => x.code !== 0)) expect(r.stderr).toContain('NOT_FOUND');
    const again = await argus(['dlq', 'replay', '1'], ADMIN_TOKEN);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('NOT_FOUND: no dead letter 1 in CDEVENTS_DLQ');

    let stored: Record<string, unknown>[] = [];
    await waitFor(
      async () => {
        stored = jsonLines((await argus(['query', '--output', 'json', '--subject-id', 'podinfo'])).stdout);
        return stored.length > 0;
      },
      { what: 'the replayed event stored' },
    );
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ id: 'spoke-2-deployed', instance: 'argo-eu', cluster: 'spoke-2' });
    expect(running.hub.stats().stored).toBe(1);

    const bad = await argus(['dlq', 'replay', '2'], ADMIN_TOKEN);
    expect(bad.code).toBe(0);
    let list: Record<string, unknown>[] = [];
    await waitFor(
      async () => {
        list = jsonLines((await argus(['dlq', 'list', '--output', 'json'])).stdout);
        return list.some((d) => d.replayOf === 2);
      },
      { what: 'the still bad replay back in the DLQ' },
    );
    expect(list.map((d) => [d.reason, d.replayOf])).toEqual([['malformed-json', 2]]);
    expect(running.hub.stats().stored).toBe(1);
  });
});
