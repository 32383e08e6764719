/**
 * The agent watching 5,000 applications: a simulated Argo CD (argocd-sim CLI, its own process) serves
 * 5,000 apps, each synced once; an `argus agent --source api` process lists them, detects the first
 * deployments and environments, spools and publishes them. Reported: time to catch up, events/s, and the
 * agent's peak RSS (VmHWM) against the 100 MB target; baselines from the same run: the RSS of a bare node
 * process and of the same agent watching no apps, and serial acknowledged JetStream publishes of the same events.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AGENT_NODE_OPTIONS } from '@argus/agent';
import { ensureStreams, RAW_STREAM } from '@argus/bus';
import { freePort, NatsServer, waitFor } from '@argus/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { BenchResult } from './harness.js';

/** NODE_OPTIONS of every agent in deploy/k8s (test/deploy/k8s.test.ts checks they are these). */
const AS_DEPLOYED = AGENT_NODE_OPTIONS.split(' ');

const APPS = Number(process.env.ARGUS_BENCH_AGENT_APPS ?? 5000);
const RSS_TARGET_MB = 100;
const TOKEN = 'bench-token';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SIM = fileURLToPath(new URL('../../packages/argocd-sim/src/cli.ts', import.meta.url));
const ARGUS_DIST = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
const CLUSTERS = [
  { name: 'in-cluster', server: 'https://kubernetes.default.svc' },
  { name: 'prod-eu', server: 'https://prod-eu.k8s.example.com:6443' },
  { name: 'prod-us', server: 'https://prod-us.k8s.example.com:6443' },
];

/** Kilobytes of a `/proc/<pid>/status` field (VmRSS: now, VmHWM: the peak so far). */
const procKb = (pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN);
};
const mb = (kb: number) => kb / 1024;

