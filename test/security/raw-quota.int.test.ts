/**
 * Adversarial review 2, finding 19: one agent floods CDEVENTS_RAW. The stream has a storage limit and
 * refuses new messages when full (nothing unconsumed is dropped), and the hub purges the handled
 * messages of the instance holding the most (`RawQuota`), so the other agent's events are all stored
 * and its raw history stays. Whole hub (runHub), real nats-server, embedded ClickHouse.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishRaw, RAW_STREAM } from '@argus/bus';
import { createEvent } from '@argus/cdevents';
import { HUB_OPTIONS, type RunningHub, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import { countEvents } from '@argus/store';
import { captureLogs, NatsServer, waitFor } from '@argus/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'argus-raw-quota-'));
const MAX_BYTES = 8 * 1024 * 1024;
const JUNK = new Uint8Array(100 * 1024).fill(0x7b);
let nats: NatsServer;
let hub: RunningHub;
const logs = captureLogs({ level: 'info' });

beforeAll(async () => {
  nats = await NatsServer.start();
  hub = await runHub(
    parseOptions(HUB_OPTIONS, {
      flags: {
        nats: nats.url,
        dataDir: join(dir, 'hub'),
        httpListen: '127.0.0.1:0',
        grpcListen: '127.0.0.1:0',
        batchMaxWait: '100ms',
        rawMaxBytes: String(MAX_BYTES),
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

let seq = 0;
const victimEvent = () =>
  createEvent({
    type: 'service.deployed',
    id: `victim-${++seq}`,
    source: '/ci/victim',
    subject: { id: 'payments', content: { environment: { id: 'prod' }, artifactId: 'pkg:oci/payments' } },
  });

/** Publishes as the agent's spool does: a refusal (the stream full) is retried until acknowledged. */
const publishUntilAcked = async (event: ReturnType<typeof victimEvent>): Promise<number> => {
  const js = jetstream(hub.nc);
  for (let refusals = 0; ; refusals++) {
    try {
      await publishRaw(js, event, { instance: 'victim', timeoutMs: 2000 });
      return refusals;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
};

describe('a per-instance quota on CDEVENTS_RAW', () => {
  test('the streams and buckets the hub creates all have a storage limit', async () => {
    const jsm = await jetstreamManager(hub.nc);
    for await (const stream of jsm.streams.list()) {
      expect(stream.config.max_bytes, stream.config.name).toBeGreaterThan(0);
    }
    expect((await jsm.streams.info(RAW_STREAM)).config.discard).toBe('new');
  });

  test('one agent floods four times the stream; the other agent loses nothing and keeps its history', async () => {
    const js = jetstream(hub.nc);
    const jsm = await jetstreamManager(hub.nc);
    for (let i = 0; i < 5; i++) await publishUntilAcked(victimEvent());

    let floodAcked = 0;
    let floodRefused = 0;
    const flood = (async () => {
      // 4x the stream in 100 KB messages (junk: dead-lettered), each retried until the stream takes it.
      while (floodAcked < 320) {
        try {
          await js.publish('cdevents.raw.flooder.service.deployed', JUNK, { timeout: 2000 });
          floodAcked++;
        } catch {
          floodRefused++;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    })();
    const started = Date.now();
    let victimRefusals = 0;
    // The victim keeps publishing while the flood goes on, one event every 150 ms.
    for (let i = 0; i < 15; i++) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      victimRefusals += await publishUntilAcked(victimEvent());
    }
    const victimDoneMs = Date.now() - started;
    await flood;

    await waitFor(async () => (await countEvents(hub.store)).events === 20, {
      timeoutMs: 60_000,
      what: 'all 20 events of the victim stored',
    });
    const victimInRaw = await jsm.streams.info(RAW_STREAM, { subjects_filter: 'cdevents.raw.victim.>' });
    const victimHeld = Object.values(victimInRaw.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    const trimmed = await hub.hub.metrics.rawTrimmed.get();
    const flooderTrimmed = trimmed.values.find((v) => v.labels.instance === 'flooder')?.value ?? 0;
    const state = (await jsm.streams.info(RAW_STREAM)).state;
    console.log(
      `raw quota: flood ${floodAcked} acked, ${floodRefused} refused; victim refused ${victimRefusals} times, its 15 acked in ${victimDoneMs} ms; flooder trimmed ${flooderTrimmed} bytes; raw now ${state.bytes} bytes`,
    );
    expect(floodAcked * JUNK.length).toBeGreaterThan(2 * MAX_BYTES);
    expect(flooderTrimmed).toBeGreaterThan(MAX_BYTES);
    expect(trimmed.values.find((v) => v.labels.instance === 'victim')).toBeUndefined();
    expect(victimHeld).toBe(20);
    expect(state.bytes).toBeLessThanOrEqual(MAX_BYTES);
  }, 120_000);
});
