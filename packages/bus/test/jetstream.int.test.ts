import { captureLogs, NatsServer } from '@argus/testkit';
import { afterEach, expect, test } from 'vitest';
import {
  AGENTS_BUCKET,
  connectNats,
  drainOrClose,
  JetStreamUnreachableError,
  jetStreamManagerOf,
  kvmOf,
  openBucket,
} from '../src/index.js';
import { jsDomainOf } from '../src/jetstream.js';

const logs = captureLogs({ level: 'warn' });
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const start = async (options: Parameters<typeof NatsServer.start>[0]) => {
  const server = await NatsServer.start(options);
  cleanups.push(() => server.stop());
  return server;
};

const connect = async (server: NatsServer, jsDomain?: string) => {
  const nc = await connectNats({
    servers: server.url,
    name: 'js-domain-test',
    jsDomain,
    logger: logs.logger,
  });
  cleanups.push(() => drainOrClose(nc));
  return nc;
};

test('no JetStream behind the connection: JetStreamUnreachableError names --nats-js-domain, or the domain it tried', async () => {
  const server = await start({ jetstream: false });
  const plain = await connect(server);
  expect(jsDomainOf(plain)).toBeUndefined();
  const error = await openBucket(plain, AGENTS_BUCKET).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(JetStreamUnreachableError);
  expect((error as JetStreamUnreachableError).domain).toBeUndefined();
  expect((error as Error).message).toContain('$JS.API.INFO');
  expect((error as Error).message).toContain('--nats-js-domain');

  const inDomain = await connect(server, 'hub');
  expect(jsDomainOf(inDomain)).toBe('hub');
  const domainError = await jetStreamManagerOf(inDomain).catch((e: unknown) => e);
  expect(domainError).toBeInstanceOf(JetStreamUnreachableError);
  expect((domainError as JetStreamUnreachableError).domain).toBe('hub');
  expect((domainError as Error).message).toContain('$JS.hub.API.INFO');
});

test("on the domain's own server the domain reaches the same JetStream, its KV included", async () => {
  const server = await start({ jetstreamDomain: 'hub' });
  const plain = await connect(server);
  await (await jetStreamManagerOf(plain)).streams.add({
    name: 'KV_probe',
    subjects: ['$KV.probe.>'],
    allow_direct: true,
  });
  const inDomain = await connect(server, 'hub');
  const kv = await kvmOf(inDomain).open('probe', { allow_direct: true });
  await kv.put('key', 'through the domain');
  const direct = await kvmOf(plain).open('probe', { allow_direct: true });
  expect((await direct.get('key'))?.string()).toBe('through the domain');
  expect((await (await jetStreamManagerOf(inDomain)).streams.info('KV_probe')).state.messages).toBe(1);
});
