/**
 * Every kind of the bad-input corpus through the three entry points, on a real nats-server, a real
 * hub (embedded ClickHouse) and a real webhook agent: each is refused with its reason (HTTP status
 * or dead letter), neither process stops being ready, and the valid events sent in between are all
 * stored exactly once while nothing invalid is.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_OPTIONS, type RunningAgent, runAgent } from '@argus/agent';
import { DLQ_STREAM, HEADERS, HUB_CONSUMER, publishRaw, RAW_STREAM } from '@argus/bus';
import { serialize } from '@argus/cdevents';
import { HUB_OPTIONS, INGEST_PATH, type RunningHub, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import { countEvents } from '@argus/store';
import { captureLogs, clickHouseTarget, NatsServer, randomDatabase, waitFor } from '@argus/testkit';
import {
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  type StoredMsg,
} from '@nats-io/jetstream';
import { type NatsConnection, headers as natsHeaders } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type BadInputCase,
  buildCorpus,
  CORPUS_SOURCE_PREFIX,
  type CorpusContext,
  deployedEvent,
  ENTRY_POINTS,
  type EntryPoint,
  type Expected,
  type HttpProbe,
  type RawProbe,
} from './corpus.js';

const WEBHOOK_PATH = '/api/v1/notifications';
const WEBHOOK_TOKEN = randomBytes(16).toString('hex');
const INGEST_TOKEN = randomBytes(16).toString('hex');

const CTX: CorpusContext = {
  rawInstance: 'argo-eu',
  rawCluster: 'prod-eu',
  webhookInstance: 'argo-wh',
  webhookCluster: 'wh-cluster',
  ingestProducer: 'ci',
  otherInstance: 'argo-us',
  otherCluster: 'prod-us',
  maxEventBytes: 524_288,
};

const REGISTRY = `strict: true
clusters:
  ${CTX.rawCluster}: { environment: production }
  ${CTX.otherCluster}: { environment: production }
  ${CTX.webhookCluster}: { environment: staging }
# Every entry point sends the corpus's events, whose source (${CORPUS_SOURCE_PREFIX}) all three own.
instances:
  ${CTX.rawInstance}: { architecture: distributed, clusters: [${CTX.rawCluster}], sources: [${CORPUS_SOURCE_PREFIX}] }
  ${CTX.webhookInstance}: { architecture: distributed, clusters: [${CTX.webhookCluster}], sources: [${CORPUS_SOURCE_PREFIX}] }
  ${CTX.ingestProducer}: { sources: [${CORPUS_SOURCE_PREFIX}] }
`;

const hubLogs = captureLogs({ level: 'info' });
const agentLogs = captureLogs({ level: 'info' });
let server: NatsServer;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let hub: RunningHub;
let agent: RunningAgent;
let dir: string;

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await server.connect();
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  dir = mkdtempSync(join(tmpdir(), 'argus-bad-input-'));
  writeFileSync(join(dir, 'registry.yaml'), REGISTRY);
  const target = clickHouseTarget();
  hub = await runHub(
    parseOptions(HUB_OPTIONS, {
      flags: {
        nats: server.url,
        ...(target.url === undefined ? { dataDir: target.dataDir } : { clickhouseUrl: target.url }),
        database: randomDatabase('bad_input'),
        registry: join(dir, 'registry.yaml'),
        httpListen: '127.0.0.1:0',
        grpcListen: '127.0.0.1:0',
        ingestTokens: `${CTX.ingestProducer}=${INGEST_TOKEN}`,
        maxEventBytes: String(CTX.maxEventBytes),
        batchMaxWait: '20ms',
        logLevel: 'info',
      },
      env: {},
    }),
    hubLogs.destination,
  );
  agent = await runAgent(
    parseOptions(AGENT_OPTIONS, {
      flags: {
        instance: CTX.webhookInstance,
        source: 'webhook',
        nats: server.url,
        listen: '127.0.0.1:0',
        cluster: CTX.webhookCluster,
        webhookToken: WEBHOOK_TOKEN,
        spoolDir: join(dir, 'spool'),
        maxEventBytes: String(CTX.maxEventBytes),
        logLevel: 'info',
      },
      env: {},
    }),
    agentLogs.destination,
  );
});

afterAll(async () => {
  await agent?.shutdown.shutdown('test done');
  if (hub !== undefined) {
    await hub.store.command(`DROP DATABASE IF EXISTS ${hub.store.database}`).catch(() => undefined);
    await hub.shutdown.shutdown('test done');
  }
  await nc?.close();
  await server?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

interface HttpResult {
  readonly status: number;
  readonly json: Record<string, unknown> | undefined;
  readonly error?: string;
}

const endpoint = (entry: 'webhook' | 'ingest') =>
  entry === 'webhook'
    ? { port: agent.http.address.port, path: WEBHOOK_PATH, token: WEBHOOK_TOKEN }
    : { port: hub.http.address.port, path: INGEST_PATH, token: INGEST_TOKEN };

/** One request over node:http, so chunking, headers and bytes are exactly what the probe says. */
const send = (entry: 'webhook' | 'ingest', probe: HttpProbe): Promise<HttpResult> => {
  const { port, path, token } = endpoint(entry);
  const headers: Record<string, string> = { ...probe.headers };
  if (probe.auth !== 'missing') headers.authorization = `Bearer ${probe.auth === 'wrong' ? 'nope' : token}`;
  if (probe.chunked !== true) headers['content-length'] = String(probe.body.byteLength);
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: HttpResult) => {
      if (!settled) resolve(result);
      settled = true;
    };
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: probe.method ?? 'POST', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => undefined);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          done({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      done({ status: 0, json: undefined, error: err.code ?? err.message }),
    );
    if (probe.chunked === true) {
      void (async () => {
        for (let at = 0; at < probe.body.byteLength && !req.destroyed; at += 65_536) {
          if (!req.write(probe.body.subarray(at, at + 65_536))) {
            await new Promise<void>((r) => {
              req.once('drain', r);
              req.once('close', r);
            });
          }
        }
        req.end();
      })();
    } else req.end(probe.body);
  });
};

