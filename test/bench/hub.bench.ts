import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchPublisher,
  ensureStreams,
  HeaderList,
  HUB_CONSUMER,
  RAW_STREAM,
  rawMessage,
  UNIFIED_STREAM,
} from '@argus/bus';
import { fromNats } from '@argus/cdevents';
import { Hub } from '@argus/hub';
import { countEvents, Store, toEventRow } from '@argus/store';
import { captureLogs, NatsServer, waitFor } from '@argus/testkit';
import { AckPolicy, type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { BenchResult } from './harness.js';
import { event, publishAll, publishSteady } from './load.js';
import { procCpuSeconds } from './proc.js';
import { buildCli, percentile, startShippedHub, UnifiedWatch } from './shipped-hub.js';

const decoder = new TextDecoder();
const EVENTS = Number(process.env.ARGUS_BENCH_HUB_EVENTS ?? 30_000);
const STEADY_RATE = 1000;
/** Flags added to the shipped hub's defaults (to measure another default before changing it), e.g. `--batch-size 5000`. */
const SHIPPED_ARGS = (process.env.ARGUS_BENCH_HUB_ARGS ?? '').split(' ').filter((a) => a !== '');
const STEADY_SECONDS = Number(process.env.ARGUS_BENCH_HUB_STEADY_SECONDS ?? 10);
/** People with the dashboard open during the third window at the steady rate. */
const READERS = 3;

/** A durable pull consumer on the raw stream for a baseline, starting at its first message. */
const baselineConsumer = async (nc: NatsConnection, name: string) => {
  await (await jetstreamManager(nc)).consumers.add(RAW_STREAM, {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 20_000,
  });
  return jetstream(nc).consumers.get(RAW_STREAM, name);
};

/** Baseline: the same messages consumed and acked by a bare durable pull consumer, doing nothing else. */
const rawConsumeRate = async (nc: NatsConnection, count: number): Promise<number> => {
  const jsm = await jetstreamManager(nc);
  const consumer = await baselineConsumer(nc, 'bench-raw');
  const started = performance.now();
  const messages = await consumer.consume({ max_messages: 2000 });
  let seen = 0;
  for await (const m of messages) {
    m.ack();
    if (++seen >= count) break;
  }
  messages.stop();
  const seconds = (performance.now() - started) / 1000;
  await jsm.consumers.delete(RAW_STREAM, 'bench-raw');
  return count / seconds;
};

/**
 * The baseline users compare with (issue 14): a plain durable consumer that consumes, parses each
 * message's JSON and acks, nothing else.
 */
const plainConsumeRate = async (nc: NatsConnection, count: number): Promise<number> => {
  const jsm = await jetstreamManager(nc);
  const consumer = await baselineConsumer(nc, 'bench-plain');
  const started = performance.now();
  const messages = await consumer.consume();
  let seen = 0;
  for await (const m of messages) {
    JSON.parse(decoder.decode(m.data));
    m.ack();
    if (++seen >= count) break;
  }
  messages.stop();
  const seconds = (performance.now() - started) / 1000;
  await jsm.consumers.delete(RAW_STREAM, 'bench-plain');
  return count / seconds;
};

/**
 * Second baseline, the floor of any hub: the same messages consumed, republished on the unified stream
 * with JetStream acks (batches of 5000, 3 in flight, as the hub does) and acked, with no parsing,
 * validation or storage. What the hub adds beyond this is its own cost; this minus the raw rate is what
 * republishing costs nats-server and the client on these cores.
 */
const republishFloorRate = async (nc: NatsConnection, count: number): Promise<number> => {
  const jsm = await jetstreamManager(nc);
  const consumer = await baselineConsumer(nc, 'bench-floor');
  const publisher = new BatchPublisher(nc);
  const started = performance.now();
  const messages = await consumer.consume({ max_messages: 10_000 });
  const inFlight = new Set<Promise<void>>();
  let batch: JsMsg[] = [];
  let seen = 0;
  const flush = async (msgs: JsMsg[]) => {
    await publisher.publish(
      msgs.map((m, i) => {
        const headers = new HeaderList();
        headers.set('Nats-Msg-Id', `floor-${m.info.streamSequence}-${i}`);
        return { subject: 'cdevents.unified.prod-eu.service.deployed', data: m.data, headers };
      }),
    );
    for (const m of msgs) m.ack();
  };
  for await (const m of messages) {
    batch.push(m);
    if (++seen >= count || batch.length >= 5000) {
      const work = flush(batch);
      batch = [];
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
      if (inFlight.size >= 3) await Promise.race(inFlight);
    }
    if (seen >= count) break;
  }
  await Promise.all(inFlight);
  messages.stop();
  const seconds = (performance.now() - started) / 1000;
  publisher.close();
  await jsm.consumers.delete(RAW_STREAM, 'bench-floor');
  await jsm.streams.purge(UNIFIED_STREAM);
  return count / seconds;
};

/** With ARGUS_BENCH_PROFILE=<file.cpuprofile>, a V8 CPU profile of the hub phase only (open it in Chrome DevTools). */
const startProfile = async (): Promise<{ stop(): Promise<void> }> => {
  const file = process.env.ARGUS_BENCH_PROFILE;
  if (file === undefined || file === '') return { stop: async () => {} };
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params?: object) =>
    new Promise<T>((resolve, reject) =>
      session.post(method, params, (err, result) => (err === null ? resolve(result as T) : reject(err))),
    );
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = await post<{ profile: object }>('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      console.log(`CPU profile of the hub phase written to ${file}`);
    },
  };
};

