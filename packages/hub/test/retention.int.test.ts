/** --retention reaches the events table's TTL at start (issue 12 item 6), and is refused at the edge unless whole days. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OptionsError, parseOptions } from '@argus/runtime';
import { captureLogs, NatsServer } from '@argus/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { HUB_OPTIONS, runHub } from '../src/index.js';

const logs = captureLogs({ level: 'info' });
let server: NatsServer;
let dataDir: string;

beforeAll(async () => {
  server = await NatsServer.start();
  dataDir = mkdtempSync(join(tmpdir(), 'argus-retention-'));
});
afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const hubWith = (env: Record<string, string>) =>
  runHub(
    parseOptions(HUB_OPTIONS, {
      flags: { nats: server.url, dataDir, httpListen: '127.0.0.1:0', grpcListen: '127.0.0.1:0' },
      env,
    }),
    logs.destination,
  );

test('ARGUS_RETENTION=400d sets the TTL; a restart without it keeps events for ever; 36h is refused', async () => {
  const first = await hubWith({ ARGUS_RETENTION: '400d' });
  expect(await first.store.retentionTtl()).toBe('toDateTime(timestamp) + toIntervalDay(400)');
  await first.shutdown.shutdown('test restart');
  const changed = logs.lines().filter((l) => l.msg === 'retention changed');
  expect(changed.map((l) => String(l.table).split('.').at(-1)).sort()).toEqual([
    'artifact_refs',
    'cdevents',
    'dora_steps',
    'merge_refs',
    'timeline_index',
  ]);

  const second = await hubWith({});
  expect(await second.store.retentionTtl()).toBeUndefined();
  await second.shutdown.shutdown('test done');

  await expect(hubWith({ ARGUS_RETENTION: '36h' })).rejects.toThrow(OptionsError);
  await expect(hubWith({ ARGUS_RETENTION: '36h' })).rejects.toThrow(/--retention must be whole days/);
});
