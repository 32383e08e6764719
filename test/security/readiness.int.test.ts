/**
 * Adversarial review 2, finding 13 and issue 12 item 4 through a whole hub (runHub), a real
 * nats-server this test stops and starts again, and the embedded ClickHouse: /readyz turns not ready
 * within seconds while NATS is away (the client is reconnecting, not closed) and while ClickHouse
 * cannot answer a query about the events table, with no event arriving to fail an insert; ready again
 * once each is back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HUB_OPTIONS, type RunningHub, runHub } from '@argus/hub';
import { parseOptions } from '@argus/runtime';
import { MIGRATIONS } from '@argus/store';
import { captureLogs, NatsServer, waitFor } from '@argus/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'argus-readiness-'));
/** "Within seconds": the reconnect wait is 1 s and the store probe runs every 2 s. */
const TURN_WITHIN_MS = 5_000;
let nats: NatsServer;
let hub: RunningHub;
let base: string;
const logs = captureLogs({ level: 'info' });

beforeAll(async () => {
  nats = await NatsServer.start({ keepStore: true });
  hub = await runHub(
    parseOptions(HUB_OPTIONS, {
      flags: {
        nats: nats.url,
        dataDir: join(dir, 'hub'),
        httpListen: '127.0.0.1:0',
        grpcListen: '127.0.0.1:0',
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
  rmSync(nats?.storeDir ?? dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

const readyz = async () => {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; reasons: string[] } };
};

describe('/readyz tells the truth', () => {
  test('not ready within seconds of NATS going away, ready again after the reconnect', async () => {
    await waitFor(async () => (await readyz()).status === 200, { what: 'the hub to be ready' });
    await nats.stop();
    const stoppedAt = Date.now();
    await waitFor(async () => (await readyz()).status === 503, {
      what: '/readyz to turn not ready without NATS',
      timeoutMs: TURN_WITHIN_MS,
    });
    const elapsedMs = Date.now() - stoppedAt;
    expect(elapsedMs).toBeLessThan(TURN_WITHIN_MS);
    const { body } = await readyz();
    expect(body.reasons.join('\n')).toMatch(/^nats: disconnected for \d+ s, reconnecting/);
    // The client is not closed: it keeps reconnecting (the old check, isClosed(), said ready here).
    expect(hub.nc.isClosed()).toBe(false);
    await nats.restart();
    await waitFor(async () => (await readyz()).status === 200, {
      what: '/readyz to be ready again after the reconnect',
      timeoutMs: 30_000,
    });
  });

  test('not ready within seconds when ClickHouse cannot answer about the events table, with no event arriving', async () => {
    await hub.store.command(`DROP TABLE ${hub.store.table('cdevents')}`);
    const droppedAt = Date.now();
    await waitFor(async () => (await readyz()).status === 503, {
      what: '/readyz to turn not ready without the events table',
      timeoutMs: TURN_WITHIN_MS,
    });
    expect(Date.now() - droppedAt).toBeLessThan(TURN_WITHIN_MS);
    const { body } = await readyz();
    expect(body.reasons.join('\n')).toMatch(/clickhouse: .*cdevents/i);
    for (const migration of MIGRATIONS)
      for (const statement of migration.statements)
        await hub.store.command(statement.replaceAll('{db}', hub.store.database));
    await waitFor(async () => (await readyz()).status === 200, {
      what: '/readyz to be ready again once the table is back',
      timeoutMs: TURN_WITHIN_MS,
    });
  });
});
