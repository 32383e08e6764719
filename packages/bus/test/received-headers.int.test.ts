import { captureLogs, NatsServer } from '@argus/testkit';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, headers as natsHeaders } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectNats, receivedHeaders } from '../src/index.js';

let server: NatsServer;
let nc: NatsConnection;
beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connectNats({ servers: server.url, name: 'headers-test', logger: captureLogs().logger });
  await (await jetstreamManager(nc)).streams.add({ name: 'HDRS', subjects: ['hdrs.>'] });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const consumeOne = async (subject: string, build: (h: ReturnType<typeof natsHeaders>) => void) => {
  const h = natsHeaders();
  build(h);
  await jetstream(nc).publish(subject, '{}', { headers: h });
  const jsm = await jetstreamManager(nc);
  const name = `c${Math.random().toString(36).slice(2)}`;
  await jsm.consumers.add('HDRS', {
    durable_name: name,
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
  });
  const msg = await (await jetstream(nc).consumers.get('HDRS', name)).next({ expires: 2000 });
  if (msg === null) throw new Error('no message');
  return msg;
};

describe('receivedHeaders', () => {
  test('reads the header block of a received message as the client does: exact names, first value, values trimmed', async () => {
    const msg = await consumeOne('hdrs.a', (h) => {
      h.set('ce-id', 'a1');
      h.set('Nats-Msg-Id', 'digest');
      h.set('Argus-Cluster', 'prod-eu');
      h.append('X-Twice', 'first');
      h.append('X-Twice', 'second');
      h.set('X-Spaces', '  padded  ');
      h.set('X-Colon', 'a: b: c');
    });
    const fast = receivedHeaders(msg);
    // The fast path, not the fallback to the client's own decoding.
    expect(fast).not.toBe(msg.headers);
    for (const name of [
      'ce-id',
      'Nats-Msg-Id',
      'Argus-Cluster',
      'X-Twice',
      'X-Spaces',
      'X-Colon',
      'absent',
      'CE-ID',
    ]) {
      expect(fast?.get(name), name).toBe(msg.headers?.get(name));
    }
    expect(fast?.get('X-Colon')).toBe('a: b: c');
  });

  test('a message without headers has none; an unknown message shape falls back to its own headers', async () => {
    const bare = await consumeOne('hdrs.b', () => undefined);
    expect(receivedHeaders({ ...bare, headers: bare.headers })?.get('x') ?? '').toBe('');
    const own = natsHeaders();
    own.set('ce-id', 'from-msg-headers');
    expect(receivedHeaders({ headers: own })?.get('ce-id')).toBe('from-msg-headers');
    expect(receivedHeaders({ headers: undefined })).toBeUndefined();
  });
});
