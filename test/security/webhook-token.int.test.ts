/**
 * Adversarial review 2, finding 26: an agent's webhook receiver publishes as that agent, so without
 * --webhook-token it may only listen on loopback (the hub's ingest and query API already refuse this).
 */
import { runArgus } from '@argus/testkit';
import { expect, test } from 'vitest';

test('argus agent --source webhook on a non-loopback address without a token refuses to start, and says why', async () => {
  const result = await runArgus(
    [
      'agent',
      '--source',
      'webhook',
      '--instance',
      'argo-eu',
      '--nats',
      'nats://127.0.0.1:1',
      '--listen',
      '0.0.0.0:0',
    ],
    { timeoutMs: 30_000 },
  );
  expect(result.code).not.toBe(0);
  expect(result.stdout + result.stderr).toMatch(/not loopback, needs --webhook-token/);
});
