/**
 * Adversarial review 2, finding 21: `/metrics` names the ingest producers, and was served beside the
 * ingest (on an address CI must reach). With --metrics-listen it is served there only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HUB_OPTIONS, type RunningHub, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import { captureLogs, freePort, NatsServer } from '@argus/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'argus-metrics-listener-'));
let nats: NatsServer;
let hub: RunningHub;
let metricsPort: number;
const logs = captureLogs({ level: 'warn' });

beforeAll(async () => {
  nats = await NatsServer.start();
  metricsPort = await freePort();
  hub = await runHub(
    parseOptions(HUB_OPTIONS, {
      flags: {
        nats: nats.url,
        dataDir: join(dir, 'hub'),
        httpListen: '127.0.0.1:0',
        grpcListen: '127.0.0.1:0',
        metricsListen: `127.0.0.1:${metricsPort}`,
        ingestTokens: 'ci=ci-token',
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

test('with --metrics-listen, /metrics is served there and not beside the ingest', async () => {
  const ingestBase = `http://${hub.http.address.host}:${hub.http.address.port}`;
  const metricsBase = `http://127.0.0.1:${metricsPort}`;
  expect((await fetch(`${ingestBase}/metrics`)).status).toBe(404);
  expect((await fetch(`${ingestBase}/readyz`)).status).toBe(200);
  const metrics = await fetch(`${metricsBase}/metrics`);
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toMatch(/argus_hub_consumed_total/);
  expect((await fetch(`${metricsBase}/readyz`)).status).toBe(200);
  expect((await fetch(`${metricsBase}/api/v1/events`, { method: 'POST' })).status).toBe(404);
});
