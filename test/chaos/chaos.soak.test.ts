/**
 * Chaos, soak size: `pnpm chaos` (ARGUS_SOAK=1 enables this project; not part of `pnpm test`).
 * Writes the summary table to docs/reliability.md.
 */
import { afterAll, test } from 'vitest';
import { chaosSuite } from './harness.js';
import {
  agentKilled,
  clusterLosesNode,
  hubKilledRepeatedly,
  insertsFailing,
  natsRestartedUnderAgent,
} from './scenarios.js';

const suite = chaosSuite('soak size', [
  'The CI suite (`test/chaos/chaos.int.test.ts`, part of `pnpm test`) runs the same scenarios smaller.',
  'Machine: the development machine of the brief (2 cores, 24 GiB); the hub runs the embedded ClickHouse.',
]);
afterAll(suite.report);
const { check } = suite;

test('hub SIGKILLed repeatedly while 100k events flow', async () => {
  check(await hubKilledRepeatedly(100_000, 4000, 8));
}, 900_000);

test('ClickHouse refusing inserts for 20 s', async () => {
  check(await insertsFailing(20_000, 20_000));
}, 600_000);

test('nats-server down 30 s under an agent with 200 apps', async () => {
  check(await natsRestartedUnderAgent(200, 4, 30_000));
}, 900_000);

test('agent SIGKILLed mid-scenario with 200 apps', async () => {
  check(await agentKilled(200, 4));
}, 900_000);

test('3-node cluster losing a node while 40k events flow', async () => {
  check(await clusterLosesNode(40_000, 2000));
}, 900_000);
