import {
  DEFAULT_MAX_ACK_PENDING,
  DLQ_STREAM,
  HEADERS,
  HUB_CONSUMER,
  publishRaw,
  RAW_STREAM,
  rawMessage,
  UNIFIED_STREAM,
} from '@argus/bus';
import { type CDEvent, createEvent, eventIdentity } from '@argus/cdevents';
import { countEvents, Store, searchEvents } from '@argus/store';
import { captureLogs, clickHouseTarget, NatsServer, randomDatabase, waitFor } from '@argus/testkit';
import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type MsgHdrs, type NatsConnection, headers as natsHeaders } from '@nats-io/nats-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { HubConfig } from '../src/hub.js';
import { buildRegistry, Hub } from '../src/index.js';
import type { InstanceEntry } from '../src/registry.js';

let server: NatsServer;
let nc: NatsConnection;
let js: JetStreamClient;
let store: Store;
const logs = captureLogs({ level: 'info' });
const hubs: Hub[] = [];

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await server.connect();
  js = jetstream(nc);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

// Each test gets fresh streams and a fresh database, so counts are its own.
beforeEach(async () => {
  const jsm = await jetstreamManager(nc);
  for (const stream of [RAW_STREAM, UNIFIED_STREAM, DLQ_STREAM])
    await jsm.streams.delete(stream).catch(() => undefined);
  store = await Store.open({ ...clickHouseTarget(), database: randomDatabase('hub'), logger: logs.logger });
});

afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.stop()));
  await store.command(`DROP DATABASE IF EXISTS ${store.database}`);
  await store.close();
});

const startHub = async (config: Partial<HubConfig> = {}) => {
  const hub = new Hub({ nc, store, logger: logs.logger, batchSize: 100, batchMaxWaitMs: 20, ...config });
  await hub.start();
  hubs.push(hub);
  return hub;
};

let seq = 0;
const deployed = (overrides: { id?: string; customData?: Record<string, unknown> } = {}): CDEvent =>
  createEvent({
    type: 'service.deployed',
    id: overrides.id ?? `ev-${++seq}`,
    source: '/argocd/prod-eu/podinfo/podinfo',
    // Recent: the hub accepts 400 days back by default.
    timestamp: new Date(Date.now() - 3_600_000).toISOString(),
    subject: {
      id: 'podinfo',
      content: { environment: { id: 'prod-eu/podinfo' }, artifactId: 'pkg:oci/podinfo' },
    },
    ...(overrides.customData === undefined ? {} : { customData: overrides.customData }),
  });

