/**
 * The registry applies without a restart (adversarial review 2, finding 7): runHub with a real
 * nats-server and the embedded ClickHouse; the registry file is rewritten under the running hub and
 * the next agent event is tagged with the new environment; a broken file leaves the registry in use.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishRaw } from '@argus/bus';
import { createEvent } from '@argus/cdevents';
import { HUB_OPTIONS, type RunningHub, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import { captureLogs, NatsServer, waitFor } from '@argus/testkit';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'argus-registry-reload-'));
const registryFile = join(dir, 'registry.yaml');
const registry = (environment: string) =>
  `clusters:\n  prod-us: { environment: ${environment} }\ninstances:\n  argo-us: { clusters: [prod-us] }\n`;
let nats: NatsServer;
let hub: RunningHub;
const logs = captureLogs({ level: 'info' });

beforeAll(async () => {
  nats = await NatsServer.start();
  writeFileSync(registryFile, registry('staging'));
  hub = await runHub(
    parseOptions(HUB_OPTIONS, {
      flags: {
        nats: nats.url,
        dataDir: join(dir, 'hub'),
        httpListen: '127.0.0.1:0',
        grpcListen: '127.0.0.1:0',
        registry: registryFile,
      },
      env: {},
    }),
    logs.destination,
  );
});

afterAll(async () => {
  await hub?.shutdown.shutdown('test done');
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const deployedAs = async (id: string): Promise<string> => {
  const event = createEvent({
    type: 'service.deployed',
    id,
    source: '/argocd/prod-us/payments/payments',
    timestamp: new Date().toISOString(),
    subject: { id: 'payments', content: { environment: { id: 'prod' }, artifactId: 'pkg:oci/payments' } },
  });
  await publishRaw(jetstream(hub.nc), event, { instance: 'argo-us', cluster: 'prod-us' });
  const rows = () =>
    hub.store.rows<{ environment: string }>(
      `SELECT environment FROM ${hub.store.table('cdevents')} WHERE id = {id:String}`,
      { id },
    );
  await waitFor(async () => (await rows()).length === 1, { what: `${id} to be stored` });
  return (await rows())[0]?.environment ?? '';
};

test('a rewritten registry file tags the next event without a restart; a broken one is not applied', async () => {
  expect(await deployedAs('reload-1')).toBe('staging');
  writeFileSync(registryFile, registry('production'));
  await waitFor(() => hub.hub.registry.clusters.get('prod-us')?.environment === 'production', {
    what: 'the hub to see the rewritten registry file',
    timeoutMs: 10_000,
  });
  expect(await deployedAs('reload-2')).toBe('production');

  writeFileSync(registryFile, 'clusters: [not, a, map]\n');
  await waitFor(
    () => logs.lines().some((l) => l.msg === 'registry not reloaded; the previous one stays in use'),
    {
      what: 'the broken file to be refused',
      timeoutMs: 10_000,
    },
  );
  expect(await deployedAs('reload-3')).toBe('production');
});
