import { existsSync } from 'node:fs';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterEach, describe, expect, test } from 'vitest';
import { NatsServerNotFoundError, NatsServerStartError } from '../src/errors.js';
import { NatsServer } from '../src/index.js';
import { natsServerAvailable } from '../src/nats-server.js';

const started: NatsServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

const start = async (options = {}) => {
  const server = await NatsServer.start(options);
  started.push(server);
  return server;
};

const publishAndCount = async (server: NatsServer, stream: string, messages: number) => {
  const nc = await server.connect();
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  const js = jetstream(nc);
  for (let i = 0; i < messages; i++) await js.publish(`${stream}.x`, `m${i}`);
  await nc.close();
};

const countOf = async (server: NatsServer, stream: string) => {
  const nc = await server.connect();
  const info = await (await jetstreamManager(nc)).streams.info(stream);
  const last = await (await jetstreamManager(nc)).streams.getMessage(stream, { seq: info.state.last_seq });
  await nc.close();
  return { messages: info.state.messages, last: last?.string() };
};

describe('NatsServer', () => {
  test('the binary is installed (deploy/scripts/setup.sh)', () => {
    expect(natsServerAvailable()).toBe(true);
  });

  test('restart keeps the port and the stream data', async () => {
    const server = await start();
    await publishAndCount(server, 'KEEP', 5);
    const port = server.port;
    await server.restart();
    expect(server.port).toBe(port);
    expect(await countOf(server, 'KEEP')).toEqual({ messages: 5, last: 'm4' });
  });

  test('SIGKILL then restart keeps acknowledged data', async () => {
    const server = await start();
    await publishAndCount(server, 'KILLED', 3);
    const pid = server.pid;
    await server.kill();
    expect(() => process.kill(pid ?? 0, 0)).toThrow();
    await server.restart();
    expect((await countOf(server, 'KILLED')).messages).toBe(3);
  });

  test('stop removes the store directory it created', async () => {
    const server = await NatsServer.start();
    expect(existsSync(server.storeDir)).toBe(true);
    await server.stop();
    expect(existsSync(server.storeDir)).toBe(false);
  });

  test('a missing binary names the setup script', async () => {
    const error = await NatsServer.start({ binary: 'nats-server-does-not-exist' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsServerNotFoundError);
    expect((error as Error).message).toContain('deploy/scripts/setup.sh');
  });

  test('a bad configuration fails with the server output attached', async () => {
    const error = await NatsServer.start({ config: 'this is { not valid' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsServerStartError);
    expect((error as NatsServerStartError).output.length).toBeGreaterThan(0);
  });
});