const streamCount = async (stream: string) =>
  (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;

const settled = async (expectedConsumed: number) => {
  await waitFor(
    async () => {
      const info = await (await jetstreamManager(nc)).consumers.info(RAW_STREAM, HUB_CONSUMER);
      return (
        info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= expectedConsumed
      );
    },
    { what: `the hub consumer to ack all ${expectedConsumed} messages`, timeoutMs: 20_000 },
  );
};

describe('hub pipeline', () => {
  test('the consumer it creates takes the one max_ack_pending default, whatever the batch size (the byte budget bounds what a hub holds)', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.delete(RAW_STREAM, HUB_CONSUMER).catch(() => undefined);
    await startHub({ batchSize: 100 });
    const info = await jsm.consumers.info(RAW_STREAM, HUB_CONSUMER);
    expect(info.config.max_ack_pending).toBe(DEFAULT_MAX_ACK_PENDING);
  });

  test('stores each event once, republishes it tagged, and acks after storing', async () => {
    await startHub();
    const events = Array.from({ length: 50 }, () => deployed());
    await Promise.all(events.map((e) => publishRaw(js, e, { instance: 'argo-eu', cluster: 'prod-eu' })));
    await settled(50);
    expect(await countEvents(store)).toEqual({ events: 50, rows: 50 });
    expect(await streamCount(UNIFIED_STREAM)).toBe(50);
    const [stored] = await searchEvents(store, { subjectId: 'podinfo' }, 1);
    expect(stored).toMatchObject({ instance: 'argo-eu', cluster: 'prod-eu' });
    const unified = await (await jetstreamManager(nc)).streams.getMessage(UNIFIED_STREAM, { seq: 1 });
    expect(unified?.subject).toBe('cdevents.unified.prod-eu.service.deployed');
    expect(unified?.header.get(HEADERS.instance)).toBe('argo-eu');
    expect(unified?.header.get('ce-type')).toBe('dev.cdevents.service.deployed.0.3.0');
  });

  test('repeats end as one event: JetStream window, then the hub cache, then the store', async () => {
    const hub = await startHub();
    const event = deployed();
    // A publisher's retry is absorbed by the raw stream's window (its message ids are its own).
    const first = await publishRaw(js, event, { instance: 'principal', cluster: 'spoke-1' });
    const retry = await publishRaw(js, event, { instance: 'principal', cluster: 'spoke-1' });
    expect(first.duplicate).toBe(false);
    expect(retry.duplicate).toBe(true);
    // Two agents report one occurrence: each publisher's window is its own (so none can suppress
    // another's events), both reach the raw stream, and the hub keeps the first.
    const second = await publishRaw(js, event, { instance: 'spoke-1', cluster: 'spoke-1' });
    expect(second.duplicate).toBe(false);
    // A repeat without the message id (another producer) passes JetStream too; the hub catches it.
    const m = rawMessage(event, { instance: 'other' });
    m.headers.delete(HEADERS.msgId);
    await js.publish(m.subject, m.data, { headers: m.headers });
    await settled(3);
    expect(hub.stats().duplicates).toBe(2);
    const byLayer = (await hub.metrics.duplicates.get()).values;
    expect(byLayer.find((v) => v.labels.layer === 'recent')?.value).toBe(2);
    expect(await countEvents(store)).toEqual({ events: 1, rows: 1 });
    expect(await streamCount(UNIFIED_STREAM)).toBe(1);
  });

  test('bad input goes to the DLQ with its reason; good events around it are stored', async () => {
    await startHub({ maxEventBytes: 65_536 });
    const good = [deployed(), deployed()];
    await publishRaw(js, good[0] as CDEvent, { instance: 'argo-eu' });
    const bad: [string, string | Uint8Array][] = [
      ['malformed-json', '{"context": '],
      ['malformed-json', new Uint8Array([0xc3, 0x28])],
      ['not-an-event', '[1,2,3]'],
      [
        'unknown-type',
        JSON.stringify({
          ...deployed(),
          context: { ...deployed().context, type: 'dev.cdevents.service.exploded.0.3.0' },
        }),
      ],
      ['too-large', JSON.stringify({ ...deployed(), customData: { blob: 'x'.repeat(100_000) } })],
      // Valid CDEvents, but ClickHouse cannot store the year: refused rather than stalling the batch.
      [
        'timestamp-out-of-range',
        JSON.stringify({
          ...deployed(),
          context: { ...deployed().context, timestamp: '9999-12-31T23:59:59Z' },
        }),
      ],
      // Valid CDEvents whose id cannot ride in a NATS header on the unified stream: refused before
      // it is stored, instead of failing the republish of its batch for ever.
      ['binding', JSON.stringify({ ...deployed(), context: { ...deployed().context, id: 'a\r\nb' } })],
    ];
    for (const [, body] of bad) await js.publish('cdevents.raw.argo-eu.service.deployed', body);
    const wrongSubject = rawMessage(deployed(), { instance: 'argo-eu' });
    await js.publish('cdevents.raw.argo-eu.incident.detected', wrongSubject.data, {
      headers: wrongSubject.headers,
    });
    await publishRaw(js, good[1] as CDEvent, { instance: 'argo-eu' });
    await settled(bad.length + 3);
    expect(await countEvents(store)).toEqual({ events: 2, rows: 2 });
    const jsm = await jetstreamManager(nc);
    const reasons: string[] = [];
    for (let s = 1; s <= bad.length + 1; s++) {
      const dead = await jsm.streams.getMessage(DLQ_STREAM, { seq: s });
      reasons.push(dead?.header.get(HEADERS.errorReason) ?? '');
      expect(dead?.header.get(HEADERS.errorDetail)).not.toBe('');
      expect(dead?.subject).toBe('cdevents.dlq.argo-eu');
    }
    expect(reasons).toEqual([...bad.map(([reason]) => reason), 'subject-mismatch']);
    const first = await jsm.streams.getMessage(DLQ_STREAM, { seq: 1 });
    expect(first?.string()).toBe('{"context": ');
    // The dead letter names the error's class and its cause's (the parser's own error), not just a reason.
    expect(first?.header.get(HEADERS.errorClass)).toBe('MalformedJsonError');
    expect(first?.header.get(HEADERS.errorCause)).toMatch(/^SyntaxError: /);
    const notUtf8 = await jsm.streams.getMessage(DLQ_STREAM, { seq: 2 });
    expect(notUtf8?.header.get(HEADERS.errorClass)).toBe('MalformedJsonError');
    expect(notUtf8?.header.get(HEADERS.errorCause)).toMatch(/^TypeError: /);
    // An error without a cause adds no cause header.
    const notAnEvent = await jsm.streams.getMessage(DLQ_STREAM, { seq: 3 });
    expect(notAnEvent?.header.has(HEADERS.errorCause)).toBe(false);
    const lineBreak = await jsm.streams.getMessage(DLQ_STREAM, { seq: bad.length });
    expect(lineBreak?.header.get(HEADERS.errorDetail)).toBe(
      'context.id "a\\r\\nb" contains a line break, which a NATS header (ce-id) cannot carry',
    );
    expect(await streamCount(UNIFIED_STREAM)).toBe(2);
    expect(
      logs.find((l) => l.msg === 'message refused; sent to CDEVENTS_DLQ' && l.reason === 'unknown-type'),
    ).toBeDefined();
  });

  test('rows ClickHouse refuses as data are found by splitting the batch and dead-lettered; the rest is stored', async () => {
    await startHub();
    const good = Array.from({ length: 9 }, () => deployed());
    // A lone surrogate escape is valid JSON that ClickHouse will not parse into a String: retrying the
    // batch could never succeed.
    const refusedId = 'lone-\ud800';
    const bad = deployed({ id: refusedId });
    const messages = [...good.slice(0, 4), bad, ...good.slice(4)].map((e) =>
      rawMessage(e, { instance: 'argo-eu', cluster: 'prod-eu' }),
    );
    // Published back to back, so they arrive in one batch.
    await Promise.all(
      messages.map((m) => js.publish(m.subject, m.data, { headers: m.headers, msgID: m.msgId })),
    );
    await settled(10);
    expect(await countEvents(store)).toEqual({ events: 9, rows: 9 });
    expect(await streamCount(UNIFIED_STREAM)).toBe(9);
    const dead = await (await jetstreamManager(nc)).streams.getMessage(DLQ_STREAM, { seq: 1 });
    expect(dead?.header.get(HEADERS.errorReason)).toBe('store-rejected');
    expect(dead?.header.get(HEADERS.errorClass)).toBe('CANNOT_PARSE_ESCAPE_SEQUENCE');
    // The driver's error under ClickHouse's name: its class and message.
    expect(dead?.header.get(HEADERS.errorCause)).toMatch(/^\w*Error: Cannot parse escape sequence/);
    expect(dead?.header.get(HEADERS.errorDetail)).toContain('surrogate');
    expect(dead?.string()).toBe(new TextDecoder().decode(messages[4]?.data));
    expect(await streamCount(DLQ_STREAM)).toBe(1);
    expect(
      logs.find((l) => l.msg === 'ClickHouse refused rows of a batch; splitting it to find them'),
    ).toBeDefined();
  });

  test('a batch of which ClickHouse refuses every row as data, the table being as expected, is dead-lettered with the code', async () => {
    const hub = await startHub({ batchMaxWaitMs: 500 });
    const messages = [1, 2, 3].map((n) =>
      rawMessage(deployed({ id: `all-bad-${n}-\ud800` }), { instance: 'argo-eu', cluster: 'prod-eu' }),
    );
    await Promise.all(
      messages.map((m) => js.publish(m.subject, m.data, { headers: m.headers, msgID: m.msgId })),
    );
    await settled(3);
    expect(await streamCount(DLQ_STREAM)).toBe(3);
    const dead = await (await jetstreamManager(nc)).streams.getMessage(DLQ_STREAM, { seq: 1 });
    expect(dead?.header.get(HEADERS.errorClass)).toBe('CANNOT_PARSE_ESCAPE_SEQUENCE');
    // The driver's error under ClickHouse's name: its class and message.
    expect(dead?.header.get(HEADERS.errorCause)).toMatch(/^\w*Error: Cannot parse escape sequence/);
    expect(dead?.header.get(HEADERS.errorDetail)).toContain('(code 25)');
    expect(hub.stats().deadLetters).toBe(3);
    expect(hub.status().reasons).toEqual([]);
    expect(
      logs.find((l) =>
        (l.msg ?? '').startsWith(
          'ClickHouse refused every row of an insert as data and the table is as expected',
        ),
      ),
    ).toBeDefined();
  });

  test('a refused message too large to carry as a dead letter is truncated to fit, saying so; the flow goes on', async () => {
    await startHub({ maxEventBytes: 65_536 });
    const maxPayload = nc.info?.max_payload ?? 0;
    expect(maxPayload).toBeGreaterThan(65_536);
    // Fits the raw stream as published, but not with the dead letter's headers added.
    const shell = JSON.stringify({ ...deployed(), customData: { blob: '' } });
    const body = JSON.stringify({
      ...deployed(),
      customData: { blob: 'x'.repeat(maxPayload - 100 - Buffer.byteLength(shell)) },
    });
    await js.publish('cdevents.raw.argo-eu.service.deployed', body);
    await publishRaw(js, deployed(), { instance: 'argo-eu' });
    await settled(2);
    expect(await countEvents(store)).toEqual({ events: 1, rows: 1 });
    const dead = await (await jetstreamManager(nc)).streams.getMessage(DLQ_STREAM, { seq: 1 });
    expect(dead?.header.get(HEADERS.errorReason)).toBe('too-large');
    expect(dead?.header.get(HEADERS.originalBytes)).toBe(String(Buffer.byteLength(body)));
    const kept = dead?.string() ?? '';
    expect(kept.length).toBeGreaterThan(maxPayload / 2);
    expect(kept.length).toBeLessThan(Buffer.byteLength(body));
    expect(body.startsWith(kept)).toBe(true);
  });

  test('a bug on one message dead-letters that message as internal-error; the batch goes on', async () => {
    // A registry whose lookup throws for one instance stands in for any unexpected failure.
    const instances = new Map<string, InstanceEntry>();
    instances.get = (name: string) => {
      if (name === 'argo-boom') throw new TypeError('lookup exploded');
      return undefined;
    };
    await startHub({ registry: { clusters: new Map(), instances, strict: false } });
    await publishRaw(js, deployed(), { instance: 'argo-eu' });
    await publishRaw(js, deployed(), { instance: 'argo-boom' });
    await publishRaw(js, deployed(), { instance: 'argo-eu' });
    await settled(3);
    expect(await countEvents(store)).toEqual({ events: 2, rows: 2 });
    const dead = await (await jetstreamManager(nc)).streams.getMessage(DLQ_STREAM, { seq: 1 });
    expect(dead?.header.get(HEADERS.errorReason)).toBe('internal-error');
    expect(dead?.header.get(HEADERS.errorDetail)).toBe('lookup exploded');
    expect(logs.find((l) => l.msg === 'unexpected error on a message')).toBeDefined();
  });

  test('tags come from who published, never from the payload; strict registry refuses foreign destinations', async () => {
    const registry = buildRegistry({
      strict: true,
      clusters: {
        'prod-eu': { environment: 'production', team: 'payments' },
        'prod-us': { environment: 'production' },
      },
      instances: { 'argo-eu': { clusters: { 'in-cluster': 'prod-eu' } } },
    });
    await startHub({ registry });
    const spoofing = deployed({
      customData: { instance: 'argo-us', cluster: 'prod-us', labels: { team: 'evil' } },
    });
    await publishRaw(js, spoofing, { instance: 'argo-eu', cluster: 'in-cluster' });
    // A header naming a destination the registry does not give this instance.
    await publishRaw(js, deployed(), { instance: 'argo-eu', cluster: 'prod-us' });
    await settled(2);
    const [stored] = await searchEvents(store, {});
    expect(stored).toMatchObject({
      id: spoofing.context.id,
      instance: 'argo-eu',
      cluster: 'prod-eu',
      environment: 'production',
    });
    expect(await countEvents(store)).toEqual({ events: 1, rows: 1 });
    const dead = await (await jetstreamManager(nc)).streams.getMessage(DLQ_STREAM, { seq: 1 });
    expect(dead?.header.get(HEADERS.errorReason)).toBe('cluster-not-allowed');
  });

  test('while ClickHouse fails, nothing is acked; after it recovers, nothing is lost', async () => {
    let failures = 3;
    const flaky = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'insertEvents') {
          return async (...args: Parameters<Store['insertEvents']>) => {
            if (failures-- > 0) throw new Error('Code: 210. Connection refused (injected)');
            return target.insertEvents(...args);
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const hub = await startHub({ store: flaky });
    await Promise.all(Array.from({ length: 20 }, () => publishRaw(js, deployed(), { instance: 'argo-eu' })));
    await settled(20);
    expect(hub.stats().storeErrors).toBe(3);
    expect(await countEvents(store)).toEqual({ events: 20, rows: 20 });
    expect(logs.find((l) => l.msg === 'recovered' && l.what === 'insert into ClickHouse')).toBeDefined();
  });

  test('two replicas share one consumer: the work is split, nothing is stored twice', async () => {
    const a = await startHub({ batchSize: 10 });
    const b = await startHub({ batchSize: 10 });
    await Promise.all(Array.from({ length: 400 }, () => publishRaw(js, deployed(), { instance: 'argo-eu' })));
    await settled(400);
    expect(a.stats().consumed + b.stats().consumed).toBe(400);
    expect(a.stats().consumed).toBeGreaterThan(0);
    expect(b.stats().consumed).toBeGreaterThan(0);
    expect(await countEvents(store)).toEqual({ events: 400, rows: 400 });
    expect(await streamCount(UNIFIED_STREAM)).toBe(400);
  });

  test('a redelivered message already stored is not stored again, and is republished once', async () => {
    const event = deployed();
    // The previous holder stored it and crashed before acking: simulate the stored row.
    await startHub();
    await publishRaw(js, event, { instance: 'argo-eu' });
    await settled(1);
    const hub = hubs[0] as Hub;
    await hub.stop();
    hubs.length = 0;
    // Deliver it again as a redelivery: a fresh consumer from the start sees it with redelivered=false,
    // so instead replay through a new durable that starts after a nak.
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(RAW_STREAM, {
      durable_name: 'replay',
      ack_policy: 'explicit',
      ack_wait: 1_000_000_000,
    });
    const consumer = await js.consumers.get(RAW_STREAM, 'replay');
    const firstDelivery = await consumer.next();
    firstDelivery?.nak();
    const replay = await startHub({ consumerName: 'replay' });
    await waitFor(
      async () =>
        (await jsm.consumers.info(RAW_STREAM, 'replay')).num_ack_pending === 0 &&
        replay.stats().consumed === 1,
      {
        what: 'the redelivered message to be handled',
      },
    );
    expect(replay.stats().duplicates).toBe(1);
    expect(replay.stats().stored).toBe(0);
    expect(await countEvents(store)).toEqual({ events: 1, rows: 1 });
    expect(await streamCount(UNIFIED_STREAM)).toBe(1);
    expect(eventIdentity(event.context.source, event.context.id)).toHaveLength(32);
  });

  test('a message with unusual headers is still dead-lettered with its original headers', async () => {
    await startHub();
    const h = natsHeaders();
    h.set('X-Trace', 'abc');
    await js.publish('cdevents.raw.argo-eu.service.deployed', 'nope', { headers: h });
    await settled(1);
    const dead = await (await jetstreamManager(nc)).streams.getMessage(DLQ_STREAM, { seq: 1 });
    expect(dead?.header.get('X-Trace')).toBe('abc');
    expect(dead?.header.get(HEADERS.originalSubject)).toBe('cdevents.raw.argo-eu.service.deployed');
  });

  test('a header no client may publish again (a space in its name) does not stall its dead letter', async () => {
    await startHub();
    // nats-server passes header blocks through as they are; nats.js would refuse to build this one.
    const block = new TextEncoder().encode('NATS/1.0\r\nX Bad Name: 1\r\nX-Trace: abc\r\n\r\n');
    const raw = { encode: () => block } as unknown as MsgHdrs;
    nc.publish('cdevents.raw.argo-eu.service.deployed', 'nope', { headers: raw });
    await publishRaw(js, deployed(), { instance: 'argo-eu' });
    await settled(2);
    expect(await countEvents(store)).toEqual({ events: 1, rows: 1 });
    const dead = await (await jetstreamManager(nc)).streams.getMessage(DLQ_STREAM, { seq: 1 });
    expect(dead?.header.get(HEADERS.errorReason)).toBe('malformed-json');
    expect(dead?.header.get('X-Trace')).toBe('abc');
    expect(dead?.header.get(HEADERS.droppedHeaders)).toBe('["X Bad Name"]');
  });
});