/**
 * `argus hub` as shipped, in its own process with its default flags: its rate from the first event it
 * republishes to the last over `count` queued events (as a user timed it), its CPU per event and peak
 * RSS, then its publish-to-queryable latency at a steady rate. On its own nats-server, so nothing of the
 * in-process run is left in the streams.
 */
const shippedHubRun = async (count: number) => {
  const server = await NatsServer.start();
  const nc = await server.connect();
  try {
    const js = jetstream(nc);
    await ensureStreams(await jetstreamManager(nc));
    await publishAll(js, count, 'shipped');
    const watch = new UnifiedWatch(nc);
    const started = performance.now();
    const hub = await startShippedHub(server.url, SHIPPED_ARGS);
    const ready = performance.now();
    let cpuAtFirst = 0;
    await waitFor(
      () => {
        if (cpuAtFirst === 0 && watch.distinct > 0) cpuAtFirst = hub.cpuSeconds();
        return watch.distinct >= count;
      },
      { what: `the shipped hub to republish ${count} events`, timeoutMs: 600_000, intervalMs: 5 },
    );
    const cpu = hub.cpuSeconds() - cpuAtFirst;
    const rate = watch.rate();
    const drainSeconds = (watch.last - started) / 1000;
    const peakRssMb = hub.peakRssMb();
    // Two windows at the steady rate, one after the other: the first starts as the burst above is
    // drained (ClickHouse still merging its parts), the second once the hub has run at the rate for
    // as long. The target is the second's; the first is what a burst leaves behind.
    const steadyWindow = async (label: string) => {
      const steadyWatch = new UnifiedWatch(nc);
      const cpuBefore = hub.cpuSeconds();
      const systemBefore = hub.systemCpuSeconds();
      const acked = (await publishSteady(js, steadyWatch, label, STEADY_RATE, STEADY_SECONDS)).acked;
      await waitFor(() => steadyWatch.distinct >= acked, {
        what: `${acked} ${label} events on the unified stream`,
        timeoutMs: 120_000,
      });
      steadyWatch.stop();
      const latencies = steadyWatch.latencies.map((l) => l.ms);
      return {
        acked,
        // The hub's own CPU (all its threads) per event at the rate: what a shorter batch wait costs.
        usPerEvent: ((hub.cpuSeconds() - cpuBefore) * 1e6) / acked,
        systemUsPerEvent: ((hub.systemCpuSeconds() - systemBefore) * 1e6) / acked,
        repeats: steadyWatch.repeats,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
      };
    };
    const afterBurst = await steadyWindow('after-burst');
    const settled = await steadyWindow('steady');
    // A third window with the dashboard open: READERS people's pages asking the hub's HTTP API for
    // DORA and what runs where, one call after another, while the events arrive. With the embedded
    // store their reads and the hub's inserts share chdb, which runs one statement at a time.
    const reads: number[] = [];
    let reading = true;
    const reader = async () => {
      for (let i = 0; reading; i++) {
        const started = performance.now();
        const path = i % 2 === 0 ? 'dora?groupBy=cluster' : 'deployments?pageSize=100';
        const answer = await fetch(`${hub.httpUrl}/api/v1/query/${path}`);
        await answer.text();
        if (!answer.ok) throw new Error(`the hub answered ${path} with ${answer.status}`);
        reads.push(performance.now() - started);
      }
    };
    const readers = Promise.all(Array.from({ length: READERS }, () => reader()));
    // Handled now, thrown after the window: a refused call must end the run with its message, not
    // the process with an unhandled rejection while the window is still being timed.
    readers.catch(() => undefined);
    const withReaders = await steadyWindow('with-readers').finally(() => {
      reading = false;
    });
    await readers;
    reads.sort((a, b) => a - b);
    const steadyTotal = afterBurst.acked + settled.acked + withReaders.acked;
    const stored = await hub.storedEvents();
    watch.stop();
    await hub.stop();
    const repeats = watch.repeats + afterBurst.repeats + settled.repeats + withReaders.repeats;
    if (stored !== count + steadyTotal || repeats > 0) {
      throw new Error(
        `the shipped hub stored ${stored} events (expected ${count + steadyTotal}) and republished ${repeats} twice`,
      );
    }
    return {
      rate,
      usPerEvent: (cpu * 1e6) / count,
      startSeconds: (ready - started) / 1000,
      drainSeconds,
      peakRssMb,
      p50: settled.p50,
      p99: settled.p99,
      steadyUsPerEvent: settled.usPerEvent,
      steadySystemUsPerEvent: settled.systemUsPerEvent,
      afterBurstP50: afterBurst.p50,
      afterBurstP99: afterBurst.p99,
      readersP50: withReaders.p50,
      readersP99: withReaders.p99,
      reads: reads.length,
      readP50: percentile(reads, 50),
      steady: settled.acked,
    };
  } finally {
    await nc.close();
    await server.stop();
  }
};