const publishProbe = async (probe: RawProbe) => {
  const h = natsHeaders();
  for (const [name, value] of Object.entries(probe.headers)) h.set(name, value);
  return js.publish(probe.subject, probe.data, { headers: h });
};

/** Reads CDEVENTS_DLQ in sequence order as it grows. */
const deadLetters: StoredMsg[] = [];
let dlqNext = 1;
const readDeadLetters = async (): Promise<void> => {
  const { state } = await jsm.streams.info(DLQ_STREAM);
  for (; dlqNext <= state.last_seq; dlqNext++) {
    const m = await jsm.streams.getMessage(DLQ_STREAM, { seq: dlqNext });
    if (m !== null) deadLetters.push(m);
  }
};
const deadLetter = (what: string, match: (m: StoredMsg) => boolean): Promise<StoredMsg> =>
  waitFor(
    async () => {
      await readDeadLetters();
      return deadLetters.find(match);
    },
    { what: `the dead letter of ${what}`, timeoutMs: 15_000 },
  );

const ready = async (port: number): Promise<number> =>
  (await fetch(`http://127.0.0.1:${port}/readyz`)).status;

const validIds: string[] = [];
const sendValid = async (entry: EntryPoint): Promise<void> => {
  const id = `valid-${entry}-${validIds.length + 1}`;
  const event = deployedEvent(id);
  if (entry === 'raw') {
    const ack = await publishRaw(js, event, { instance: CTX.rawInstance });
    expect(ack.duplicate).toBe(false);
  } else {
    const result = await send(entry, {
      headers: { 'content-type': 'application/json' },
      body: new TextEncoder().encode(serialize(event)),
    });
    expect(result.status, `valid event ${id} through ${entry}: ${result.error ?? ''}`).toBe(202);
  }
  validIds.push(id);
};

/** What each probe must end up as in the store: spoofs accepted with the right tags. */
const expectedStored = new Map<string, { instance: string; cluster: string }>();
let expectedDeadLetters = 0;

const checkDeadLetter = (m: StoredMsg, expected: Extract<Expected, { dlq: unknown }>, where: string) => {
  expect.soft(m.header.get(HEADERS.errorReason), `${where}: reason`).toBe(expected.dlq);
  expect.soft(m.header.get(HEADERS.errorClass), `${where}: class`).toBe(expected.errorClass);
  expect.soft(m.header.get(HEADERS.errorDetail), `${where}: detail`).toContain(expected.detail);
  expect.soft(m.header.get(HEADERS.errorDetail).length, `${where}: detail length`).toBeLessThanOrEqual(1024);
};

