/** The hub's query limits come from its flags (finding 9); RESOURCE_EXHAUSTED is mapped in service.ts. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryServiceClient, type SearchEventsResponse } from '@argus/query-api';
import { parseOptions } from '@argus/runtime';
import { captureLogs, NatsServer } from '@argus/testkit';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { HUB_OPTIONS, type RunningHub, runHub } from '../src/index.js';

const logs = captureLogs({ level: 'info' });
let server: NatsServer;
let running: RunningHub;
let dataDir: string;

beforeAll(async () => {
  server = await NatsServer.start();
  dataDir = mkdtempSync(join(tmpdir(), 'argus-query-limits-'));
  const options = parseOptions(HUB_OPTIONS, {
    flags: { nats: server.url, dataDir, httpListen: '127.0.0.1:0', grpcListen: '127.0.0.1:0' },
    env: { ARGUS_QUERY_MAX_MEMORY: '1048576' },
  });
  expect(options.queryMaxMemory).toBe(1_048_576);
  running = await runHub(options, logs.destination);
});

afterAll(async () => {
  await running?.shutdown.shutdown('test done');
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('--query-max-memory and --query-max-time bound every read of the hub; a search within them answers', async () => {
  expect(running.store.queryLimits).toEqual({ maxExecutionMs: 20_000, maxMemoryBytes: 1_048_576 });
  const client = new QueryServiceClient(
    `127.0.0.1:${running.grpc.address.port}`,
    credentials.createInsecure(),
  );
  const answer = await new Promise<ServiceError | null>((resolve) =>
    client.searchEvents(
      { pageSize: 0, pageToken: '' },
      new Metadata(),
      { deadline: Date.now() + 10_000 },
      (err: ServiceError | null, _res?: SearchEventsResponse) => resolve(err),
    ),
  );
  client.close();
  expect(answer).toBeNull();
  // A read of the hub's store beyond its memory flag is stopped by ClickHouse.
  await expect(
    running.store.rows('SELECT length(groupArray(number)) AS n FROM numbers(10000000)'),
  ).rejects.toMatchObject({ name: 'QueryLimitError', reason: 'memory' });
});
