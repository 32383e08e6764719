/**
 * What one producer or one batch may cost the hub (adversarial review 2, findings 1, 4, 12, 13, 17),
 * each attack run against a real nats-server and the embedded ClickHouse: no batch may stop storage
 * for everyone, and readiness says when the pipeline is not getting through.
 */
import {
  DLQ_STREAM,
  HEADERS,
  HUB_CONSUMER,
  publishRaw,
  RAW_STREAM,
  rawMessage,
  UNIFIED_STREAM,
} from '@argus/bus';
import { type CDEvent, createEvent, TimeRange } from '@argus/cdevents';
import { countEvents, MIGRATIONS, Store } from '@argus/store';
import { captureLogs, clickHouseTarget, NatsServer, randomDatabase, waitFor } from '@argus/testkit';
import { DiscardPolicy, type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { HubConfig } from '../src/hub.js';
import { Hub } from '../src/index.js';
import { failInsertsUntil } from '../src/pipeline/failpoints.js';

const DAY_MS = 86_400_000;
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

beforeEach(async () => {
  const jsm = await jetstreamManager(nc);
  for (const stream of [RAW_STREAM, UNIFIED_STREAM, DLQ_STREAM])
    await jsm.streams.delete(stream).catch(() => undefined);
  store = await Store.open({
    ...clickHouseTarget(),
    database: randomDatabase('bounds'),
    logger: logs.logger,
  });
});

afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.stop()));
  await store.command(`DROP DATABASE IF EXISTS ${store.database}`);
  await store.close();
});

const startHub = async (config: Partial<HubConfig> = {}) => {
  const hub = new Hub({ nc, store, logger: logs.logger, batchSize: 500, batchMaxWaitMs: 200, ...config });
  await hub.start();
  hubs.push(hub);
  return hub;
};

let seq = 0;
const deployed = (timestamp: string, id = `ev-${++seq}`): CDEvent =>
  createEvent({
    type: 'service.deployed',
    id,
    source: '/argocd/prod-eu/podinfo/podinfo',
    timestamp,
    subject: {
      id: 'podinfo',
      content: { environment: { id: 'prod-eu/podinfo' }, artifactId: 'pkg:oci/podinfo' },
    },
  });
const now = () => new Date().toISOString();

