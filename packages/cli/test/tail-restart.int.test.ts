import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgusProcess, freePort, NatsServer, runArgus, waitFor } from '@argus/testkit';
import { afterAll, expect, test } from 'vitest';

const API_TOKEN = 'api-secret';
const CI_TOKEN = 'ci-secret';
const dir = mkdtempSync(join(tmpdir(), 'argus-cli-tail-restart-'));
const processes: ArgusProcess[] = [];
let server: NatsServer | undefined;

afterAll(async () => {
  for (const p of processes) await p.kill();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('tail says so on stderr when the hub restarts, reconnects, and goes on', async () => {
  server = await NatsServer.start();
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const hubArgs = [
    'hub',
    '--nats',
    server.url,
    '--data-dir',
    join(dir, 'data'),
    '--grpc-listen',
    `127.0.0.1:${grpcPort}`,
    '--http-listen',
    `127.0.0.1:${httpPort}`,
    '--api-tokens',
    `ops=${API_TOKEN}`,
    '--ingest-tokens',
    `ci=${CI_TOKEN}`,
    '--log-level',
    'warn',
  ];
  const env = { ARGUS_HUB: `127.0.0.1:${grpcPort}`, ARGUS_QUERY_TOKEN: API_TOKEN };
  const startHub = async () => {
    const hub = new ArgusProcess(hubArgs);
    processes.push(hub);
    await Promise.race([
      waitFor(async () => (await runArgus(['stats'], { env })).code === 0, {
        what: 'the hub to answer',
        timeoutMs: 60_000,
      }),
      hub.died,
    ]);
    return hub;
  };
  const first = await startHub();
  const tail = new ArgusProcess(['tail', '--output', 'json', '--count', '1'], { env });
  processes.push(tail);
  let stderr = '';
  let stdout = '';
  tail.child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  tail.child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  const nc = await server.connect();
  const consumers = async () =>
    (await (await import('@nats-io/jetstream')).jetstreamManager(nc)).streams
      .info('CDEVENTS')
      .then((i) => i.state.consumer_count);
  await waitFor(async () => (await consumers()) === 1, { what: 'the tail to subscribe', timeoutMs: 20_000 });

  await first.stop();
  await waitFor(async () => stderr.includes('reconnecting in'), { what: 'tail to say it reconnects' });
  expect(tail.running).toBe(true);
  await startHub();
  await waitFor(async () => (await consumers()) >= 1, {
    what: 'the tail to subscribe again',
    timeoutMs: 30_000,
  });
  const sent = await runArgus(
    [
      'send',
      '--ingest',
      `http://127.0.0.1:${httpPort}`,
      '--type',
      'build.finished',
      '--source',
      '/ci/x',
      '--subject-id',
      'after-restart',
    ],
    { env: { ARGUS_INGEST_TOKEN: CI_TOKEN } },
  );
  expect(sent.code).toBe(0);
  const exit = await tail.exited;
  expect(exit.code).toBe(0);
  expect(JSON.parse(stdout.trim())).toMatchObject({ subjectId: 'after-restart' });
  await nc.close();
}, 180_000);
