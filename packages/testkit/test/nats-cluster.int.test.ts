import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, expect, test } from 'vitest';
import { NatsCluster, waitFor } from '../src/index.js';

let cluster: NatsCluster | undefined;
afterAll(() => cluster?.stop());

test('a 3-node cluster elects a leader, takes R3 writes, and survives losing the leader', async () => {
  cluster = await NatsCluster.start({ size: 3 });
  const leader = await cluster.waitForLeader();
  expect(leader).toMatch(/^argus-n[123]$/);

  const nc = await connect({
    servers: cluster.urls.split(','),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 200,
  });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 });
  const js = jetstream(nc);
  await js.publish('r3.a', 'before');

  await cluster.kill(cluster.indexOf(leader));
  const next = await cluster.waitForLeader(leader);
  expect(next).not.toBe(leader);
  await waitFor(() => js.publish('r3.a', 'after', { timeout: 2000 }).then((ack) => ack.seq === 2), {
    what: 'a publish acknowledged by the remaining two nodes',
    timeoutMs: 30_000,
    intervalMs: 250,
  });
  expect((await jsm.streams.info('R3')).state.messages).toBe(2);
  await nc.close();
});