const streamCount = async (stream: string) =>
  (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;

const settled = async (expected: number, timeoutMs = 30_000) => {
  await waitFor(
    async () => {
      const info = await (await jetstreamManager(nc)).consumers.info(RAW_STREAM, HUB_CONSUMER);
      return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= expected;
    },
    { what: `the hub consumer to ack all ${expected} messages`, timeoutMs },
  );
};

/** Recreates the events table as the migrations make it (after a test broke it). */
const recreateTable = async () => {
  for (const migration of MIGRATIONS)
    for (const statement of migration.statements)
      await store.command(statement.replaceAll('{db}', store.database));
};

describe('one batch cannot stop storage for everyone', () => {
  test('150 valid events over 150 months in one batch are stored, and so are the events behind them (finding 1)', async () => {
    // A 12.5-year backfill, accepted by an operator who widened the range.
    const hub = await startHub({ timeRange: new TimeRange({ maxAgeMs: 50 * 365 * DAY_MS }) });
    const history = Array.from({ length: 150 }, (_, i) =>
      deployed(`${1990 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-15T10:00:00Z`),
    );
    // Concurrently, so that they land in one batch (before: code 252, retried for ever).
    await Promise.all(history.map((e) => publishRaw(js, e, { instance: 'argo-eu', cluster: 'prod-eu' })));
    const current = Array.from({ length: 10 }, () => deployed(now()));
    await Promise.all(current.map((e) => publishRaw(js, e, { instance: 'argo-us', cluster: 'prod-us' })));
    await settled(160);
    expect(await countEvents(store)).toEqual({ events: 160, rows: 160 });
    expect(await streamCount(UNIFIED_STREAM)).toBe(160);
    expect(await streamCount(DLQ_STREAM)).toBe(0);
    expect(
      logs.find((l) => (l.msg ?? '').startsWith('batch spans more months than one insert may')),
    ).toBeDefined();
    expect(logs.find((l) => String((l.err as { type?: string })?.type) === 'TOO_MANY_PARTS')).toBeUndefined();
    expect(hub.status().reasons).toEqual([]);
  });

  test('events dated beyond the accepted range are dead-lettered as timestamp-out-of-range; the rest is stored (finding 17)', async () => {
    await startHub();
    const refused = [
      deployed('2299-12-31T23:59:59Z'), // would be "newest" for ever
      deployed(new Date(Date.now() + 2 * DAY_MS).toISOString()),
      deployed(new Date(Date.now() - 401 * DAY_MS).toISOString()),
      deployed('1990-01-15T10:00:00Z'),
    ];
    const accepted = [deployed(now()), deployed(new Date(Date.now() - 399 * DAY_MS).toISOString())];
    for (const e of [...refused, ...accepted]) await publishRaw(js, e, { instance: 'argo-eu' });
    await settled(6);
    expect(await countEvents(store)).toEqual({ events: 2, rows: 2 });
    expect(await streamCount(DLQ_STREAM)).toBe(4);
    const jsm = await jetstreamManager(nc);
    for (let s = 1; s <= 4; s++) {
      const dead = await jsm.streams.getMessage(DLQ_STREAM, { seq: s });
      expect(dead?.header.get(HEADERS.errorReason)).toBe('timestamp-out-of-range');
      expect(dead?.header.get(HEADERS.errorClass)).toBe('TimestampOutOfRangeError');
      expect(dead?.header.get(HEADERS.errorDetail)).toMatch(
        /outside the accepted range \d{4}-.*Z to \d{4}-.*Z/,
      );
    }
  });

  test('a missing table makes the hub not ready at once, and ready again once inserts succeed (findings 12, 13)', async () => {
    const hub = await startHub({ stallAfterMs: 60_000 });
    await store.command(`DROP TABLE ${store.table('cdevents')}`);
    await publishRaw(js, deployed(now()), { instance: 'argo-eu' });
    await waitFor(() => hub.status().reasons.some((r) => r.includes('UNKNOWN_TABLE')), {
      what: 'readiness to report the missing table',
      timeoutMs: 15_000,
    });
    // The first stage to reach ClickHouse (the lookup of repeats, then the insert) reports it.
    expect(hub.status().reasons[0]).toMatch(
      /^(look up repeated events|insert into ClickHouse): refused by ClickHouse for a schema.*UNKNOWN_TABLE.*an operator must act$/,
    );
    expect(
      logs.find((l) =>
        (l.msg ?? '').startsWith('ClickHouse refuses the hub for a schema, settings or storage problem'),
      ),
    ).toBeDefined();
    expect(await streamCount(DLQ_STREAM)).toBe(0);
    await recreateTable();
    await settled(1);
    expect(await countEvents(store)).toEqual({ events: 1, rows: 1 });
    expect(hub.status().reasons).toEqual([]);
  });

  test('a column altered under the hub is a schema problem, not bad events: nothing is dead-lettered, readiness says so', async () => {
    const hub = await startHub({ stallAfterMs: 60_000 });
    // Every row now fails to parse (a data error code): only the table check tells it is the table.
    await store.command(`ALTER TABLE ${store.table('cdevents')} MODIFY COLUMN artifact_id UInt64`);
    await Promise.all([1, 2, 3].map(() => publishRaw(js, deployed(now()), { instance: 'argo-eu' })));
    await waitFor(() => hub.status().reasons.some((r) => r.includes('SchemaMismatchError')), {
      what: 'readiness to report the altered column',
      timeoutMs: 15_000,
    });
    expect(hub.status().reasons[0]).toContain('column artifact_id is UInt64, expected String');
    expect(await streamCount(DLQ_STREAM)).toBe(0);
    await store.command(`ALTER TABLE ${store.table('cdevents')} MODIFY COLUMN artifact_id String`);
    await settled(3);
    expect(await countEvents(store)).toEqual({ events: 3, rows: 3 });
    expect(await streamCount(DLQ_STREAM)).toBe(0);
    expect(hub.status().reasons).toEqual([]);
  });

  test('inserts failing for longer than stallAfterMs make the hub not ready; it is ready again when they succeed (finding 13)', async () => {
    const hub = await startHub({ stallAfterMs: 1000, failpoints: failInsertsUntil(Date.now() + 4000) });
    await publishRaw(js, deployed(now()), { instance: 'argo-eu' });
    await waitFor(
      () => hub.status().reasons.some((r) => /^insert into ClickHouse: failing for \d+ s/.test(r)),
      {
        what: 'readiness to report failing inserts',
        timeoutMs: 10_000,
      },
    );
    await settled(1);
    expect(await countEvents(store)).toEqual({ events: 1, rows: 1 });
    expect(hub.status().reasons).toEqual([]);
  });

  test('a hub stopped while a failing insert waits seconds before its next attempt stops at once; the event stays for redelivery', async () => {
    const hub = await startHub({ stallAfterMs: 1000, failpoints: failInsertsUntil(Date.now() + 600_000) });
    hubs.splice(hubs.indexOf(hub), 1);
    await publishRaw(js, deployed(now()), { instance: 'argo-eu' });
    // Five failed attempts: the next wait is about 4 s (250 ms doubling), then 8 s.
    await waitFor(
      () => hub.status().reasons.some((r) => /^insert into ClickHouse: .* [5-9] attempts/.test(r)),
      {
        what: 'five failed inserts',
        timeoutMs: 20_000,
      },
    );
    const started = Date.now();
    await hub.stop();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(hub.stats().stored).toBe(0);
    const info = await (await jetstreamManager(nc)).consumers.info(RAW_STREAM, HUB_CONSUMER);
    expect(info.num_ack_pending + info.num_pending).toBe(1);
  });

  test('a flood of 900 KB messages is held within the byte budget; another agent is stored meanwhile (finding 4)', async () => {
    const budget = 8 * 1024 * 1024;
    const hub = await startHub({ maxInFlightBytes: budget, batchSize: 2000 });
    const junk = new Uint8Array(900 * 1024).fill(0x7b); // '{{{{...': malformed JSON
    const flood = 120;
    const publishing = (async () => {
      for (let i = 0; i < flood; i++) await js.publish('cdevents.raw.argo-eu.service.deployed', junk);
    })();
    const victims = Array.from({ length: 20 }, () => deployed(now()));
    for (const e of victims) await publishRaw(js, e, { instance: 'argo-us', cluster: 'prod-us' });
    await publishing;
    await settled(flood + victims.length, 60_000);
    expect(await countEvents(store)).toEqual({ events: 20, rows: 20 });
    expect(await streamCount(DLQ_STREAM)).toBe(flood);
    const { peak, limit } = hub.inFlightBytes();
    expect(limit).toBe(budget);
    // Over by at most the message that crossed the limit (before: every unacked message, 8,000 of them).
    expect(peak).toBeGreaterThan(budget / 2);
    expect(peak).toBeLessThanOrEqual(budget + junk.length);
    expect(hub.inFlightBytes().held).toBe(0);
  });

  test('an event sent again after a hub restart and past the duplicate window is not republished (finding 8)', async () => {
    const first = await startHub();
    const jsm = await jetstreamManager(nc);
    // 15 minutes gone by, in 2.5 s: a duplicate window of 1 s meanwhile (the hub starts only on
    // streams with at least 10 minutes, so it is set back before the second hub starts).
    const setWindow = async (ns: number) => {
      for (const name of [RAW_STREAM, UNIFIED_STREAM]) {
        const info = await jsm.streams.info(name);
        await jsm.streams.update(name, { ...info.config, duplicate_window: ns });
      }
    };
    const agentEvent = deployed(now());
    // A producer without message ids (cdviz, any CDEvents tool): JetStream's window never applies.
    const bare = rawMessage(deployed(now()), { instance: 'cdviz' });
    bare.headers.delete(HEADERS.msgId);
    const publishBoth = async () => {
      const ack = await publishRaw(js, agentEvent, { instance: 'argo-eu' });
      await js.publish(bare.subject, bare.data, { headers: bare.headers });
      return ack;
    };
    await publishBoth();
    await settled(2);
    expect(await streamCount(UNIFIED_STREAM)).toBe(2);
    await first.stop();
    hubs.splice(hubs.indexOf(first), 1);
    await setWindow(1_000_000_000);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await setWindow(600_000_000_000);
    // A new hub (its recent-identity cache empty); both are sent again, as an agent that lost its
    // progress would, and the raw stream takes them (the window has passed).
    const second = await startHub();
    expect((await publishBoth()).duplicate).toBe(false);
    await settled(4);
    expect(await streamCount(UNIFIED_STREAM)).toBe(2);
    expect(await countEvents(store)).toEqual({ events: 2, rows: 2 });
    expect(second.stats()).toMatchObject({ consumed: 2, stored: 0, duplicates: 2, republished: 0 });
  });

  test('while the unified stream is full, stored events wait; once it has room they are republished, once, without a restart (finding 19)', async () => {
    const hub = await startHub({ stallAfterMs: 1000 });
    const jsm = await jetstreamManager(nc);
    const full = async (maxMsgs: number) => {
      const info = await jsm.streams.info(UNIFIED_STREAM);
      await jsm.streams.update(UNIFIED_STREAM, {
        ...info.config,
        max_msgs: maxMsgs,
        discard: DiscardPolicy.New,
      });
    };
    await publishRaw(js, deployed(now()), { instance: 'argo-eu' });
    await settled(1);
    // Full: JetStream refuses new messages, as when the store or an account limit is reached.
    await full(1);
    await Promise.all([1, 2, 3].map(() => publishRaw(js, deployed(now()), { instance: 'argo-eu' })));
    await waitFor(
      () => hub.status().reasons.some((r) => r.startsWith('republish on CDEVENTS: failing for')),
      {
        what: 'readiness to report the republish failing',
        timeoutMs: 15_000,
      },
    );
    expect(await countEvents(store)).toEqual({ events: 4, rows: 4 });
    expect(await streamCount(UNIFIED_STREAM)).toBe(1);
    await full(-1);
    await settled(4);
    expect(await streamCount(UNIFIED_STREAM)).toBe(4);
    expect(hub.status().reasons).toEqual([]);
    expect(hub.stats()).toMatchObject({ stored: 4, republished: 4 });
  });
});
