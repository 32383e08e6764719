/**
 * The chaos scenarios, sized by the caller: the CI suite (chaos.int.test.ts) runs them small and
 * bounded in time, the soak (`pnpm chaos`) large. Each returns its row of the summary table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApps, type SimulatedArgoCD, simulatorFor, startArgoCdApi } from '@argus/argocd-sim';
import { connectNats, natsNotReadyReason, RAW_STREAM } from '@argus/bus';
import { ArgusProcess, captureLogs, freePort, NatsCluster, NatsServer, waitFor } from '@argus/testkit';
import type { NatsConnection } from '@nats-io/nats-core';
import { procCpuSeconds } from '../bench/proc.js';
import {
  type ChaosRow,
  chaosEvent,
  hubProcess,
  patientJsm,
  publishSteadily,
  sleep,
  storedCounts,
  unifiedCounts,
  verdict,
  waitDrained,
  waitHubReady,
} from './harness.js';

const quietLogger = () => captureLogs({ level: 'fatal' }).logger;
const ids = (scenario: string, count: number) =>
  Array.from({ length: count }, (_, i) => chaosEvent(scenario, i).context.id);

interface Fixture {
  readonly dataDir: string;
  readonly nc: NatsConnection;
  cleanup(): Promise<void>;
}

const fixture = async (servers: string): Promise<Fixture> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'argus-chaos-'));
  const nc = await connectNats({ servers, name: 'chaos-observer', logger: quietLogger() });
  return {
    dataDir,
    nc,
    cleanup: async () => {
      await nc.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

/** Where a hub scenario runs: one nats-server, or a 3-node cluster. */
interface Nats {
  readonly urls: string;
  stop(): Promise<void>;
}

/**
 * A hub scenario: `scenario` events published steadily onto the raw stream by an at-least-once
 * publisher while `strike` breaks something; it returns the hub that is left and when the fault
 * ended. The verdict reads every event id back from the store and the unified stream.
 */
const hubScenario = async (
  title: string,
  key: string,
  events: number,
  nats: Nats,
  strike: (f: Fixture) => Promise<{ hub: ArgusProcess; fault: string; faultOverAt: number }>,
): Promise<ChaosRow> => {
  const f = await fixture(nats.urls);
  try {
    const { hub, fault, faultOverAt } = await strike(f);
    const recoverMs = Math.max(0, Date.now() - faultOverAt);
    await hub.stop();
    return verdict(
      title,
      fault,
      ids(key, events),
      await storedCounts(f.dataDir),
      await unifiedCounts(f.nc),
      recoverMs,
    );
  } finally {
    await f.cleanup();
    await nats.stop();
  }
};

const singleNode = async (): Promise<Nats> => {
  const server = await NatsServer.start();
  return { urls: server.url, stop: () => server.stop() };
};

/** The hub SIGKILLed `kills` times while `events` flow, and restarted at once each time. */
export const hubKilledRepeatedly = async (
  events: number,
  perSecond: number,
  kills: number,
): Promise<ChaosRow> => {
  const nats = await singleNode();
  return hubScenario('hub SIGKILLed repeatedly', 'hubkill', events, nats, async (f) => {
    let hub = hubProcess(nats.urls, f.dataDir);
    const publishing = publishSteadily(nats.urls, 'hubkill', events, perSecond);
    const everyMs = ((events / perSecond) * 1000) / (kills + 1);
    let lastRestart = Date.now();
    for (let k = 0; k < kills; k++) {
      await sleep(everyMs);
      await hub.kill('SIGKILL');
      hub = hubProcess(nats.urls, f.dataDir);
      lastRestart = Date.now();
    }
    await publishing;
    await Promise.race([waitDrained(f.nc, events), hub.died]);
    return { hub, fault: `${kills} SIGKILLs while ${events} events flow`, faultOverAt: lastRestart };
  });
};

