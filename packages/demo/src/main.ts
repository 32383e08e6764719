#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { parseDuration } from '@argus/runtime';
import { runDemo } from './demo.js';

const HELP = `argus demo: NATS, a hub with embedded ClickHouse, simulated Argo CDs of every architecture with
their agents, a CI producer, a scenario of deployments, upgrades, a rollback and incidents; then the
unified stream, a service timeline across clusters and DORA metrics.

Usage: pnpm demo [--nats <url>] [--play <duration>] [--duration <duration>] [--keep]

Options:
  --nats <url>           use this NATS server (default: start one with its own temporary store)
  --play <duration>      real time the scenario takes (default 25s)
  --duration <duration>  stay up this long after the report, then stop (default: until Ctrl-C; 0 stops at once)
  --keep                 keep the work directory (logs, data) after the end
  --help                 this help

Exits 0 when every check passed, 1 otherwise (the reasons are printed).`;

const { values } = parseArgs({
  options: {
    nats: { type: 'string' },
    play: { type: 'string', default: '25s' },
    duration: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help === true) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const duration = (value: string, flag: string): number => {
  const ms = parseDuration(value);
  if (ms !== undefined) return ms;
  process.stderr.write(
    `argus demo: ${flag} takes a duration like 30s, 2m or 0, got ${JSON.stringify(value)}\n`,
  );
  process.exit(2);
};
const stop = new AbortController();
let signals = 0;
const onSignal = () => {
  signals += 1;
  if (signals > 1) process.exit(130);
  process.stdout.write('\nstopping...\n');
  stop.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const problems = await runDemo({
  ...(values.nats === undefined ? {} : { nats: values.nats }),
  playMs: duration(values.play ?? '25s', '--play'),
  ...(values.duration === undefined ? {} : { durationMs: duration(values.duration, '--duration') }),
  keep: values.keep === true,
  out: (text) => process.stdout.write(text),
  signal: stop.signal,
});
if (problems.length > 0) {
  process.stderr.write(`\nargus demo: FAILED\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('\nargus demo: every check passed.\n');
