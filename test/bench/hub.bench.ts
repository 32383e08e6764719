import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { type CDEvent, createEvent, fromNats } from '@argus/cdevents';
import { Hub } from '@argus/hub';
import { countEvents, Store, toEventRow } from '@argus/store';
import { captureLogs, NatsServer, waitFor } from '@argus/testkit';
import { AckPolicy, type JetStreamClient, type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { BenchResult } from './harness.js';

const decoder = new TextDecoder();
const EVENTS = Number(process.env.ARGUS_BENCH_HUB_EVENTS ?? 30_000);
const STEADY_RATE = 1000;
const STEADY_SECONDS = Number(process.env.ARGUS_BENCH_HUB_STEADY_SECONDS ?? 10);

const event = (i: number, run: string): CDEvent =>
  createEvent({
    type: 'service.deployed',
    id: `${run}-${i}`,
    source: `/argocd/prod-eu/apps/app-${i % 500}`,
    timestamp: new Date(Date.UTC(2026, 10, 24, 10, 0, 0, i)).toISOString(),
    subject: {
      id: `app-${i % 500}`,
      content: {
        environment: { id: 'prod-eu/apps', source: '/argocd/prod-eu' },
        artifactId: `pkg:helm/app-${i % 500}@1.${i}.0?repository_url=ghcr.io%2Facme%2Fcharts`,
      },
    },
    customData: {
      argocd: {
        app: `app-${i % 500}`,
        project: 'default',
        syncStatus: 'Synced',
        healthStatus: 'Healthy',
        historyId: i,
      },
    },
  });

const publishAll = async (js: JetStreamClient, count: number, run: string) => {
  const window = 1000;
  for (let start = 0; start < count; start += window) {
    const acks = [];
    for (let i = start; i < Math.min(start + window, count); i++) {
      const m = rawMessage(event(i, run), { instance: 'bench', cluster: 'prod-eu' });
      acks.push(js.publish(m.subject, m.data, { headers: m.headers, msgID: m.msgId }));
    }
    await Promise.all(acks);
  }
};

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

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

export const run = async (): Promise<BenchResult> => {
  const server = await NatsServer.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'argus-bench-hub-'));
  const logs = captureLogs({ level: 'warn' });
  const nc = await server.connect();
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  try {
    await ensureStreams(jsm);
    await publishAll(js, EVENTS, 'throughput');
    const natsCpu = () => {
      const fields = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(fields[11]) + Number(fields[12])) / 100;
    };
    /** CPU microseconds per event of this process and nats-server while `work` runs. */
    const cpuPerEvent = async <T>(work: () => Promise<T>): Promise<{ result: T; us: number }> => {
      const node = process.cpuUsage();
      const nats = natsCpu();
      const result = await work();
      const used = process.cpuUsage(node);
      return { result, us: (used.user + used.system + (natsCpu() - nats) * 1e6) / EVENTS };
    };
    const raw = await cpuPerEvent(() => rawConsumeRate(nc, EVENTS));
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

    const hub = new Hub({
      nc,
      store,
      logger: logs.logger,
      batchSize: Number(process.env.ARGUS_BENCH_HUB_BATCH ?? 5000),
      batchMaxWaitMs: 50,
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

    // Latency at a steady rate: publish -> seen on the unified stream, which the hub writes after the insert.
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const sub = nc.subscribe('cdevents.unified.>', {
      callback: (_err, msg) => {
        const id = msg.headers?.get('ce-id') ?? '';
        const t = sentAt.get(id);
        if (t !== undefined) latencies.push(performance.now() - t);
      },
    });
    const total = STEADY_RATE * STEADY_SECONDS;
    const steadyStart = performance.now();
    for (let i = 0; i < total; i++) {
      const due = steadyStart + (i * 1000) / STEADY_RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const e = event(i, 'steady');
      const m = rawMessage(e, { instance: 'bench', cluster: 'prod-eu' });
      sentAt.set(e.context.id, performance.now());
      void js.publish(m.subject, m.data, { headers: m.headers, msgID: m.msgId });
    }
    await waitFor(() => latencies.length >= total, {
      what: `${total} events on the unified stream`,
      timeoutMs: 120_000,
    });
    sub.unsubscribe();
    latencies.sort((a, b) => a - b);
    await hub.stop();
    await store.close();
    return {
      benchmark: `hub end to end: ${EVENTS} events CDEVENTS_RAW -> ClickHouse (embedded) + CDEVENTS`,
      baseline: 'raw JetStream consume+ack of the same messages, same run',
      measurements: [
        { name: 'raw consume+ack (baseline)', opsPerSec: raw.result, ratio: 1 },
        {
          name: 'consume + republish + ack, nothing else (floor)',
          opsPerSec: floor.result,
          ratio: floor.result / raw.result,
        },
        {
          name: 'ceiling on 2 cores: 2 s / CPU of (floor + validate + insert)',
          opsPerSec: ceiling,
          ratio: ceiling / raw.result,
        },
        {
          name: 'hub (validate, dedupe, tag, store, republish, ack)',
          opsPerSec: hubRate,
          ratio: hubRate / raw.result,
        },
        {
          name: `latency p50 at ${STEADY_RATE}/s (publish -> stored)`,
          opsPerSec: percentile(latencies, 50),
          unit: 'ms',
        },
        {
          name: `latency p99 at ${STEADY_RATE}/s (publish -> stored)`,
          opsPerSec: percentile(latencies, 99),
          unit: 'ms',
        },
      ],
      notes: [
        `targets: >= 0.5x the raw rate and >= 30k events/s; p50/p99 over ${total} events`,
        `CPU per event (this process + nats-server): raw ${raw.us.toFixed(1)} us, floor ${floor.us.toFixed(1)} us, validate alone ${validation.us.toFixed(1)} us, ClickHouse insert alone ${insert.us.toFixed(1)} us, hub ${(((hubCpu + natsCpuSeconds) * 1e6) / EVENTS).toFixed(1)} us`,
        `hub time by stage over the ${EVENTS} events (${hubSeconds.toFixed(2)} s in all): ${stages}`,
        `CPU during the hub run: hub process (Node + chdb) ${hubCpu.toFixed(2)} s, nats-server ${natsCpuSeconds.toFixed(2)} s, of ${(2 * hubSeconds).toFixed(2)} s available on 2 cores`,
      ],
    };
  } finally {
    await nc.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
