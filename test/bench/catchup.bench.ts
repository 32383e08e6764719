/**
 * Catch-up after a hub outage (issue 14): an hour at 300 events/s from three agents (1,080,000 events,
 * ARGUS_BENCH_CATCHUP_EVENTS to change it) waits on CDEVENTS_RAW; then `argus hub` starts as shipped.
 * Reported: time to drain, the rate, and the hub's RSS each second (bounded and flat is the target),
 * with nothing lost or repeated (every id once on the unified stream, the store's count exact).
 * Baseline, same run: a plain consumer (consume, JSON.parse, ack) over the same backlog. Long: run it
 * by name, `pnpm bench catchup`.
 */
import { ensureStreams, RAW_STREAM } from '@argus/bus';
import { DEPLOY_NATS_STORE_LIMITS, NatsServer, waitFor } from '@argus/testkit';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { BenchResult } from './harness.js';
import { type Publisher, publishAll } from './load.js';
import { buildCli, startShippedHub, UnifiedWatch } from './shipped-hub.js';

export const byNameOnly = true;

const EVENTS = Number(process.env.ARGUS_BENCH_CATCHUP_EVENTS ?? 300 * 3600);
const AGENTS: readonly Publisher[] = ['eu', 'us', 'ap'].map((c) => ({
  instance: `argocd-${c}`,
  cluster: `prod-${c}`,
}));

const RAW_MAX_BYTES = 4 * 1024 ** 3;
const decoder = new TextDecoder();

export const run = async (): Promise<BenchResult> => {
  buildCli();
  // The store of a deploy/nats node: the test server's 4 GB default filled in a soak at 5k/s (the
  // unified stream's 2 GiB rolls, but the files of what it discarded still counted), and the hub's
  // republish was refused with `insufficient resources`.
  const server = await NatsServer.start({ jetstreamLimits: DEPLOY_NATS_STORE_LIMITS });
  const nc = await server.connect();
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    // An hour of backlog passes the default 1 GiB of CDEVENTS_RAW (~1 KB an event with its headers):
    // an operator expecting such outages sizes the stream (--raw-max-bytes); so does this run.
    await ensureStreams(jsm, { rawMaxBytes: RAW_MAX_BYTES });
    const perAgent = Math.ceil(EVENTS / AGENTS.length);
    const queued = performance.now();
    for (const agent of AGENTS) await publishAll(js, perAgent, `catchup-${agent.instance}`, agent);
    const total = perAgent * AGENTS.length;
    const publishSeconds = (performance.now() - queued) / 1000;
    const info = await jsm.streams.info(RAW_STREAM);
    if (info.state.messages < total)
      throw new Error(
        `CDEVENTS_RAW holds ${info.state.messages} of the ${total} events queued (stream full?)`,
      );

    await jsm.consumers.add(RAW_STREAM, {
      durable_name: 'bench-plain',
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 20_000,
    });
    const plainStarted = performance.now();
    const messages = await (await js.consumers.get(RAW_STREAM, 'bench-plain')).consume();
    let seen = 0;
    for await (const m of messages) {
      JSON.parse(decoder.decode(m.data));
      m.ack();
      if (++seen >= total) break;
    }
    messages.stop();
    const plainSeconds = (performance.now() - plainStarted) / 1000;
    await jsm.consumers.delete(RAW_STREAM, 'bench-plain');

    const watch = new UnifiedWatch(nc);
    const started = performance.now();
    const hub = await startShippedHub(server.url);
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(hub.rssMb()), 1000);
    try {
      await waitFor(() => watch.distinct >= total, {
        what: `the shipped hub to drain ${total} events`,
        timeoutMs: 3_600_000,
        intervalMs: 100,
      });
    } finally {
      clearInterval(sampler);
    }
    const drainSeconds = (watch.last - started) / 1000;
    const peak = hub.peakRssMb();
    const stored = await hub.storedEvents();
    watch.stop();
    await hub.stop();
    if (stored !== total || watch.repeats > 0)
      throw new Error(`catch-up stored ${stored} of ${total} events, ${watch.repeats} republished twice`);
    const tenth = Math.max(1, Math.floor(rss.length / 10));
    const early = Math.max(...rss.slice(tenth, 2 * tenth));
    const late = Math.max(...rss.slice(-tenth));
    return {
      benchmark: `catch-up: ${total} events (${(total / 300 / 60).toFixed(0)} min at 300/s from ${AGENTS.length} agents) queued, then \`argus hub\` as shipped`,
      baseline: 'a plain consumer (consume, JSON.parse, ack) of the same backlog, same run',
      measurements: [
        { name: 'plain consumer (baseline)', opsPerSec: total / plainSeconds, ratio: 1 },
        {
          name: 'shipped hub, spawn -> last event queryable',
          opsPerSec: total / drainSeconds,
          ratio: plainSeconds / drainSeconds,
        },
        { name: 'time to drain (spawn -> last event queryable)', opsPerSec: drainSeconds, unit: 's' },
        { name: 'hub RSS, highest in the second tenth of the drain', opsPerSec: early, unit: 'MB' },
        { name: 'hub RSS, highest in the last tenth of the drain', opsPerSec: late, unit: 'MB' },
        { name: 'hub peak RSS (VmHWM)', opsPerSec: peak, unit: 'MB' },
      ],
      notes: [
        `queued in ${publishSeconds.toFixed(0)} s (${(info.state.bytes / info.state.messages).toFixed(0)} bytes a message in CDEVENTS_RAW); stored ${stored}, each id once on the unified stream`,
        `hub RSS each 10% of the drain (MB): ${Array.from({ length: 10 }, (_, k) => Math.max(...rss.slice(k * tenth, (k + 1) * tenth)).toFixed(0)).join(', ')}`,
      ],
    };
  } finally {
    await nc.close();
    await server.stop();
  }
};
