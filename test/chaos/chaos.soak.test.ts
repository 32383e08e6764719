/**
 * Chaos, soak size: `pnpm chaos` (ARGUS_SOAK=1 enables this project; not part of `pnpm test`).
 * Writes the summary table to docs/reliability.md.
 */
import { defineChaosTests } from './suite.js';

defineChaosTests(
  'soak size',
  [
    'The CI suite (`test/chaos/chaos.int.test.ts`, part of `pnpm test`) runs the same scenarios smaller.',
    'Machine: the development machine of the brief (2 cores, 24 GiB); the hub runs the embedded ClickHouse.',
  ],
  {
    hubKills: { events: 100_000, perSecond: 4000, kills: 8 },
    insertFailure: { events: 20_000, failMs: 20_000 },
    natsDown: { apps: 200, rounds: 4, downMs: 30_000 },
    agentKill: { apps: 200, rounds: 4 },
    clusterNodeLoss: { events: 40_000, perSecond: 2000 },
    natsGone: { events: 40_000, awayMs: 60_000 },
  },
  900_000,
);
