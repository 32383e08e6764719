import { captureLogs, freePort, NatsServer, waitFor } from '@argus/testkit';
import { expect, test } from 'vitest';
import { connectNats, drainOrClose } from '../src/index.js';

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