/** Sends one probe, checks its outcome, and returns the table cell. */
const run = async (kase: BadInputCase, entry: EntryPoint): Promise<string> => {
  const probe = kase[entry];
  const where = `${kase.kind} via ${entry}`;
  if ('notApplicable' in probe) return 'n/a';
  const { expect: expected } = probe;
  if (entry === 'raw') {
    const input = probe.input as RawProbe;
    const ack = await publishProbe(input);
    if ('dlq' in expected) {
      expectedDeadLetters++;
      const m = await deadLetter(where, (d) => d.header.get(HEADERS.originalSequence) === String(ack.seq));
      checkDeadLetter(m, expected, where);
      expect.soft(Buffer.from(m.data).equals(Buffer.from(input.data)), `${where}: original bytes`).toBe(true);
      expect.soft(m.header.get(HEADERS.originalSubject), `${where}: original subject`).toBe(input.subject);
      return `DLQ ${m.header.get(HEADERS.errorReason)}`;
    }
    if ('stored' in expected) {
      expectedStored.set(expected.eventId, expected.stored);
      return `stored ${expected.stored.instance}/${expected.stored.cluster || "''"}`;
    }
    throw new Error(`${where}: the raw stream cannot answer HTTP`);
  }
  const result = await send(entry, probe.input as HttpProbe);
  if ('http' in expected) {
    expect
      .soft(result.status, `${where}: status (${JSON.stringify(result.json ?? result.error)})`)
      .toBe(expected.http);
    expect.soft(String(result.json?.error), `${where}: error text`).toContain(expected.text);
    if (expected.reason !== undefined)
      expect.soft(result.json?.reason, `${where}: reason`).toBe(expected.reason);
    return `${result.status || result.error} ${String(result.json?.reason ?? '')}`.trim();
  }
  expect
    .soft(result.status, `${where}: accepted for the hub to judge (${JSON.stringify(result.json)})`)
    .toBe(202);
  if ('dlq' in expected) {
    expectedDeadLetters++;
    const id = expected.eventId;
    const m = await deadLetter(where, (d) => d.header.get('ce-id') === id);
    checkDeadLetter(m, expected, where);
    return `${result.status} -> DLQ ${m.header.get(HEADERS.errorReason)}`;
  }
  expectedStored.set(expected.eventId, expected.stored);
  return `${result.status} -> stored ${expected.stored.instance}/${expected.stored.cluster || "''"}`;
};

const printTable = (rows: readonly (readonly string[])[]) => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
  console.log(
    [line(rows[0] ?? []), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.slice(1).map(line)].join(
      '\n',
    ),
  );
};

describe('bad input through the webhook, the ingest and the raw stream', () => {
  test('each kind is refused with its reason, both processes stay ready, valid events in between are stored once', async () => {
    const corpus = buildCorpus(CTX);
    expect(corpus.length).toBeGreaterThanOrEqual(20);
    const table: string[][] = [['kind', ...ENTRY_POINTS]];
    for (const kase of corpus) {
      const row = [kase.kind];
      for (const entry of ENTRY_POINTS) {
        await sendValid(entry);
        row.push(await run(kase, entry));
        await sendValid(entry);
        expect
          .soft(await ready(hub.http.address.port), `hub ready after ${kase.kind} via ${entry}`)
          .toBe(200);
        expect
          .soft(await ready(agent.http.address.port), `agent ready after ${kase.kind} via ${entry}`)
          .toBe(200);
      }
      table.push(row);
    }
    printTable(table);

    // Everything valid (and every spoof, re-tagged) stored once; nothing bad stored at all.
    const total = validIds.length + expectedStored.size;
    await waitFor(async () => (await countEvents(hub.store)).events >= total, {
      what: `${total} events stored`,
      timeoutMs: 30_000,
    });
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(RAW_STREAM, HUB_CONSUMER);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { what: 'the hub to ack all of CDEVENTS_RAW' },
    );
    const rows = await hub.store.rows<{ id: string; instance: string; cluster: string; n: string | number }>(
      `SELECT id, instance, cluster, count() AS n FROM ${hub.store.table('cdevents')} GROUP BY id, instance, cluster`,
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
    expect(byId.size).toBe(rows.length);
    for (const id of validIds) expect.soft(byId.has(id), `valid event ${id} stored`).toBe(true);
    const tagsOf = (id: string) => ({ instance: byId.get(id)?.instance, cluster: byId.get(id)?.cluster });
    for (const [id, tags] of expectedStored) expect.soft(tagsOf(id), `tags of ${id}`).toEqual(tags);
    expect(validIds.filter((id) => id.startsWith('valid-raw')).map(tagsOf)).toContainEqual({
      instance: CTX.rawInstance,
      cluster: CTX.rawCluster,
    });
    const unexpected = rows
      .map((r) => r.id)
      .filter((id) => !validIds.includes(id) && !expectedStored.has(id));
    expect(unexpected).toEqual([]);
    expect(rows).toHaveLength(total);

    // The dead-letter stream holds exactly the refusals: no valid event ended there.
    await readDeadLetters();
    expect(deadLetters).toHaveLength(expectedDeadLetters);
    expect(hub.hub.stats().deadLetters).toBe(expectedDeadLetters);

    // Refusals are logged, tokens never.
    for (const logs of [hubLogs, agentLogs]) {
      expect(logs.text()).not.toContain(WEBHOOK_TOKEN);
      expect(logs.text()).not.toContain(INGEST_TOKEN);
    }
  });
});
