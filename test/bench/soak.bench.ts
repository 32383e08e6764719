/**
 * Soak (issue 14): `argus hub` as shipped takes 5,000 events/s from ten agents' subjects for ten
 * minutes (ARGUS_BENCH_SOAK_RATE, ARGUS_BENCH_SOAK_SECONDS). Reported per minute: publish-to-queryable
 * p50 and p99, and the hub's RSS; at the end, zero loss (every id once on the unified stream, the
 * store's count exact). Baseline, same run: the latency of the same hub at 100 events/s for 20 s
 * before the soak. Long and not part of CI: run it by name, `pnpm bench soak`.
 */
import { ensureStreams } from '@argus/bus';
import { DEPLOY_NATS_STORE_LIMITS, NatsServer, waitFor } from '@argus/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { BenchResult, Measurement } from './harness.js';
import { type Publisher, publishSteady } from './load.js';
import { buildCli, percentile, startShippedHub, UnifiedWatch } from './shipped-hub.js';

export const byNameOnly = true;

const RATE = Number(process.env.ARGUS_BENCH_SOAK_RATE ?? 5000);
const SECONDS = Number(process.env.ARGUS_BENCH_SOAK_SECONDS ?? 600);
const BASELINE_RATE = 100;
const BASELINE_SECONDS = 20;
const AGENTS: readonly Publisher[] = Array.from({ length: 10 }, (_, k) => ({
  instance: `argocd-${k}`,
  cluster: `cluster-${k}`,
}));

export const run = async (): Promise<BenchResult> => {
  buildCli();
  // The store of a deploy/nats node: the test server's 4 GB default filled in a soak at 5k/s (the
  // unified stream's 2 GiB rolls, but the files of what it discarded still counted), and the hub's
  // republish was refused with `insufficient resources`.
  const server = await NatsServer.start({ jetstreamLimits: DEPLOY_NATS_STORE_LIMITS });
  const nc = await server.connect();
  try {
    const js = jetstream(nc);
    await ensureStreams(await jetstreamManager(nc));
    const hub = await startShippedHub(server.url);
    const baseline = new UnifiedWatch(nc);
    const quiet = await publishSteady(js, baseline, 'soak-baseline', BASELINE_RATE, BASELINE_SECONDS, AGENTS);
    await waitFor(() => baseline.distinct >= quiet, { what: 'the baseline events', timeoutMs: 60_000 });
    baseline.stop();
    const baselineMs = baseline.latencies.map((l) => l.ms);

    const watch = new UnifiedWatch(nc);
    const rss: { at: number; mb: number }[] = [];
    const sampler = setInterval(() => rss.push({ at: performance.now(), mb: hub.rssMb() }), 1000);
    const started = performance.now();
    const published = await publishSteady(js, watch, 'soak', RATE, SECONDS, AGENTS);
    const publishedIn = (performance.now() - started) / 1000;
    // Acks of the last publishes settle first, so the refused count is final.
    await nc.flush();
    await new Promise((r) => setTimeout(r, 2000));
    const sent = published - watch.refused.length;
    try {
      await waitFor(() => watch.distinct >= sent, {
        what: `${sent} soak events on the unified stream`,
        timeoutMs: 600_000,
        intervalMs: 100,
      });
    } finally {
      clearInterval(sampler);
    }
    const stored = await hub.storedEvents();
    const peak = hub.peakRssMb();
    watch.stop();
    await hub.stop();
    if (stored !== sent + quiet || watch.repeats > 0)
      throw new Error(`soak stored ${stored} of ${sent + quiet} events, ${watch.repeats} republished twice`);

    const minutes = Math.ceil(SECONDS / 60);
    const perMinute: Measurement[] = [];
    const minuteOf = (at: number) => Math.min(minutes - 1, Math.floor((at - started) / 60_000));
    for (let m = 0; m < minutes; m++) {
      const ms = watch.latencies.filter((l) => minuteOf(l.at) === m).map((l) => l.ms);
      const mb = rss.filter((r) => minuteOf(r.at) === m).map((r) => r.mb);
      perMinute.push(
        { name: `minute ${m + 1}: p50`, opsPerSec: percentile(ms, 50), unit: 'ms' },
        { name: `minute ${m + 1}: p99`, opsPerSec: percentile(ms, 99), unit: 'ms' },
        { name: `minute ${m + 1}: hub RSS (highest)`, opsPerSec: Math.max(...mb), unit: 'MB' },
      );
    }
    const all = watch.latencies.map((l) => l.ms);
    return {
      benchmark: `soak: \`argus hub\` as shipped at ${RATE} events/s from ${AGENTS.length} agents for ${SECONDS} s`,
      baseline: `the same hub's latency at ${BASELINE_RATE} events/s for ${BASELINE_SECONDS} s, same run`,
      measurements: [
        { name: `baseline p50 at ${BASELINE_RATE}/s`, opsPerSec: percentile(baselineMs, 50), unit: 'ms' },
        { name: `baseline p99 at ${BASELINE_RATE}/s`, opsPerSec: percentile(baselineMs, 99), unit: 'ms' },
        { name: 'whole soak: p50', opsPerSec: percentile(all, 50), unit: 'ms' },
        { name: 'whole soak: p99', opsPerSec: percentile(all, 99), unit: 'ms' },
        { name: 'hub peak RSS (VmHWM)', opsPerSec: peak, unit: 'MB' },
        ...perMinute,
      ],
      notes: [
        `published ${published} events in ${publishedIn.toFixed(1)} s (${(published / publishedIn).toFixed(0)}/s achieved); stored ${stored} with the baseline's, none lost, none twice`,
        watch.refused.length === 0
          ? 'CDEVENTS_RAW refused no publish'
          : `CDEVENTS_RAW refused ${watch.refused.length} publishes (the hub fell behind and the stream filled; an agent retries these): ${[...new Set(watch.refused)].join('; ')}`,
      ],
    };
  } finally {
    await nc.close();
    await server.stop();
  }
};
