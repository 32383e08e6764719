/**
 * Soak (issue 14): `argus hub` as shipped takes 5,000 events/s from ten agents' subjects for ten
 * minutes (ARGUS_BENCH_SOAK_RATE, ARGUS_BENCH_SOAK_SECONDS). Reported per minute: publish-to-queryable
 * p50 and p99, and the hub's RSS; at the end, zero loss (every id once on the unified stream, the
 * store's count exact). Baseline, same run: the latency of the same hub at 100 events/s for 20 s
 * before the soak. Long and not part of CI: run it by name, `pnpm bench soak`.
 */
import { ensureStreams, UNIFIED_STREAM } from '@argus/bus';
import { DEPLOY_NATS_STORE_LIMITS, NatsServer, waitFor } from '@argus/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { BenchResult, Measurement } from './harness.js';
import { describeFailures, type Publisher, publishSteady } from './load.js';
import { buildCli, percentile, type ShippedHub, startShippedHub, UnifiedWatch } from './shipped-hub.js';

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
  // This process's connection may be dropped (nats-server closes slow consumers): it reconnects, the
  // publisher retries, and the disconnects are reported.
  const nc = await server.connect({ maxReconnectAttempts: -1 });
  const disconnects: number[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'disconnect') disconnects.push(performance.now());
  })();
  const jsm = await jetstreamManager(nc);
  // Events ever stored on the unified stream: its sequence, which counts what the stream's byte limit
  // has since discarded, and which a core subscription missing messages over a reconnect cannot skew.
  const unifiedSeq = async () => (await jsm.streams.info(UNIFIED_STREAM)).state.last_seq;
  let hub: ShippedHub | undefined;
  try {
    const js = jetstream(nc);
    await ensureStreams(jsm);
    hub = await startShippedHub(server.url);
    const baseline = new UnifiedWatch(nc);
    const quiet = await publishSteady(js, baseline, 'soak-baseline', BASELINE_RATE, BASELINE_SECONDS, AGENTS);
    await waitFor(async () => (await unifiedSeq()) >= quiet.acked, {
      what: 'the baseline events',
      timeoutMs: 60_000,
    });
    baseline.stop();
    const baselineMs = baseline.latencies.map((l) => l.ms);

    const watch = new UnifiedWatch(nc);
    const rss: { at: number; mb: number }[] = [];
    const shipped = hub;
    const sampler = setInterval(() => rss.push({ at: performance.now(), mb: shipped.rssMb() }), 1000);
    const started = performance.now();
    // Resolves when every publish is acknowledged (or given up on after retries): the counts are final.
    const soak = await publishSteady(js, watch, 'soak', RATE, SECONDS, AGENTS);
    const expected = quiet.acked + soak.acked;
    const maybe = quiet.gaveUp + soak.gaveUp;
    try {
      await waitFor(async () => (await unifiedSeq()) >= expected, {
        what: `${expected} events on the unified stream`,
        timeoutMs: 600_000,
        intervalMs: 500,
      });
    } finally {
      clearInterval(sampler);
    }
    const stored = await hub.storedEvents();
    const peak = hub.peakRssMb();
    watch.stop();
    // Given-up publishes may have been stored (an ack lost, not the message): they widen the range.
    if (stored < expected || stored > expected + maybe || watch.repeats > 0)
      throw new Error(
        `soak stored ${stored} of ${expected} acknowledged events (${maybe} more given up on), ${watch.repeats} republished twice`,
      );

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
    const published = RATE * SECONDS;
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
        `published ${published} events in ${soak.seconds.toFixed(1)} s (${(published / soak.seconds).toFixed(0)}/s achieved; the publisher fell ${(soak.maxBehindMs / 1000).toFixed(1)} s behind its schedule at most); stored ${stored} with the baseline's, none lost, none twice`,
        `soak publishes: ${describeFailures(soak)}; baseline: ${describeFailures(quiet)}`,
        disconnects.length === 0
          ? "the benchmark's own NATS connection was never dropped"
          : `the benchmark's own NATS connection was dropped ${disconnects.length} times (nats-server: ${slowConsumerLines(server.logs()) || 'no reason logged'}); latencies of events republished while it was away are missing`,
      ],
    };
  } catch (error) {
    // What the failure's cause needs: the servers' own words.
    throw new Error(
      `soak failed: ${error instanceof Error ? error.message : String(error)}\nbenchmark connection dropped ${disconnects.length} times\nnats-server warnings:\n${slowConsumerLines(server.logs())}\nthe hub's last output:\n${hub?.output().slice(-4000) ?? '(not started)'}`,
      { cause: error },
    );
  } finally {
    await hub?.stop();
    await nc.close();
    await server.stop();
  }
};

/** nats-server's lines about clients it closed or warned of (slow consumers, stale connections, errors). */
const slowConsumerLines = (logs: string): string =>
  logs
    .split('\n')
    .filter((l) => /Slow Consumer|Stale Connection|\[WRN\]|\[ERR\]/.test(l))
    .slice(-10)
    .join('\n');