const children = new Set<ChildProcess>();
const launch = (args: readonly string[], output: string[] = []) => {
  const child = spawn(process.execPath, [...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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
  await waitFor(
    () => {
      if (sim.child.exitCode !== null) throw new Error(`argocd-sim exited: ${errors.join('')}`);
      return done;
    },
    { what: `argocd-sim to play ${name}`, timeoutMs: 120_000 },
  );
  return { api, stop: sim.stop };
};

const startAgent = async (options: {
  instance: string;
  api: string;
  nats: string;
  spoolDir: string;
  nodeFlags?: readonly string[];
}) => {
  const port = await freePort();
  const errors: string[] = [];
  const agent = launch(
    [
      ...(options.nodeFlags ?? []),
      ARGUS_DIST,
      'agent',
      '--instance',
      options.instance,
      '--source',
      'api',
      '--cluster',
      'hub',
      '--argocd-url',
      options.api,
      '--argocd-token',
      TOKEN,
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
  );
  agent.child.stdout?.resume();
  const ready = async () => {
    if (agent.child.exitCode !== null) throw new Error(`agent exited: ${errors.join('')}`);
    const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    return res?.status === 200;
  };
  return { ...agent, ready, pid: agent.child.pid };
};

export const run = async (): Promise<BenchResult> => {
  // The agent runs compiled, as `pnpm argus` and production do: tsx would add ~30 MB of its own.
  const build = spawnSync(process.execPath, [TSC, '-b', 'packages/cli'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`agent benchmark: tsc -b packages/cli failed:\n${build.stdout}`);
  const server = await NatsServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'argus-bench-agent-'));
  const nc = await server.connect();
  const jsm = await jetstreamManager(nc);
  try {
    await ensureStreams(jsm);
    const expected =
      APPS + new Set(Array.from({ length: APPS }, (_, i) => `${i % CLUSTERS.length}/${i % 50}`)).size;

    // Baseline 1: a bare node process.
    const bare = launch(['-e', 'setInterval(() => {}, 1000)']);
    await new Promise((r) => setTimeout(r, 500));
    const bareKb = procKb(bare.child.pid, 'VmHWM');
    await bare.stop();

    // Baseline 2: the same agent process watching an Argo CD without applications.
    const empty = await startSim(dir, 'bench-empty', 0);
    const idle = await startAgent({
      instance: 'bench-idle',
      api: empty.api,
      nats: server.url,
      spoolDir: dir,
    });
    await waitFor(idle.ready, { what: 'the idle agent to be ready', timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 2000));
    const idleKb = procKb(idle.pid, 'VmHWM');
    await idle.stop();
    await empty.stop();

    // The measured runs: 5,000 apps, each synced once, listed by a fresh agent (its own instance and an
    // empty stream each time: the ids do not depend on the observer, so a second run would be all duplicates).
    const sim = await startSim(dir, 'bench-load', APPS);
    const load = async (instance: string, nodeFlags: readonly string[] = []) => {
      await jsm.streams.delete(RAW_STREAM);
      await ensureStreams(jsm);
      const started = performance.now();
      const agent = await startAgent({ instance, api: sim.api, nats: server.url, spoolDir: dir, nodeFlags });
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
      return {
        rate: expected / publishing,
        catchUp: (doneAt - started) / 1000,
        publishing,
        hwm: mb(hwmKb),
        settled: mb(settledKb),
        sampled: mb(sampledKb),
      };
    };
    // Node as deploy/k8s runs every agent (NODE_OPTIONS): a capped young generation (V8 otherwise grows
    // it to 2 x 16 MB under this load) and V8's memory-over-speed mode.
    const smallYoung = await load('bench-semi', AS_DEPLOYED);
    const measured = await load('bench');
    await sim.stop();

    // Baseline 3: the same messages published one at a time, each awaiting its ack, as the agent's loop does.
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

    return {
      benchmark: `agent: ${APPS} Argo CD apps over ${CLUSTERS.length} clusters, listed through the API source, ${expected} first events published`,
      baseline:
        'serial acked JetStream publishes of the same events; RSS of a bare node and of an idle agent, same run',
      measurements: [
        { name: 'serial js.publish + ack (baseline)', opsPerSec: baselineRate, ratio: 1 },
        {
          name: 'agent: detect, spool, publish, save progress',
          opsPerSec: measured.rate,
          ratio: measured.rate / baselineRate,
        },
        { name: 'catch-up: process start -> last event acked', opsPerSec: measured.catchUp, unit: 's' },
        { name: 'agent peak RSS (VmHWM)', opsPerSec: measured.hwm, unit: 'MB' },
        { name: 'agent RSS once caught up', opsPerSec: measured.settled, unit: 'MB' },
        { name: `same, node ${AS_DEPLOYED.join(' ')}: peak RSS`, opsPerSec: smallYoung.hwm, unit: 'MB' },
        { name: 'idle agent, no apps, peak RSS (baseline)', opsPerSec: mb(idleKb), unit: 'MB' },
        { name: 'bare node process RSS (baseline)', opsPerSec: mb(bareKb), unit: 'MB' },
      ],
      notes: [
        `target: agent peak RSS <= ${RSS_TARGET_MB} MB with ${APPS} apps: ${measured.hwm <= RSS_TARGET_MB ? 'met' : 'NOT met'} with node's defaults (${measured.hwm.toFixed(1)} MB), ${smallYoung.hwm <= RSS_TARGET_MB ? 'met' : 'NOT met'} as deploy/k8s runs it (${smallYoung.hwm.toFixed(1)} MB, at ${smallYoung.rate.toFixed(0)} events/s)`,
        `publishing took ${measured.publishing.toFixed(2)} s of the ${measured.catchUp.toFixed(2)} s catch-up; the rest is process start, NATS, KV and the first list`,
        'the agent runs compiled (packages/cli/dist, built by this benchmark with tsc -b); nats-server, the simulator (tsx), the agent and this process share the cores',
      ],
    };
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await nc.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};