/** Every ClickHouse insert fails for `failMs`; the hub must stop acking, retry, and lose nothing. */
export const insertsFailing = async (events: number, failMs: number): Promise<ChaosRow> => {
  const nats = await singleNode();
  return hubScenario('ClickHouse inserts failing', 'inserts', events, nats, async (f) => {
    const hub = hubProcess(nats.urls, f.dataDir, {
      env: { ARGUS_FAILPOINT: `fail-inserts-for=${failMs}ms` },
    });
    const failingUntil = Date.now() + failMs;
    await Promise.race([
      (async () => {
        await publishSteadily(nats.urls, 'inserts', events, events / Math.max(1, failMs / 1000));
        await waitDrained(f.nc, events);
      })(),
      hub.died,
    ]);
    return { hub, fault: `every insert refused for ${failMs / 1000} s`, faultOverAt: failingUntil };
  });
};

/**
 * CPU a hub may use while its NATS is away, as a share of one core: idle it uses about 2 %, and
 * 0.3-0.9 s per 10 s right after the kill while it settles the batches in hand (measured); a busy
 * reconnect or retry loop would take the whole core.
 */
const CPU_SHARE_WITHOUT_NATS = 0.2;

/** /readyz of a hub: its status code and reasons (undefined while it does not answer). */
const readyz = async (url: string) => {
  const answer = await fetch(`${url}/readyz`).catch(() => undefined);
  if (answer === undefined) return undefined;
  const body = (await answer.json()) as { reasons?: string[] };
  return { status: answer.status, reasons: body.reasons ?? [] };
};

/**
 * nats-server SIGKILLed under a hub with events in hand, away `awayMs`, then restarted on the same
 * port and store: meanwhile the hub waits with bounded CPU, says not ready, logs the loss once; after,
 * it is ready again and every event is stored and republished once.
 */
