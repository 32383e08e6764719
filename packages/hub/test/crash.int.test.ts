import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureStreams, HUB_CONSUMER, publishRaw, RAW_STREAM, UNIFIED_STREAM } from '@argus/bus';
import { createEvent } from '@argus/cdevents';
import { countEvents, Store } from '@argus/store';
import { ArgusProcess, captureLogs, NatsServer, waitFor } from '@argus/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, expect, test } from 'vitest';

// This file runs hubs as real processes with their own embedded ClickHouse directory; the test
// process opens that directory only after the last hub has exited (chdb: one data dir per process).
const dataDir = mkdtempSync(join(tmpdir(), 'argus-crash-'));
let server: NatsServer | undefined;
afterAll(() => server?.stop());

const hubProcess = (nats: string, batchSize: number, env: Record<string, string> = {}): ArgusProcess =>
  new ArgusProcess(
    [
      'hub',
      '--nats',
      nats,
      '--data-dir',
      dataDir,
      '--http-listen',
      '127.0.0.1:0',
      '--grpc-listen',
      '127.0.0.1:0',
      '--batch-size',
      String(batchSize),
      '--ack-wait',
      '2s',
      '--log-level',
      'warn',
    ],
    { env },
  );

test('a hub SIGKILLed between insert and ack loses nothing and duplicates nothing', async () => {
  server = await NatsServer.start();
  const nc = await server.connect();
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm);
  const js = jetstream(nc);
  const events = Array.from({ length: 30 }, (_, i) =>
    createEvent({
      type: 'service.upgraded',
      id: `crash-${i}`,
      source: '/argocd/prod-eu/podinfo/podinfo',
      // Recent: the hub accepts 400 days back by default.
      timestamp: new Date(Date.now() - (60 - i) * 60_000).toISOString(),
      subject: {
        id: 'podinfo',
        content: { environment: { id: 'prod-eu/podinfo' }, artifactId: `pkg:oci/podinfo@${i}` },
      },
    }),
  );
  for (const event of events) await publishRaw(js, event, { instance: 'argo-eu', cluster: 'prod-eu' });

  const doomed = hubProcess(server.url, 10, { ARGUS_FAILPOINT: 'kill-after-insert' });
  const death = await doomed.exited;
  expect(death.signal).toBe('SIGKILL');
  // The first batch is stored but not acked.
  expect((await jsm.consumers.info(RAW_STREAM, HUB_CONSUMER)).num_ack_pending).toBeGreaterThan(0);

  // Smaller batches: the redelivered messages arrive in other groupings, so the insert token of the
  // first batch does not match and only the hub's lookup of redelivered identities prevents repeats.
  const survivor = hubProcess(server.url, 4);
  await waitFor(
    async () => {
      const info = await jsm.consumers.info(RAW_STREAM, HUB_CONSUMER);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    {
      what: 'the second hub to ack every message, redelivered ones included',
      timeoutMs: 60_000,
      intervalMs: 200,
    },
  );
  await survivor.kill('SIGTERM');
  expect((await survivor.exited).code).toBe(0);
  expect((await jsm.streams.info(UNIFIED_STREAM)).state.messages).toBe(30);
  await nc.close();

  const store = await Store.open({ dataDir, logger: captureLogs().logger });
  expect(await countEvents(store)).toEqual({ events: 30, rows: 30 });
  await store.close();
}, 120_000);

test('a hub stops on SIGTERM, exit code 0, even after its NATS server went away', async () => {
  const nats = await NatsServer.start();
  const hub = hubProcess(nats.url, 10);
  const conn = await nats.connect();
  await waitFor(
    async () =>
      (await (
        await jetstreamManager(conn)
      ).consumers
        .info(RAW_STREAM, HUB_CONSUMER)
        .catch(() => undefined)) !== undefined,
    { what: 'the hub to create its consumer', timeoutMs: 30_000 },
  );
  await conn.close();
  await nats.stop();
  await new Promise((r) => setTimeout(r, 1500)); // it is reconnecting now
  const stopped = Date.now();
  await hub.kill('SIGTERM');
  const exit = await hub.exited;
  expect(exit.code, hub.output).toBe(0);
  // Bounded: the NATS drain gives up after 5 s instead of waiting for a server that is gone.
  expect(Date.now() - stopped).toBeLessThan(15_000);
}, 60_000);
