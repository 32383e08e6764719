/**
 * The raw quota reads only what the hub handled since its last check (RawTally), against a real
 * nats-server: a second trim reads the new messages, not the whole stream again, and still brings
 * the stream under its high-water mark.
 */
import { ensureHubConsumer, ensureStreams, HUB_CONSUMER, RAW_STREAM } from '@argus/bus';
import { captureLogs, NatsServer } from '@argus/testkit';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { RawQuota } from '../src/raw-quota.js';

const MAX_BYTES = 200 * 1024;
const PAYLOAD = new Uint8Array(1000).fill(0x7b);
let nats: NatsServer;
let nc: NatsConnection;
let jsm: Awaited<ReturnType<typeof jetstreamManager>>;
const logs = captureLogs();

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await nats.connect();
  jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, { rawMaxBytes: MAX_BYTES });
  await ensureHubConsumer(jsm);
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

/** Publishes `count` messages, the instances in turn, and acks them as the hub's consumer (handled). */
const publishHandled = async (count: number, instances: readonly string[]) => {
  const js = jetstream(nc);
  for (let i = 0; i < count; i++) {
    await js.publish(`cdevents.raw.${instances[i % instances.length]}.service.deployed`, PAYLOAD);
  }
  const consumer = await js.consumers.get(RAW_STREAM, HUB_CONSUMER);
  let acked = 0;
  while (acked < count) {
    const batch = await consumer.fetch({ max_messages: count - acked, expires: 2000 });
    for await (const msg of batch) {
      msg.ack();
      acked++;
    }
  }
  // The ack floor moves once the acks are in.
  await nc.flush();
  await new Promise((resolve) => setTimeout(resolve, 200));
};

const quotaOf = (fullReadEveryMs?: number) =>
  new RawQuota({
    jsm,
    js: jetstream(nc),
    consumer: HUB_CONSUMER,
    logger: logs.logger,
    ...(fullReadEveryMs === undefined ? {} : { fullReadEveryMs }),
  });

/** Handled messages in the raw stream now (every message here is handled). */
const held = async () => (await jsm.streams.info(RAW_STREAM)).state.messages;

/** Publishes handled messages until the stream is above the quota's high-water mark; returns how many. */
const fillPastHighWater = async () => {
  let added = 0;
  while ((await jsm.streams.info(RAW_STREAM)).state.bytes <= 0.8 * MAX_BYTES) {
    await publishHandled(20, ['big', 'big', 'big', 'small']);
    added += 20;
  }
  return added;
};

test('each check reads only the messages handled since the last, and trims the stream as before', async () => {
  expect((await jsm.consumers.info(RAW_STREAM, HUB_CONSUMER)).config.ack_policy).toBe(AckPolicy.Explicit);
  const quota = quotaOf();
  // ~170 messages of ~1 KB: above 80 % of 200 KB.
  await publishHandled(170, ['big', 'big', 'big', 'small']);
  const first = await quota.check();
  expect(first?.read).toBe(170);
  expect(first?.trimmed.get('big')).toBeGreaterThan(0);
  expect(first?.trimmed.has('small')).toBe(false);
  const afterFirst = (await jsm.streams.info(RAW_STREAM)).state;
  expect(afterFirst.bytes).toBeLessThanOrEqual(0.8 * MAX_BYTES);

  // Above 80 % again: the second check reads the new messages only.
  const added = await fillPastHighWater();
  const second = await quota.check();
  expect(second?.read).toBe(added);
  expect(second?.trimmed.get('big')).toBeGreaterThan(0);

  // A quota that reads everything (a restarted hub) finds the stream where the incremental one left it.
  const after = (await jsm.streams.info(RAW_STREAM)).state;
  expect(after.bytes).toBeLessThanOrEqual(0.8 * MAX_BYTES);
  expect(await quotaOf().check()).toBeUndefined();
}, 60_000);

test('the counts are read again from the start once their time is up (another replica may have purged)', async () => {
  const quota = quotaOf(0);
  await fillPastHighWater();
  const all = await held();
  expect((await quota.check())?.read).toBe(all);
  // With no time between full reads, the next check reads everything again, not only what is new.
  await fillPastHighWater();
  const again = await held();
  expect((await quota.check())?.read).toBe(again);
}, 60_000);
