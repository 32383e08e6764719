/**
 * Adversarial review 2, findings 1, 13 and 17 through a whole hub (runHub: options, HTTP ingest,
 * /readyz), a real nats-server and the embedded ClickHouse: a plausible backfill through the ingest
 * no longer stops storage for everyone, a far-future event is refused, and /readyz follows the
 * pipeline (not ready while the table is missing, ready again once inserts succeed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishRaw } from '@argus/bus';
import { type CDEvent, createEvent, toHttpBatch } from '@argus/cdevents';
import { HUB_OPTIONS, type RunningHub, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import { countEvents, MIGRATIONS } from '@argus/store';
import { captureLogs, NatsServer, waitFor } from '@argus/testkit';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'argus-bounds-'));
const TOKEN = 'ci-token';
let nats: NatsServer;
let hub: RunningHub;
let base: string;
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
        ingestTokens: `ci=${TOKEN}`,
        batchMaxWait: '200ms',
        // An operator who accepts a backfill of the last 20 years.
        maxEventAge: '7300d',
        stallAfter: '1s',
      },
      env: {},
    }),
    logs.destination,
  );
  base = `http://${hub.http.address.host}:${hub.http.address.port}`;
});

afterAll(async () => {
  await hub?.shutdown.shutdown('test done');
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
const deployed = (timestamp: string): CDEvent =>
  createEvent({
    type: 'service.deployed',
    id: `bounds-${++seq}`,
    source: '/ci/payments',
    timestamp,
    subject: { id: 'payments', content: { environment: { id: 'prod' }, artifactId: 'pkg:oci/payments' } },
  });

const ingest = async (events: CDEvent[]) => {
  const batch = toHttpBatch(events);
  const res = await fetch(`${base}/api/v1/events`, {
    method: 'POST',
    headers: { ...batch.headers, authorization: `Bearer ${TOKEN}` },
    body: batch.body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const readyz = async () => {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; reasons: string[] } };
};

describe('bounds through a whole hub', () => {
  test('a backfill of 101 months in one ingest request is stored, and so is an agent event behind it (finding 1)', async () => {
    const backfill = Array.from({ length: 101 }, (_, i) =>
      deployed(`${2010 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-15T10:00:00Z`),
    );
    expect(await ingest(backfill)).toMatchObject({ status: 202, body: { accepted: 101 } });
    await publishRaw(jetstream(hub.nc), deployed(new Date().toISOString()), { instance: 'argo-eu' });
    await waitFor(async () => (await countEvents(hub.store)).events === 102, {
      what: 'the backfill and the agent event to be stored',
      timeoutMs: 30_000,
    });
    expect(hub.hub.stats().deadLetters).toBe(0);
    expect(await readyz()).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  test('an event dated 2299 is refused at the ingest with the accepted range (finding 17)', async () => {
    const refused = await ingest([deployed(new Date().toISOString()), deployed('2299-12-31T23:59:59Z')]);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ reason: 'timestamp-out-of-range' });
    expect(String(refused.body.error)).toMatch(
      /^batch item 1: context.timestamp "2299-12-31T23:59:59Z" is outside/,
    );
  });

  test('/readyz is not ready while inserts fail for a missing table, and ready again once they succeed (finding 13)', async () => {
    const before = (await countEvents(hub.store)).events;
    await hub.store.command(`DROP TABLE ${hub.store.table('cdevents')}`);
    expect((await ingest([deployed(new Date().toISOString())])).status).toBe(202);
    // The store probe may say so first (its own question finds the table gone); the pipeline's
    // reason, the failing lookup or insert, must follow.
    const pipelineReason =
      /(look up repeated events|insert into ClickHouse): .*UNKNOWN_TABLE.*an operator must act/;
    await waitFor(
      async () => {
        const { status, body } = await readyz();
        return status === 503 && pipelineReason.test(body.reasons.join('\n'));
      },
      { what: "/readyz to turn not ready with the pipeline's reason", timeoutMs: 15_000 },
    );
    const { body } = await readyz();
    expect(body.status).not.toBe('ready');
    expect(body.reasons.join('\n')).toMatch(pipelineReason);
    for (const migration of MIGRATIONS)
      for (const statement of migration.statements)
        await hub.store.command(statement.replaceAll('{db}', hub.store.database));
    await waitFor(async () => (await readyz()).status === 200, {
      what: '/readyz to be ready again',
      timeoutMs: 30_000,
    });
    // The table was recreated empty: the event that waited is the only one in it.
    expect((await countEvents(hub.store)).events).toBe(1);
    expect(before).toBe(102);
  });
});
