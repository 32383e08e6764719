/**
 * Chaos, CI size: every fault once, bounded in time. `pnpm chaos` runs the same scenarios larger
 * (chaos.soak.test.ts) and writes docs/reliability.md.
 */
import { defineChaosTests } from './suite.js';

defineChaosTests(
  'CI size',
  ['CI runs these on every `pnpm test`; `pnpm chaos` runs them at soak size.'],
  {
    hubKills: { events: 6000, perSecond: 1500, kills: 3 },
    insertFailure: { events: 2000, failMs: 4000 },
    natsDown: { apps: 40, rounds: 3, downMs: 3000 },
    agentKill: { apps: 40, rounds: 3 },
    clusterNodeLoss: { events: 4000, perSecond: 1000 },
    natsGone: { events: 3000, awayMs: 10_000 },
  },
  180_000,
);
