/** The chaos tests, sized by the file that defines them (CI size or soak size). */
import { afterAll, test } from 'vitest';
import { chaosSuite } from './harness.js';
import {
  agentKilled,
  clusterLosesNode,
  hubKilledRepeatedly,
  hubWithoutNats,
  insertsFailing,
  natsRestartedUnderAgent,
} from './scenarios.js';

export interface ChaosSizes {
  readonly hubKills: { readonly events: number; readonly perSecond: number; readonly kills: number };
  readonly insertFailure: { readonly events: number; readonly failMs: number };
  readonly natsDown: { readonly apps: number; readonly rounds: number; readonly downMs: number };
  readonly agentKill: { readonly apps: number; readonly rounds: number };
  readonly clusterNodeLoss: { readonly events: number; readonly perSecond: number };
  readonly natsGone: { readonly events: number; readonly awayMs: number };
}

/** One test per fault; each must end with every event stored and republished once. */
export const defineChaosTests = (
  title: string,
  notes: readonly string[],
  sizes: ChaosSizes,
  timeoutMs: number,
) => {
  const suite = chaosSuite(title, notes);
  afterAll(suite.report);
  const { hubKills, insertFailure, natsDown, agentKill, clusterNodeLoss, natsGone } = sizes;
  test(
    `the hub SIGKILLed ${hubKills.kills} times while ${hubKills.events} events flow`,
    async () => {
      suite.check(await hubKilledRepeatedly(hubKills.events, hubKills.perSecond, hubKills.kills));
    },
    timeoutMs,
  );
  test(
    `ClickHouse refusing every insert for ${insertFailure.failMs / 1000} s: nothing lost after`,
    async () => {
      suite.check(await insertsFailing(insertFailure.events, insertFailure.failMs));
    },
    timeoutMs,
  );
  test(
    `nats-server gone ${natsGone.awayMs / 1000} s under the hub: bounded CPU, not ready, logged once, resumed`,
    async () => {
      suite.check(await hubWithoutNats(natsGone.events, natsGone.awayMs));
    },
    timeoutMs,
  );
  test(
    `nats-server down ${natsDown.downMs / 1000} s under an agent with ${natsDown.apps} apps`,
    async () => {
      suite.check(await natsRestartedUnderAgent(natsDown.apps, natsDown.rounds, natsDown.downMs));
    },
    timeoutMs,
  );
  test(
    `the agent SIGKILLed mid-scenario with ${agentKill.apps} apps: nothing repeated, nothing missed`,
    async () => {
      suite.check(await agentKilled(agentKill.apps, agentKill.rounds));
    },
    timeoutMs,
  );
  test(
    `a 3-node cluster losing the raw stream's leader while ${clusterNodeLoss.events} events flow`,
    async () => {
      suite.check(await clusterLosesNode(clusterNodeLoss.events, clusterNodeLoss.perSecond));
    },
    timeoutMs,
  );
};
