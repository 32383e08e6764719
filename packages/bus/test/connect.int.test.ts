import { captureLogs, freePort, NatsServer, waitFor } from '@argus/testkit';
import { expect, test } from 'vitest';
import { connectNats, drainOrClose, natsNotReadyReason } from '../src/index.js';

test('the first connection waits for a server that starts later, saying so while it waits', async () => {
  const logs = captureLogs({ level: 'info' });
  const port = await freePort();
  const connecting = connectNats({
    servers: `nats://127.0.0.1:${port}`,
    name: 'late-server-test',
    logger: logs.logger,
    waitingLogMs: 200,
  });
  await waitFor(() => logs.find((l) => String(l.msg).startsWith('no NATS server answers yet')), {
    what: 'a warning that no server answers',
  });
  expect(logs.find((l) => String(l.msg).startsWith('no NATS server answers yet'))).toMatchObject({
    servers: [`nats://127.0.0.1:${port}`],
  });
  const server = await NatsServer.start({ port });
  try {
    const nc = await connecting;
    expect(logs.find((l) => l.msg === 'nats connected')).toBeDefined();
    // Once connected the warnings stop.
    const warnings = logs
      .lines()
      .filter((l) => String(l.msg).startsWith('no NATS server answers yet')).length;
    await new Promise((r) => setTimeout(r, 500));
    expect(logs.lines().filter((l) => String(l.msg).startsWith('no NATS server answers yet')).length).toBe(
      warnings,
    );
    await drainOrClose(nc);
  } finally {
    await server.stop();
  }
});

test('a lost connection is logged once, not per reconnect attempt, is not ready meanwhile, and comes back', async () => {
  const logs = captureLogs({ level: 'info' });
  const server = await NatsServer.start();
  try {
    const nc = await connectNats({ servers: server.url, name: 'outage-test', logger: logs.logger });
    expect(natsNotReadyReason(nc)).toBeUndefined();
    await server.kill();
    await waitFor(() => natsNotReadyReason(nc)?.includes('disconnected'), { what: 'the loss to be noticed' });
    // About one attempt a second: three seconds away are several attempts.
    await new Promise((r) => setTimeout(r, 3000));
    await server.restart();
    await waitFor(() => natsNotReadyReason(nc) === undefined, { what: 'the connection to come back' });
    const lost = logs.lines().filter((l) => String(l.msg).startsWith('nats connection lost'));
    expect(lost).toHaveLength(1);
    const back = logs.find((l) => l.msg === 'nats reconnected');
    expect(back?.attempts).toBeGreaterThanOrEqual(2);
    expect(back?.disconnectedMs).toBeGreaterThanOrEqual(3000);
    await drainOrClose(nc);
  } finally {
    await server.stop();
  }
});
