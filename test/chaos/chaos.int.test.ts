/**
 * Chaos, CI size: every fault once, bounded in time. `pnpm chaos` runs the same scenarios larger
 * (chaos.soak.test.ts) and writes docs/reliability.md.
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

const suite = chaosSuite('CI size', [
  'CI runs these on every `pnpm test`; `pnpm chaos` runs them at soak size.',
]);
afterAll(suite.report);
const { check } = suite;

test('the hub SIGKILLed repeatedly while events flow: every event stored and republished once', async () => {
  check(await hubKilledRepeatedly(6000, 1500, 3));
}, 150_000);

test('ClickHouse refusing every insert for a while: nothing acked meanwhile, nothing lost after', async () => {
  check(await insertsFailing(2000, 4000));
}, 120_000);

test('nats-server down mid-scenario under an agent: Argo CD changes arrive once each', async () => {
  check(await natsRestartedUnderAgent(40, 3, 3000));
}, 150_000);

test('the agent SIGKILLed mid-scenario and restarted: nothing repeated, nothing missed', async () => {
  check(await agentKilled(40, 3));
}, 150_000);

test('a 3-node JetStream cluster losing the raw stream leader mid-flow', async () => {
  check(await clusterLosesNode(4000, 1000));
}, 180_000);
