import { NatsServer } from '@argus/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/nats-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { BatchPublishError } from '../src/batch-publisher.js';
import { BatchPublisher } from '../src/index.js';

let server: NatsServer;
beforeAll(async () => {
  server = await NatsServer.start();
});
afterAll(() => server.stop());

const message = (subject: string, id: string) => {
  const h = headers();
  h.set('Nats-Msg-Id', id);
  return { subject, data: new TextEncoder().encode(id), headers: h };
};

test('publishes a batch and returns the acks in order; repeats are reported as duplicates', async () => {
  const nc = await server.connect();
  await (await jetstreamManager(nc)).streams.add({ name: 'BP', subjects: ['bp.>'] });
  const publisher = new BatchPublisher(nc);
  const acks = await publisher.publish(Array.from({ length: 500 }, (_, i) => message('bp.a', `m${i}`)));
  expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
  const again = await publisher.publish([message('bp.a', 'm7'), message('bp.a', 'new')]);
  expect(again.map((a) => a.duplicate)).toEqual([true, false]);
  publisher.close();
  await nc.close();
});

test('a subject no stream listens on fails the batch with a clear error', async () => {
  const nc = await server.connect();
  const publisher = new BatchPublisher(nc, { timeoutMs: 2000 });
  const error = await publisher.publish([message('nowhere.x', 'a')]).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BatchPublishError);
  expect((error as Error).message).toContain('no stream listens');
  publisher.close();
  await nc.close();
});

test('acks that never come time out instead of hanging', async () => {
  const nc = await server.connect();
  // A plain subscriber answers nothing: the publish is "delivered" but never acknowledged.
  const silent = nc.subscribe('silent.>', { callback: () => {} });
  const publisher = new BatchPublisher(nc, { timeoutMs: 300 });
  const error = await publisher.publish([message('silent.x', 'a')]).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BatchPublishError);
  expect((error as Error).message).toContain('acks missing after 300 ms');
  silent.unsubscribe();
  publisher.close();
  await nc.close();
});
