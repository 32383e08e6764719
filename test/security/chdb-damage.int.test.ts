/**
 * Adversarial review 2, finding 12: a damaged part of the embedded ClickHouse (its data.bin
 * truncated between two starts of a hub process) is detached by ClickHouse at start and its events
 * vanish. The hub now says so at error level, with what to do, and in `argus_hub_store_broken_parts`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, toHttpBatch } from '@argus/cdevents';
import { ArgusProcess, freePort, NatsServer, waitFor } from '@argus/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'argus-chdb-damage-'));
const TOKEN = 'ci-token';
let nats: NatsServer;

beforeAll(async () => {
  nats = await NatsServer.start();
});

afterAll(async () => {
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const startHub = async (port: number) => {
  const hub = new ArgusProcess([
    'hub',
    '--nats',
    nats.url,
    '--data-dir',
    join(dir, 'hub'),
    '--http-listen',
    `127.0.0.1:${port}`,
    '--grpc-listen',
    '127.0.0.1:0',
    '--ingest-tokens',
    `ci=${TOKEN}`,
    '--batch-max-wait',
    '50ms',
  ]);
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
    { what: 'the hub to be ready', timeoutMs: 60_000 },
  );
  return hub;
};

const metric = async (port: number, name: string): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return Number(line?.split(' ').at(-1) ?? Number.NaN);
};

/** Directories of the events table's parts: those whose columns.txt lists `identity`. */
const eventParts = (root: string): string[] => {
  const found: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path)) {
      const child = join(path, entry);
      if (!statSync(child).isDirectory()) continue;
      if (entry === 'detached') continue;
      try {
        if (readFileSync(join(child, 'columns.txt'), 'utf8').includes('`identity`')) {
          found.push(child);
          continue;
        }
      } catch {
        // not a part
      }
      walk(child);
    }
  };
  walk(root);
  return found;
};

test('a truncated part is reported at error level and in a metric at the next start', async () => {
  const port = await freePort();
  let hub = await startHub(port);
  const events = Array.from({ length: 50 }, (_, i) =>
    createEvent({
      type: 'service.deployed',
      id: `damage-${i}`,
      source: '/ci/damage',
      subject: { id: 'svc', content: { environment: { id: 'prod' }, artifactId: 'pkg:oci/svc' } },
    }),
  );
  const batch = toHttpBatch(events);
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/events`, {
    method: 'POST',
    headers: { ...batch.headers, authorization: `Bearer ${TOKEN}` },
    body: batch.body,
  });
  expect(res.status).toBe(202);
  await waitFor(async () => (await metric(port, 'argus_hub_stored_total')) === 50, {
    what: '50 stored',
    timeoutMs: 30_000,
  });
  expect(await metric(port, 'argus_hub_store_broken_parts')).toBe(0);
  await hub.stop();

  const parts = eventParts(join(dir, 'hub'));
  expect(parts.length).toBeGreaterThan(0);
  for (const part of parts) {
    const file =
      readdirSync(part).find((f) => f === 'data.bin') ?? readdirSync(part).find((f) => f.endsWith('.bin'));
    if (file !== undefined) truncateSync(join(part, file), 10);
  }

  hub = await startHub(port);
  try {
    expect(await metric(port, 'argus_hub_store_broken_parts')).toBeGreaterThan(0);
    expect(hub.output).toMatch(/"level":50[^\n]*detached \d+ damaged part/);
    expect(hub.output).toMatch(/another --consumer name/);
    console.log(
      `finding 12: ${parts.length} part(s) truncated; the hub logged: ${/detached \d+ damaged part\(s\)/.exec(hub.output)?.[0]}`,
    );
  } finally {
    await hub.stop();
  }
}, 120_000);
