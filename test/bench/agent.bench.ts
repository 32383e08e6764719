/**
 * The agent at a large instance (20,000 applications by default, ARGUS_BENCH_AGENT_APPS=<n> for another
 * size): a simulated Argo CD (argocd-sim CLI, its own process) serves the apps, each synced once; a fresh
 * `argus agent` process lists them, detects the first deployments and environments, spools and publishes
 * them. Reported, as deployed (AGENT_NODE_OPTIONS) and with node's defaults: catch-up (process start -> last
 * event acknowledged) against 30 s, events/s, and the agent's peak RSS (VmHWM) against 120 MB; the same
 * through the Kubernetes source. Baselines from the same run: the RSS of a bare node process and of the same
 * agent watching no apps, serial acknowledged JetStream publishes of the same events, and the simulator
 * alone serving the list and the stream's opening burst to a reader that only counts lines.
 *
 * ARGUS_BENCH_AGENT_NODE=<node binary> runs the agents with another Node (the image's, say: deploy/images
 * ships Node 24); ARGUS_BENCH_AGENT_NODE_OPTIONS="<flags>" measures those flags in place of the deployed ones
 * (to try flags before putting them in AGENT_NODE_OPTIONS); ARGUS_BENCH_AGENT_PROFILE=<dir> writes a V8 CPU
 * profile of the as-deployed API run there.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AGENT_NODE_OPTIONS } from '@argus/agent';
import { ensureStreams, RAW_STREAM } from '@argus/bus';
import { freePort, NatsServer, waitFor } from '@argus/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { BenchResult } from './harness.js';
import { procCpuSeconds, procKb } from './proc.js';
import { ARGUS_SHIPPED, buildCli } from './shipped-hub.js';

/** Flags tried in place of the deployed ones; unset or empty: the deployed ones. */
const TRIED_OPTIONS = process.env.ARGUS_BENCH_AGENT_NODE_OPTIONS?.trim() ?? '';
/**
 * node's flags for every agent in deploy/k8s, on its command line as here (test/deploy/k8s.test.ts checks
 * they are these), or the flags tried instead.
 */
const AS_DEPLOYED = (TRIED_OPTIONS === '' ? AGENT_NODE_OPTIONS : TRIED_OPTIONS).split(/\s+/);
const AS_DEPLOYED_LABEL = TRIED_OPTIONS === '' ? 'as deployed' : 'as tried (ARGUS_BENCH_AGENT_NODE_OPTIONS)';

const APPS = Number(process.env.ARGUS_BENCH_AGENT_APPS ?? 20_000);
if (!Number.isInteger(APPS) || APPS < 1)
  throw new Error(
    `ARGUS_BENCH_AGENT_APPS=${process.env.ARGUS_BENCH_AGENT_APPS}: a positive integer is accepted`,
  );
const AGENT_NODE = process.env.ARGUS_BENCH_AGENT_NODE ?? process.execPath;
const PROFILE_DIR = process.env.ARGUS_BENCH_AGENT_PROFILE;
/** Issue 14: an agent watching 20,000 apps, as deployed. */
const RSS_TARGET_MB = 120;
const CATCH_UP_TARGET_S = 30;
const TOKEN = 'bench-token';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SIM = fileURLToPath(new URL('../../packages/argocd-sim/src/cli.ts', import.meta.url));
const CLUSTERS = [
  { name: 'in-cluster', server: 'https://kubernetes.default.svc' },
  { name: 'prod-eu', server: 'https://prod-eu.k8s.example.com:6443' },
  { name: 'prod-us', server: 'https://prod-us.k8s.example.com:6443' },
];

const mb = (kb: number) => kb / 1024;

const children = new Set<ChildProcess>();
const launch = (args: readonly string[], output: string[] = [], node = process.execPath) => {
  const child = spawn(node, [...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      children.delete(child);
    },
  };
};
const ts = (file: string, args: readonly string[]) => [
  '--conditions=argus-source',
  '--import',
  'tsx',
  file,
  ...args,
];

