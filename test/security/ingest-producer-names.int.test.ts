/**
 * Adversarial review 2, finding 7 in part through runHub and a real nats-server: an ingest token
 * named like a registry instance would publish on that agent's raw subjects and take its cluster,
 * environment and labels, so the hub refuses to start with it, and starts with a distinct name.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HUB_OPTIONS, IngestProducerError, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import { captureLogs, NatsServer } from '@argus/testkit';
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
  await expect(refused).rejects.toThrow(/ingest producer argo-us is named like a registry instance/);
  const hub = await start('ci=ci-token,ci-us=ingest-us-token');
  try {
    expect(hub.http.address.port).toBeGreaterThan(0);
  } finally {
    await hub.shutdown.shutdown('test done');
  }
});