export const run = async (): Promise<BenchResult> => {
  buildCli();
  const server = await NatsServer.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'argus-bench-hub-'));
  const logs = captureLogs({ level: 'warn' });
  const nc = await server.connect();
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  try {
    await ensureStreams(jsm);
    await publishAll(js, EVENTS, 'throughput');
    const natsCpu = () => procCpuSeconds(server.pid);
    /** CPU microseconds per event of this process and nats-server while `work` runs. */
    const cpuPerEvent = async <T>(work: () => Promise<T>): Promise<{ result: T; us: number }> => {
      const node = process.cpuUsage();
      const nats = natsCpu();
      const result = await work();
      const used = process.cpuUsage(node);
      return { result, us: (used.user + used.system + (natsCpu() - nats) * 1e6) / EVENTS };
    };
    const raw = await cpuPerEvent(() => rawConsumeRate(nc, EVENTS));
    const plain = await cpuPerEvent(() => plainConsumeRate(nc, EVENTS));
    const floor = await cpuPerEvent(() => republishFloorRate(nc, EVENTS));

    const store = await Store.open({ dataDir, logger: logs.logger });
    // The two steps every hub adds to the floor, each alone: decoding and validating the messages,
    // and inserting their rows into ClickHouse (then emptied again for the hub's run).
    const messages = Array.from({ length: EVENTS }, (_, i) =>
      rawMessage(event(i, 'throughput'), { instance: 'bench', cluster: 'prod-eu' }),
    );
    const validation = await cpuPerEvent(async () =>
      messages.map((m) => fromNats({ headers: m.headers, data: m.data })),
    );
    const rows = validation.result.map((v, i) =>
      toEventRow({
        event: v.event,
        subjectType: 'service',
        predicate: 'deployed',
        specVersion: v.specVersion,
        raw: decoder.decode(messages[i]?.data),
        tags: { instance: 'bench', cluster: 'prod-eu', environment: '', labels: {} },
        receivedAt: new Date(),
      }),
    );
    const insert = await cpuPerEvent(async () => {
      for (let i = 0; i < rows.length; i += 5000)
        await store.insertEvents(rows.slice(i, i + 5000), `bound-${i}`);
    });
    await store.command(`TRUNCATE TABLE ${store.database}.cdevents`);
    // On two cores, no hub doing these steps can go faster than this.
    const ceiling = 2e6 / (floor.us + validation.us + insert.us);

    // The hub in this process, with the shipped defaults unless ARGUS_BENCH_HUB_BATCH says otherwise.
    const batch = process.env.ARGUS_BENCH_HUB_BATCH;
    const hub = new Hub({
      nc,
      store,
      logger: logs.logger,
      ...(batch === undefined ? {} : { batchSize: Number(batch), batchMaxWaitMs: 50 }),
    });
    const profile = await startProfile();
    const cpuBefore = process.cpuUsage();
    const natsBefore = natsCpu();
    const started = performance.now();
    await hub.start();
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(RAW_STREAM, HUB_CONSUMER);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { what: `the hub to store ${EVENTS} events`, timeoutMs: 600_000, intervalMs: 20 },
    );
    const hubSeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    await profile.stop();
    const hubCpu = (cpu.user + cpu.system) / 1e6;
    const natsCpuSeconds = natsCpu() - natsBefore;
    const stored = await countEvents(store);
    if (stored.events !== EVENTS || stored.rows !== EVENTS) {
      throw new Error(
        `hub benchmark stored ${stored.events} events in ${stored.rows} rows, expected ${EVENTS}`,
      );
    }
    const hubRate = EVENTS / hubSeconds;
    const stages = (await hub.metrics.stageSeconds.get()).values
      .filter((v) => v.metricName === 'argus_hub_stage_seconds_sum')
      .map((v) => `${String(v.labels.stage)} ${(v.value * 1000).toFixed(0)} ms`)
      .join(', ');
    await hub.stop();
    await store.close();

    const shipped = await shippedHubRun(EVENTS);
    return {
      benchmark: `hub end to end: ${EVENTS} events CDEVENTS_RAW -> ClickHouse (embedded) + CDEVENTS`,
      baseline: 'a plain durable consumer of the same messages (consume, JSON.parse, ack), same run',
      measurements: [
        { name: 'plain consumer: consume + JSON.parse + ack (baseline)', opsPerSec: plain.result, ratio: 1 },
        { name: 'bare consume + ack', opsPerSec: raw.result, ratio: raw.result / plain.result },
        {
          name: 'consume + republish + ack, nothing else (floor)',
          opsPerSec: floor.result,
          ratio: floor.result / plain.result,
        },
        {
          name: 'ceiling on 2 cores: 2 s / CPU of (floor + validate + insert)',
          opsPerSec: ceiling,
          ratio: ceiling / plain.result,
        },
        {
          name: `\`argus hub\` as shipped (own process, ${SHIPPED_ARGS.length === 0 ? 'default flags' : SHIPPED_ARGS.join(' ')}), first -> last republished`,
          opsPerSec: shipped.rate,
          ratio: shipped.rate / plain.result,
        },
        {
          name: `Hub in this process (${batch === undefined ? 'default' : `batch ${batch}, 50 ms`}), start -> drained`,
          opsPerSec: hubRate,
          ratio: hubRate / plain.result,
        },
        {
          name: `shipped hub latency p50 at ${STEADY_RATE}/s (publish -> queryable)`,
          opsPerSec: shipped.p50,
          unit: 'ms',
        },
        {
          name: `shipped hub latency p99 at ${STEADY_RATE}/s (publish -> queryable)`,
          opsPerSec: shipped.p99,
          unit: 'ms',
        },
        {
          name: `the same, p50 in the ${STEADY_SECONDS} s right after the burst`,
          opsPerSec: shipped.afterBurstP50,
          unit: 'ms',
        },
        {
          name: `the same, p99 in the ${STEADY_SECONDS} s right after the burst`,
          opsPerSec: shipped.afterBurstP99,
          unit: 'ms',
        },
        {
          name: `the same, p50 in ${STEADY_SECONDS} s with ${READERS} dashboard readers`,
          opsPerSec: shipped.readersP50,
          unit: 'ms',
        },
        {
          name: `the same, p99 in ${STEADY_SECONDS} s with ${READERS} dashboard readers`,
          opsPerSec: shipped.readersP99,
          unit: 'ms',
        },
        { name: 'shipped hub peak RSS (VmHWM) while draining', opsPerSec: shipped.peakRssMb, unit: 'MB' },
      ],
      notes: [
        `targets (issue 14): shipped hub >= 0.5x the plain consumer (${(shipped.rate / plain.result).toFixed(2)}x), >= 0.8x the ceiling (${(shipped.rate / ceiling).toFixed(2)}x), p99 < 250 ms at ${STEADY_RATE}/s (${shipped.p99.toFixed(0)} ms, over the ${shipped.steady} events of the second ${STEADY_SECONDS} s at that rate)`,
        `shipped hub: ready ${shipped.startSeconds.toFixed(2)} s after spawn, ${EVENTS} events drained ${shipped.drainSeconds.toFixed(2)} s after spawn; CPU ${shipped.usPerEvent.toFixed(0)} us/event (hub process, all threads, first -> last); at ${STEADY_RATE}/s (second window) ${shipped.steadyUsPerEvent.toFixed(0)} us/event, ${((shipped.steadyUsPerEvent * STEADY_RATE) / 1e4).toFixed(0)} % of a core, ${shipped.steadySystemUsPerEvent.toFixed(0)} us of it in the kernel (mostly creating ClickHouse's part files: see the machine line's filesystem)`,
        `CPU per event (this process + nats-server): bare ${raw.us.toFixed(1)} us, plain ${plain.us.toFixed(1)} us, floor ${floor.us.toFixed(1)} us, validate alone ${validation.us.toFixed(1)} us, ClickHouse insert alone ${insert.us.toFixed(1)} us, in-process hub ${(((hubCpu + natsCpuSeconds) * 1e6) / EVENTS).toFixed(1)} us`,
        `dashboard readers: ${READERS} loops of the pages' calls (DORA 30 days by cluster, then what runs where, 100 services) through the shipped hub's HTTP API during the third ${STEADY_SECONDS} s at ${STEADY_RATE}/s: ${shipped.reads} answered, p50 ${shipped.readP50.toFixed(0)} ms`,
        `in-process hub time by stage over the ${EVENTS} events (${hubSeconds.toFixed(2)} s in all): ${stages}`,
      ],
    };
  } finally {
    await nc.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