/** The argocd-sim CLI playing a scenario; resolves with its API URL once every step has been applied. */
const startSim = async (dir: string, name: string, generate: number) => {
  const file = join(dir, `${name}.yaml`);
  // YAML is a superset of JSON.
  writeFileSync(
    file,
    JSON.stringify({
      instance: { name, clusters: CLUSTERS },
      ...(generate > 0 ? { generate: { apps: generate, revision: '4f9c2e1' } } : {}),
    }),
  );
  const errors: string[] = [];
  const sim = launch(ts(SIM, ['--scenario', file, '--token', TOKEN]), errors);
  let api = '';
  let done = false;
  const lines = createInterface({ input: sim.child.stdout as NodeJS.ReadableStream });
  lines.on('line', (line) => {
    const message = JSON.parse(line) as { api?: string; done?: boolean };
    if (message.api !== undefined) api = message.api;
    if (message.done === true) done = true;
  });
  let kube = '';
  lines.on('line', (line) => {
    const message = JSON.parse(line) as { kube?: string };
    if (message.kube !== undefined) kube = message.kube;
  });
  await waitFor(
    () => {
      if (sim.child.exitCode !== null) throw new Error(`argocd-sim exited: ${errors.join('')}`);
      return done;
    },
    { what: `argocd-sim to play ${name}`, timeoutMs: 300_000 },
  );
  return { api, kube, stop: sim.stop, pid: sim.child.pid };
};

type Source = 'api' | 'kubernetes';

/** What the agent is told to watch: the simulator's Argo CD API, or its Kubernetes API. */
const sourceArgs = (source: Source, sim: { api: string; kube: string }) =>
  source === 'api'
    ? ['--source', 'api', '--argocd-url', sim.api, '--argocd-token', TOKEN]
    : [
        '--source',
        'kubernetes',
        '--kube-server',
        sim.kube,
        '--kube-token',
        TOKEN,
        '--cluster-names',
        CLUSTERS.map((c) => `${c.server}=${c.name}`).join(','),
      ];

const startAgent = async (options: {
  instance: string;
  sim: { api: string; kube: string };
  source: Source;
  nats: string;
  spoolDir: string;
  nodeFlags?: readonly string[];
}) => {
  const port = await freePort();
  const errors: string[] = [];
  const agent = launch(
    [
      ...(options.nodeFlags ?? []),
      ARGUS_SHIPPED,
      'agent',
      '--instance',
      options.instance,
      ...sourceArgs(options.source, options.sim),
      '--cluster',
      'hub',
      '--nats',
      options.nats,
      '--spool-dir',
      options.spoolDir,
      '--listen',
      `127.0.0.1:${port}`,
      '--log-level',
      'warn',
    ],
    errors,
    AGENT_NODE,
  );
  agent.child.stdout?.resume();
  const ready = async () => {
    if (agent.child.exitCode !== null) throw new Error(`agent exited: ${errors.join('')}`);
    const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    return res?.status === 200;
  };
  return { ...agent, ready, pid: agent.child.pid };
};

/**
 * The simulator alone: seconds until a reader that only splits lines has the whole list, and the stream's
 * opening burst of `apps` lines (the agent reads both).
 */
const serveTimes = async (api: string, apps: number) => {
  const headers = { authorization: `Bearer ${TOKEN}` };
  let started = performance.now();
  const list = await fetch(`${api}/api/v1/applications`, { headers });
  let bytes = 0;
  for await (const chunk of list.body as AsyncIterable<Uint8Array>) bytes += chunk.length;
  const listS = (performance.now() - started) / 1000;
  started = performance.now();
  const stop = new AbortController();
  const stream = await fetch(`${api}/api/v1/stream/applications`, { headers, signal: stop.signal });
  let lines = 0;
  try {
    for await (const chunk of stream.body as AsyncIterable<Uint8Array>) {
      for (const byte of chunk) if (byte === 0x0a) lines++;
      if (lines >= apps) break;
    }
  } finally {
    stop.abort();
  }
  return { listS, listMB: bytes / 2 ** 20, burstS: (performance.now() - started) / 1000 };
};