export const hubWithoutNats = async (events: number, awayMs: number): Promise<ChaosRow> => {
  const server = await NatsServer.start();
  const nats: Nats = { urls: server.url, stop: () => server.stop() };
  return hubScenario('hub without nats-server', 'natsgone', events, nats, async (f) => {
    const http = `127.0.0.1:${await freePort()}`;
    const hub = hubProcess(server.url, f.dataDir, { httpListen: http, logLevel: 'info' });
    const url = `http://${http}`;
    await waitHubReady(f.nc, hub);
    await Promise.race([publishSteadily(server.url, 'natsgone', events, events * 2), hub.died]);
    await server.kill();
    const notReady = await waitFor(
      async () => {
        const r = await readyz(url);
        return r?.status === 503 && r.reasons.some((reason) => reason.startsWith('nats:')) ? r : undefined;
      },
      { what: '/readyz to say the hub waits for NATS', timeoutMs: 10_000, intervalMs: 100 },
    );
    const pid = hub.child.pid;
    const cpuBefore = procCpuSeconds(pid);
    await Promise.race([sleep(awayMs), hub.died]);
    const cpu = procCpuSeconds(pid) - cpuBefore;
    const stillNotReady = await readyz(url);
    await server.restart();
    const backAt = Date.now();
    // The observer's own requests sent while it reconnects are lost and wait out their 30 s timeout.
    await waitFor(() => natsNotReadyReason(f.nc) === undefined, {
      what: 'the observer to reconnect',
      timeoutMs: 10_000,
    });
    await Promise.race([waitDrained(f.nc, events), hub.died]);
    await waitFor(async () => (await readyz(url))?.status === 200, {
      what: '/readyz to say ready again',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    const lines = hub.output.split('\n').filter((l) => l.startsWith('{'));
    const said = (prefix: string) =>
      lines.filter((l) => String((JSON.parse(l) as { msg?: unknown }).msg).startsWith(prefix)).length;
    const problems = [
      cpu > CPU_SHARE_WITHOUT_NATS * (awayMs / 1000)
        ? `used ${cpu.toFixed(2)} s of CPU in ${awayMs / 1000} s without NATS`
        : '',
      stillNotReady?.status === 503 ? '' : `/readyz answered ${JSON.stringify(stillNotReady)} without NATS`,
      said('nats connection lost') === 1 ? '' : `logged the loss ${said('nats connection lost')} times`,
      said('nats reconnected') === 1 ? '' : `logged the reconnect ${said('nats reconnected')} times`,
    ].filter((p) => p !== '');
    if (problems.length > 0)
      throw new Error(
        `the hub without NATS: ${problems.join('; ')}\n${JSON.stringify(notReady)}\n${hub.output}`,
      );
    return {
      hub,
      fault: `nats-server SIGKILLed for ${awayMs / 1000} s (hub CPU meanwhile ${cpu.toFixed(2)} s)`,
      faultOverAt: backAt,
    };
  });
};

/** A 3-node JetStream cluster (R3 streams) loses the raw stream's leader while events flow. */
export const clusterLosesNode = async (events: number, perSecond: number): Promise<ChaosRow> => {
  const cluster = await NatsCluster.start();
  return hubScenario(
    '3-node cluster loses a node',
    'cluster',
    events,
    { urls: cluster.urls, stop: () => cluster.stop() },
    async (f) => {
      const hub = hubProcess(cluster.urls, f.dataDir, { replicas: 3 });
      // Streams exist before the fault, as in production: an R3 stream cannot be created on two nodes.
      await waitHubReady(f.nc, hub);
      const publishing = publishSteadily(cluster.urls, 'cluster', events, perSecond);
      await sleep(((events / perSecond) * 1000) / 2);
      // Kill the node leading the raw stream: the worst one to lose.
      const jsm = await patientJsm(f.nc);
      const leader = (await jsm.streams.info(RAW_STREAM)).cluster?.leader ?? 'argus-n1';
      await cluster.kill(Math.max(0, cluster.indexOf(leader)));
      const lostAt = Date.now();
      await Promise.race([publishing.then(() => waitDrained(f.nc, events, 120_000)), hub.died]);
      return { hub, fault: `the raw stream's leader (${leader}) killed mid-flow`, faultOverAt: lostAt };
    },
  );
};

const SIM_TOKEN = 'chaos-token';

interface AgentWorld {
  readonly sim: SimulatedArgoCD;
  readonly setTime: (ms: number) => void;
  readonly start: number;
  readonly apps: readonly string[];
  /** What the agent must publish for `rounds` syncs of every app. */
  expected(rounds: number): Map<string, number>;
}

const agentWorld = (apps: number): AgentWorld => {
  const clusters = [{ name: 'in-cluster', server: 'https://kubernetes.default.svc' }];
  const definitions = generateApps(apps, clusters);
  const target = simulatorFor({ instance: { name: 'chaos-argo', clusters }, apps: definitions, steps: [] });
  for (const app of definitions) target.sim.createApp(app);
  const environments = new Set(definitions.map((d) => d.destination.namespace)).size;
  return {
    sim: target.sim,
    setTime: target.setTime,
    start: target.start,
    apps: definitions.map((d) => d.name),
    expected: (rounds) =>
      new Map([
        ['service.deployed', apps],
        ['service.upgraded', apps * (rounds - 1)],
        ['environment.created', environments],
      ]),
  };
};

/** Syncs every app `rounds` times, one app every `gapMs`, calling `fault` once half-way. */
const playRounds = async (world: AgentWorld, rounds: number, gapMs: number, fault: () => Promise<void>) => {
  const total = rounds * world.apps.length;
  let step = 0;
  for (let round = 1; round <= rounds; round++) {
    for (const app of world.apps) {
      step++;
      world.setTime(world.start + step * 1000);
      world.sim.sync(app, { revision: `r${round}` });
      if (step === Math.floor(total / 2)) await fault();
      await sleep(gapMs);
    }
  }
};

const agentProcess = (apiUrl: string, nats: string, listenPort: number, spoolDir: string): ArgusProcess =>
  new ArgusProcess([
    'agent',
    '--instance',
    'chaos-argo',
    '--source',
    'api',
    '--argocd-url',
    apiUrl,
    '--argocd-token',
    SIM_TOKEN,
    '--nats',
    nats,
    '--listen',
    `127.0.0.1:${listenPort}`,
    '--spool-dir',
    spoolDir,
    '--heartbeat',
    '2s',
    '--log-level',
    'warn',
  ]);

/** Verdict for agent scenarios: ids are the agent's own, so counts by type are compared. */
const agentVerdict = async (
  scenario: string,
  fault: string,
  expected: Map<string, number>,
  f: Fixture,
  recoverMs: number,
): Promise<ChaosRow> => {
  const stored = await storedCounts(f.dataDir);
  const unified = await unifiedCounts(f.nc);
  let lost = 0;
  let sent = 0;
  let storedTotal = 0;
  for (const [type, n] of expected) {
    sent += n;
    const got = stored.byType.get(type) ?? 0;
    storedTotal += Math.min(got, n);
    lost += Math.max(0, n - got);
  }
  let duplicates = 0;
  for (const n of stored.queryable.values()) if (n > 1) duplicates += n - 1;
  for (const n of unified.values()) if (n > 1) duplicates += n - 1;
  // Anything stored beyond what Argo CD did is a repeat under another id: count it as a duplicate.
  const extra = [...stored.queryable.keys()].length - sent;
  if (extra > 0) duplicates += extra;
  if (unified.size < sent) lost += sent - unified.size;
  return {
    scenario,
    fault,
    sent,
    stored: storedTotal,
    duplicates,
    lost,
    extraRows: stored.rows - stored.queryable.size,
    recoverMs,
  };
};

/** What an agent scenario breaks half-way, given its pieces; returns when the fault is over. */
type AgentFault = (env: { nats: NatsServer; restartAgent: () => Promise<void> }) => Promise<void>;

/**
 * A hub and an agent (Argo CD API source) as processes; Argo CD syncs every app `rounds` times and
 * `fault` strikes half-way. The verdict compares what Argo CD did with what is stored and republished.
 */
const agentScenario = async (
  scenario: string,
  fault: string,
  apps: number,
  rounds: number,
  strike: AgentFault,
): Promise<ChaosRow> => {
  const nats = await NatsServer.start();
  const f = await fixture(nats.url);
  const world = agentWorld(apps);
  const api = await startArgoCdApi(world.sim, { token: SIM_TOKEN, host: '127.0.0.1', port: 0 });
  const spool = mkdtempSync(join(tmpdir(), 'argus-chaos-spool-'));
  const port = await freePort();
  try {
    const hub = hubProcess(nats.url, f.dataDir);
    // Streams exist before the fault, as in production: the fault is meant for the agent, and a hub
    // still starting (migrations, from source, on loaded cores) when NATS went away exited instead.
    await waitHubReady(f.nc, hub);
    let agent = agentProcess(api.url, nats.url, port, spool);
    let backAt = Date.now();
    await playRounds(world, rounds, 20, async () => {
      await strike({
        nats,
        restartAgent: async () => {
          await agent.kill('SIGKILL');
          await sleep(500);
          agent = agentProcess(api.url, nats.url, port, spool);
        },
      });
      backAt = Date.now();
    });
    const expected = world.expected(rounds);
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    await waitFor(
      async () => (await (await patientJsm(f.nc)).streams.info(RAW_STREAM)).state.messages >= total,
      { what: `${total} agent events on the raw stream`, timeoutMs: 120_000, intervalMs: 250 },
    );
    await waitDrained(f.nc, total);
    const recoverMs = Date.now() - backAt;
    await agent.stop();
    await hub.stop();
    return await agentVerdict(scenario, `${fault} (${apps} apps x ${rounds} syncs)`, expected, f, recoverMs);
  } finally {
    await api.close();
    await f.cleanup();
    rmSync(spool, { recursive: true, force: true });
    await nats.stop();
  }
};

/** nats-server stopped for `downMs` and started again while an agent publishes Argo CD's changes. */
export const natsRestartedUnderAgent = (apps: number, rounds: number, downMs: number): Promise<ChaosRow> =>
  agentScenario(
    'nats-server restarted under an agent',
    `nats-server down ${downMs / 1000} s mid-scenario`,
    apps,
    rounds,
    async ({ nats }) => {
      await nats.kill();
      await sleep(downMs);
      await nats.restart();
    },
  );

/** The agent SIGKILLed mid-scenario and restarted on the same spool. */
export const agentKilled = (apps: number, rounds: number): Promise<ChaosRow> =>
  agentScenario('agent SIGKILLed and restarted', 'SIGKILL mid-scenario', apps, rounds, ({ restartAgent }) =>
    restartAgent(),
  );
