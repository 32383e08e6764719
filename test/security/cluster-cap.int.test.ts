/**
 * Adversarial review 2, finding 11 at ingestion: one agent reports more distinct clusters than
 * `--max-clusters-per-instance`; the excess is dead-lettered `too-many-clusters`, the clusters it
 * already has and other agents are unaffected, and a restart does not open the cap again (it is
 * primed from what is stored). Whole hub (runHub), real nats-server, embedded ClickHouse.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishRaw } from '@argus/bus';
import { createEvent } from '@argus/cdevents';
import { HUB_OPTIONS, type RunningHub, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import { countEvents } from '@argus/store';
import { captureLogs, NatsServer, waitFor } from '@argus/testkit';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'argus-cluster-cap-'));
const CAP = 8;
let nats: NatsServer;
let hub: RunningHub;
const logs = captureLogs({ level: 'warn' });

const startHub = () =>
  runHub(
    parseOptions(HUB_OPTIONS, {
      flags: {
        nats: nats.url,
        dataDir: join(dir, 'hub'),
        httpListen: '127.0.0.1:0',
        grpcListen: '127.0.0.1:0',
        batchMaxWait: '50ms',
        maxClustersPerInstance: String(CAP),
      },
      env: {},
    }),
    logs.destination,
  );

beforeAll(async () => {
  nats = await NatsServer.start();
  hub = await startHub();
});

afterAll(async () => {
  await hub?.shutdown.shutdown('test done');
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
const publish = (instance: string, cluster: string) =>
  publishRaw(
    jetstream(hub.nc),
    createEvent({
      type: 'service.deployed',
      id: `cap-${++seq}`,
      source: `/ci/${instance}`,
      subject: { id: 'svc', content: { environment: { id: 'prod' }, artifactId: 'pkg:oci/svc' } },
    }),
    { instance, cluster },
  );

const tooMany = async (running: RunningHub) =>
  (await running.hub.metrics.deadLetters.get()).values.find((v) => v.labels.reason === 'too-many-clusters')
    ?.value ?? 0;

describe('distinct clusters per instance, at ingestion', () => {
  test('beyond the cap, new clusters are dead-lettered; known ones and other agents are stored', async () => {
    for (let i = 0; i < CAP + 5; i++) await publish('argo-eu', `cluster-${i}`);
    await publish('argo-eu', 'cluster-0');
    await publish('argo-us', 'cluster-100');
    await waitFor(async () => (await countEvents(hub.store)).events === CAP + 2, {
      timeoutMs: 20_000,
      what: 'the capped events stored',
    });
    await waitFor(async () => (await tooMany(hub)) === 5, { timeoutMs: 20_000, what: '5 dead letters' });
    expect(logs.text()).toMatch(/max-clusters-per-instance 8/);
  });

  test('a restart does not open the cap again', async () => {
    await hub.shutdown.shutdown('restart');
    hub = await startHub();
    await publish('argo-eu', 'cluster-after-restart');
    await publish('argo-eu', 'cluster-1');
    await waitFor(async () => (await tooMany(hub)) === 1, { timeoutMs: 20_000, what: 'the new one refused' });
    await waitFor(async () => (await countEvents(hub.store)).events === CAP + 3, {
      timeoutMs: 20_000,
      what: 'the known cluster stored',
    });
  });
});