export const run = async (): Promise<BenchResult> => {
  // The agent runs as shipped: the bundle of `pnpm build` that the images run (tsx would add ~30 MB).
  buildCli();
  const agentNode = spawnSync(AGENT_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const server = await NatsServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'argus-bench-agent-'));
  const nc = await server.connect();
  const jsm = await jetstreamManager(nc);
  try {
    await ensureStreams(jsm);
    const expected =
      APPS + new Set(Array.from({ length: APPS }, (_, i) => `${i % CLUSTERS.length}/${i % 50}`)).size;

    // Baseline 1: a bare node process.
    const bare = launch(['-e', 'setInterval(() => {}, 1000)'], [], AGENT_NODE);
    await new Promise((r) => setTimeout(r, 500));
    const bareKb = procKb(bare.child.pid, 'VmHWM');
    await bare.stop();

    // Baseline 2: the same agent process, as deployed, watching an Argo CD without applications.
    const empty = await startSim(dir, 'bench-empty', 0);
    const idle = await startAgent({
      instance: 'bench-idle',
      sim: empty,
      source: 'api',
      nats: server.url,
      spoolDir: dir,
      nodeFlags: AS_DEPLOYED,
    });
    await waitFor(idle.ready, { what: 'the idle agent to be ready', timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 2000));
    const idleKb = procKb(idle.pid, 'VmHWM');
    await idle.stop();
    await empty.stop();

    // The measured runs: the apps, each synced once, listed by a fresh agent (its own instance and an
    // empty stream each time: the ids do not depend on the observer, so a second run would be all duplicates).
    const simStarted = performance.now();
    const sim = await startSim(dir, 'bench-load', APPS);
    const simStartS = (performance.now() - simStarted) / 1000;
    // Baseline 3: what the simulator alone takes to serve what the agent reads.
    const served = await serveTimes(sim.api, APPS);
    const load = async (instance: string, source: Source, nodeFlags: readonly string[]) => {
      await jsm.streams.delete(RAW_STREAM);
      await ensureStreams(jsm);
      const simCpuBefore = procCpuSeconds(sim.pid);
      const started = performance.now();
      const agent = await startAgent({ instance, sim, source, nats: server.url, spoolDir: dir, nodeFlags });
      let firstAt: number | undefined;
      let sampledKb = 0;
      await waitFor(
        async () => {
          sampledKb = Math.max(sampledKb, procKb(agent.pid, 'VmRSS'));
          const n = (await jsm.streams.info(RAW_STREAM)).state.messages;
          if (n > 0 && firstAt === undefined) firstAt = performance.now();
          return n >= expected;
        },
        { what: `${expected} events from the agent`, timeoutMs: 600_000, intervalMs: 50 },
      );
      const doneAt = performance.now();
      const agentCpuS = procCpuSeconds(agent.pid);
      const simCpuS = procCpuSeconds(sim.pid) - simCpuBefore;
      await waitFor(agent.ready, { what: 'the agent to report ready', timeoutMs: 30_000 });
      // Settled: the peak so far, and what stays resident once everything is published.
      await new Promise((r) => setTimeout(r, 3000));
      const hwmKb = procKb(agent.pid, 'VmHWM');
      const settledKb = procKb(agent.pid, 'VmRSS');
      await agent.stop();
      const stored = (await jsm.streams.info(RAW_STREAM)).state.messages;
      if (stored !== expected)
        throw new Error(`agent benchmark: ${stored} events stored, expected ${expected}`);
      const publishing = (doneAt - (firstAt ?? started)) / 1000;
      const catchUp = (doneAt - started) / 1000;
      return {
        rate: expected / publishing,
        catchUp,
        publishing,
        hwm: mb(hwmKb),
        settled: mb(settledKb),
        sampled: mb(sampledKb),
        agentCpuS,
        simCpuS,
      };
    };
    const profileFlags =
      PROFILE_DIR === undefined || PROFILE_DIR === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`];
    // Node as deploy/k8s runs every agent (its command line): a capped young generation (V8 otherwise grows
    // it to 2 x 16 MB under this load) and V8's memory-over-speed mode.
    const deployed = await load('bench-deployed', 'api', [...AS_DEPLOYED, ...profileFlags]);
    const defaults = await load('bench-defaults', 'api', []);
    const kubernetes = await load('bench-kubernetes', 'kubernetes', AS_DEPLOYED);
    await sim.stop();

    // Baseline 4: the same messages published one at a time, each awaiting its ack, as the agent's loop does.
    await jsm.streams.add({ name: 'BENCH_AGENT', subjects: ['bench.agent.>'] });
    const messages = [];
    for (let seq = 1; seq <= expected; seq++) {
      const m = await jsm.streams.getMessage(RAW_STREAM, { seq });
      if (m !== null) messages.push(m);
    }
    const js = jetstream(nc);
    const publishStart = performance.now();
    for (const m of messages) {
      await js.publish(`bench.agent.${m.subject}`, m.data, { headers: m.header });
    }
    const baselineRate = messages.length / ((performance.now() - publishStart) / 1000);
    await jsm.streams.delete('BENCH_AGENT');

    const flags = AS_DEPLOYED.join(' ');
    const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
    return {
      benchmark: `agent: ${APPS} Argo CD apps over ${CLUSTERS.length} clusters, ${expected} first events published, agent on node ${agentNode}`,
      baseline:
        'serial acked JetStream publishes of the same events; RSS of a bare node and of an idle agent; the simulator serving alone; same run',
      measurements: [
        { name: 'serial js.publish + ack (baseline)', opsPerSec: baselineRate, ratio: 1 },
        {
          name: `api source, ${AS_DEPLOYED_LABEL} (${flags}): events/s, first -> last ack`,
          opsPerSec: deployed.rate,
          ratio: deployed.rate / baselineRate,
        },
        { name: 'same: catch-up, process start -> last event acked', opsPerSec: deployed.catchUp, unit: 's' },
        { name: 'same: peak RSS (VmHWM)', opsPerSec: deployed.hwm, unit: 'MB' },
        { name: 'same: RSS once caught up', opsPerSec: deployed.settled, unit: 'MB' },
        { name: 'same: agent CPU', opsPerSec: deployed.agentCpuS, unit: 's' },
        {
          name: "api source, node's defaults: events/s",
          opsPerSec: defaults.rate,
          ratio: defaults.rate / baselineRate,
        },
        { name: 'same: catch-up', opsPerSec: defaults.catchUp, unit: 's' },
        { name: 'same: peak RSS (VmHWM)', opsPerSec: defaults.hwm, unit: 'MB' },
        {
          name: `kubernetes source, ${AS_DEPLOYED_LABEL}: events/s`,
          opsPerSec: kubernetes.rate,
          ratio: kubernetes.rate / baselineRate,
        },
        { name: 'same: catch-up', opsPerSec: kubernetes.catchUp, unit: 's' },
        { name: 'same: peak RSS (VmHWM)', opsPerSec: kubernetes.hwm, unit: 'MB' },
        {
          name: `idle agent ${AS_DEPLOYED_LABEL}, no apps, peak RSS (baseline)`,
          opsPerSec: mb(idleKb),
          unit: 'MB',
        },
        { name: 'bare node process RSS (baseline)', opsPerSec: mb(bareKb), unit: 'MB' },
        { name: `simulator alone: list of ${APPS} apps (baseline)`, opsPerSec: served.listS, unit: 's' },
        { name: 'simulator alone: stream opening burst (baseline)', opsPerSec: served.burstS, unit: 's' },
      ],
      notes: [
        `targets with ${APPS} apps, ${AS_DEPLOYED_LABEL}: peak RSS <= ${RSS_TARGET_MB} MB ${met(deployed.hwm <= RSS_TARGET_MB)} (${deployed.hwm.toFixed(1)} MB; kubernetes source ${kubernetes.hwm.toFixed(1)} MB), catch-up <= ${CATCH_UP_TARGET_S} s ${met(deployed.catchUp <= CATCH_UP_TARGET_S)} (${deployed.catchUp.toFixed(1)} s; kubernetes source ${kubernetes.catchUp.toFixed(1)} s)`,
        `api source ${AS_DEPLOYED_LABEL}: publishing took ${deployed.publishing.toFixed(1)} s of the ${deployed.catchUp.toFixed(1)} s catch-up; CPU meanwhile: agent ${deployed.agentCpuS.toFixed(1)} s, simulator ${deployed.simCpuS.toFixed(1)} s (kubernetes source: agent ${kubernetes.agentCpuS.toFixed(1)} s, simulator ${kubernetes.simCpuS.toFixed(1)} s)`,
        `the simulator generated the ${APPS} apps in ${simStartS.toFixed(1)} s; alone it serves the list (${served.listMB.toFixed(0)} MB) in ${served.listS.toFixed(1)} s and the stream's opening burst in ${served.burstS.toFixed(1)} s`,
        'the agent runs as shipped (packages/cli/bundle, built by this benchmark with pnpm build); nats-server, the simulator (tsx), the agent and this process share the cores',
      ],
    };
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await nc.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};
