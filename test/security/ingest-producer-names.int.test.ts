/**
 * Adversarial review 2, finding 7 in part through runHub and a real nats-server: an ingest token
 * named like a registry instance would publish on that agent's raw subjects and take its cluster,
 * environment and labels, so the hub refuses to start with it, and starts with a distinct name. The
 * environment tag comes from the registry only: a CI event claiming production, in its payload or
 * in an Argus-Environment header, is stored with none.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent } from '@argus/cdevents';
import { HUB_OPTIONS, IngestProducerError, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import { captureLogs, NatsServer, waitFor } from '@argus/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'argus-producer-names-'));
const registryFile = join(dir, 'registry.yaml');
let nats: NatsServer;
const logs = captureLogs({ level: 'warn' });

beforeAll(async () => {
  nats = await NatsServer.start();
  writeFileSync(
    registryFile,
    'clusters:\n  prod-us: { environment: production, region: us-east-1 }\ninstances:\n  argo-us: { clusters: [prod-us] }\n',
  );
});

afterAll(async () => {
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const start = (ingestTokens: string) =>
  runHub(
    parseOptions(HUB_OPTIONS, {
      flags: {
        nats: nats.url,
        dataDir: join(dir, 'hub'),
        httpListen: '127.0.0.1:0',
        grpcListen: '127.0.0.1:0',
        registry: registryFile,
        ingestTokens,
      },
      env: {},
    }),
    logs.destination,
  );

test('an ingest producer named like a registry instance is refused at startup; another name starts', async () => {
  const refused = start('ci=ci-token,argo-us=ingest-argo-us-token');
  await expect(refused).rejects.toBeInstanceOf(IngestProducerError);
  await expect(refused).rejects.toThrow(
    /ingest producer argo-us is named like a registry instance with clusters/,
  );
  const hub = await start('ci=ci-token,ci-us=ingest-us-token');
  try {
    const event = createEvent({
      type: 'service.deployed',
      id: 'ci-env-1',
      source: '/ci/payments',
      timestamp: new Date().toISOString(),
      subject: {
        id: 'payments',
        content: { environment: { id: 'production' }, artifactId: 'pkg:oci/payments' },
      },
    });
    const res = await fetch(`http://127.0.0.1:${hub.http.address.port}/api/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer ci-token',
        'argus-cluster': 'prod-us',
        'argus-environment': 'production',
      },
      body: JSON.stringify(event),
    });
    expect(res.status).toBe(202);
    const rows = async () =>
      hub.store.rows<{ instance: string; cluster: string; environment: string }>(
        `SELECT instance, cluster, environment FROM ${hub.store.table('cdevents')} WHERE id = 'ci-env-1'`,
      );
    await waitFor(async () => (await rows()).length === 1, { what: 'the CI event to be stored' });
    expect(await rows()).toEqual([{ instance: 'ci', cluster: '', environment: '' }]);
  } finally {
    await hub.shutdown.shutdown('test done');
  }
});
