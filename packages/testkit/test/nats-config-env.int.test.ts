import { afterEach, expect, test } from 'vitest';
import { NatsServer } from '../src/index.js';

// An account whose password is a `$NAME` reference: nats-server reads it from its environment.
const ACCOUNTS = 'accounts { APP { jetstream: enabled, users: [ { user: app, password: $APP_PASSWORD } ] } }';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

test('NatsServer passes env to nats-server for $NAME references in its config', async () => {
  const server = await NatsServer.start({ config: ACCOUNTS, env: { APP_PASSWORD: 's3cret' } });
  stops.push(() => server.stop());
  const nc = await server.connect({ user: 'app', pass: 's3cret' });
  expect(nc.info?.jetstream).toBe(true);
  await nc.close();
  await expect(server.connect({ user: 'app', pass: 'wrong' })).rejects.toThrow(/Authorization/i);
});
