/**
 * The Argus KV buckets on a real nats-server: a roll-up, a purge or a message delete cannot empty them
 * (adversarial review 2, finding 2), a bucket stream shaped by someone else is refused (finding 5),
 * a bucket of an earlier Argus is made safe in place, and heartbeats are read by key (finding 16).
 */
import { captureLogs, NatsServer } from '@argus/testkit';
import { JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bucketStream } from '../src/buckets.js';
import {
  AGENTS_BUCKET,
  connectNats,
  ensureBucket,
  messageIdKey,
  openAgentsBucket,
  openBucket,
  readHeartbeatsChecked,
  StreamDriftError,
  writeHeartbeat,
} from '../src/index.js';

let server: NatsServer;
let nc: NatsConnection;
const logs = captureLogs({ level: 'warn' });

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connectNats({ servers: server.url, name: 'buckets-test', logger: logs.logger });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const rollup = () => {
  const h = headers();
  h.set('Nats-Rollup', 'all');
  return h;
};

describe('Argus KV buckets', () => {
  test('a put with Nats-Rollup: all, a purge and a message delete are refused; every key survives', async () => {
    const jsm = await jetstreamManager(nc);
    expect(await ensureBucket(jsm, 'b_rollup')).toBe('created');
    const kv = await openBucket(nc, 'b_rollup');
    await kv.put('a.app.1', '{"v":1}');
    await kv.put('b.app.1', '{"v":1}');
    const js = jetstream(nc);
    const refused = await js.publish('$KV.b_rollup.a.app.1', '{}', { headers: rollup() }).catch((e) => e);
    expect(refused).toBeInstanceOf(JetStreamApiError);
    expect((refused as JetStreamApiError).code).toBe(10111);
    await expect(jsm.streams.purge(bucketStream('b_rollup'))).rejects.toThrow(/purge not permitted/);
    await expect(jsm.streams.deleteMessage(bucketStream('b_rollup'), 1)).rejects.toThrow(
      /delete not permitted/,
    );
    expect((await kv.get('a.app.1'))?.string()).toBe('{"v":1}');
    expect((await kv.get('b.app.1'))?.string()).toBe('{"v":1}');
    // Plain puts still replace a key, as the agents need.
    await kv.put('a.app.1', '{"v":2}');
    expect((await kv.get('a.app.1'))?.string()).toBe('{"v":2}');
    expect((await jsm.streams.info(bucketStream('b_rollup'))).state.messages).toBe(2);
  });

  test('a bucket of an earlier Argus (Kvm.create: roll-ups allowed) is made safe in place, keys kept', async () => {
    const old = await new Kvm(nc).create('b_legacy', { history: 1 });
    await old.put('k', 'v');
    const jsm = await jetstreamManager(nc);
    expect(await ensureBucket(jsm, 'b_legacy')).toBe('updated');
    expect(await ensureBucket(jsm, 'b_legacy')).toBe('exists');
    const config = (await jsm.streams.info(bucketStream('b_legacy'))).config;
    expect(config).toMatchObject({ allow_rollup_hdrs: false, deny_purge: true, deny_delete: true });
    await expect(jetstream(nc).publish('$KV.b_legacy.k', 'x', { headers: rollup() })).rejects.toBeInstanceOf(
      JetStreamApiError,
    );
    expect((await (await openBucket(nc, 'b_legacy')).get('k'))?.string()).toBe('v');
  });

  test('a bucket stream that republishes, or captures other subjects, is refused by the hub and by agents', async () => {
    const jsm = await jetstreamManager(nc);
    // Finding 5: a stream pre-created under the bucket's name with a republish to the attacker's inbox.
    await jsm.streams.add({
      name: bucketStream('b_rogue'),
      subjects: ['$KV.b_rogue.>'],
      max_msgs_per_subject: 1,
      allow_direct: true,
      republish: { src: '$KV.b_rogue.>', dest: '_INBOX_thief.>' },
    });
    const ensure = await ensureBucket(jsm, 'b_rogue').catch((e) => e);
    expect(ensure).toBeInstanceOf(StreamDriftError);
    expect((ensure as StreamDriftError).message).toMatch(/KV_b_rogue.*republish/);
    await expect(openBucket(nc, 'b_rogue')).rejects.toThrow(/republish is \$KV\.b_rogue\.> -> _INBOX_thief/);
    // Variant 3: extra subjects, so the hub's streams could not be created.
    await jsm.streams.add({ name: bucketStream('b_wide'), subjects: ['$KV.b_wide.>', 'cdevents.wide.>'] });
    await expect(openBucket(nc, 'b_wide')).rejects.toThrow(/subjects is \$KV\.b_wide\.>,cdevents\.wide\.>/);
    // Nothing was written into either.
    expect((await jsm.streams.info(bucketStream('b_rogue'))).state.messages).toBe(0);
  });

  test('the message-id key is made once and read back by every later open', async () => {
    const first = await messageIdKey(await openBucket(nc, 'b_key'));
    const again = await messageIdKey(await openBucket(nc, 'b_key'));
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(again).toBe(first);
  });

  test('heartbeats are read by key: a value naming another instance is refused, not shown', async () => {
    const kv = await openAgentsBucket(nc);
    const beat = (instance: string, version: string) => ({
      instance,
      architecture: 'distributed',
      source: 'kubernetes',
      version,
      clusters: ['prod-us'],
      apps: 1,
      startedAt: '2026-12-05T10:00:00.000Z',
      lastSeen: '2026-12-05T10:00:00.000Z',
      spoolDepth: 0,
    });
    await writeHeartbeat(kv, beat('argo-us', '1.0.0'));
    // Finding 16: argo-eu writes its own key with a value that says argo-us.
    await kv.put('argo-eu', JSON.stringify(beat('argo-us', 'EVIL-9.9.9')));
    await kv.put('junk', 'not json');
    const { heartbeats, refused } = await readHeartbeatsChecked(nc);
    expect(heartbeats.map((h) => `${h.instance} ${h.version}`)).toEqual(['argo-us 1.0.0']);
    expect(refused).toEqual([
      { key: 'argo-eu', reason: 'instance-mismatch' },
      { key: 'junk', reason: 'not-json' },
    ]);
    await expect(
      (await jetstreamManager(nc)).streams.info(bucketStream(AGENTS_BUCKET)),
    ).resolves.toMatchObject({
      config: { allow_rollup_hdrs: false },
    });
  });
});
