/**
 * The real `argus agent` process (the CLI, as a subprocess) against the simulator's API server and a real
 * nats-server: SIGKILL mid-publish and restart, an outage of the Argo CD API, /metrics /healthz /readyz,
 * and nats-server stopped for 30 seconds while Argo CD keeps changing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AppDefinition,
  generateApps,
  type RunningServer,
  runScenario,
  type Scenario,
  simulatorFor,
  startArgoCdApi,
} from '@argus/argocd-sim';
import { ensureStreams, HEADERS, parseRawSubject, RAW_STREAM, rawMessageId } from '@argus/bus';
import { isCDEvent } from '@argus/cdevents';
import { ArgusProcess, freePort, NatsServer, waitFor } from '@argus/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { expect, test } from 'vitest';
import { ProgressStore } from '../src/index.js';
import { PUBLISH_BATCH_MAX } from '../src/publishing.js';
import {
  BASIC_EXPECTED,
  BASIC_GUESTBOOK,
  BASIC_PODINFO,
  BASIC_STEPS,
  cleanupsAfterEach,
  rawMessages,
  TOKEN,
  typesBy,
} from './fixtures.js';

/** The simulator's basic scenario (fixtures.ts); this file's guestbook names no targetRevision. */
const BASIC_APPS: AppDefinition[] = [
  BASIC_PODINFO,
  {
    ...BASIC_GUESTBOOK,
    source: { repoURL: 'https://github.com/argoproj/argocd-example-apps', path: 'guestbook' },
  },
];

const cleanups = cleanupsAfterEach();

/** A nats-server whose store outlives stop(), so it can come back with the same data. */
const startNats = async () => {
  const storeDir = mkdtempSync(join(tmpdir(), 'argus-agent-proc-nats-'));
  const server = await NatsServer.start({ storeDir });
  const nc = await server.connect({ maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  await ensureStreams(await jetstreamManager(nc));
  cleanups.push(async () => {
    await nc.close();
    await server.stop();
    rmSync(storeDir, { recursive: true, force: true });
  });
  return { server, nc };
};

/** The simulator behind an API server that can be closed and reopened on the same port. */
const startArgoCd = async (apps: readonly AppDefinition[]) => {
  const scenario: Scenario = { instance: { name: `argo-${Date.now()}` }, apps, steps: [] };
  // The scenario clock started a minute ago, so the health debounce of Degraded steps has elapsed.
  const target = simulatorFor(scenario, new Date(Date.now() - 60_000));
  let api: RunningServer | undefined = await startArgoCdApi(target.sim, { token: TOKEN });
  const port = Number(new URL(api.url).port);
  const url = api.url;
  cleanups.push(() => api?.close());
  return {
    target,
    url,
    play: (steps: Scenario['steps'], options: { speed?: number } = {}) =>
      runScenario(target, { ...scenario, steps }, options.speed === undefined ? { instant: true } : options),
    closeApi: async () => {
      await api?.close();
      api = undefined;
    },
    reopenApi: async () => {
      api = await startArgoCdApi(target.sim, { token: TOKEN, port });
    },
  };
};

/** `argus agent` as a child process; its output is kept for failure messages. */
const startAgentProcess = async (args: {
  nats: string;
  argocdUrl: string;
  spoolDir: string;
  httpPort: number;
  instance: string;
}) => {
  const agent = new ArgusProcess(
    [
      'agent',
      '--instance',
      args.instance,
      '--source',
      'api',
      '--cluster',
      'prod-eu',
      '--argocd-url',
      args.argocdUrl,
      '--argocd-token',
      TOKEN,
      '--nats',
      args.nats,
      '--spool-dir',
      args.spoolDir,
      '--listen',
      `127.0.0.1:${args.httpPort}`,
      '--heartbeat',
      '1s',
      // The deletion made while the API was away is seen in the next list, and counts at once here.
      '--absent-removal',
      '0',
    ],
    { env: { ARGUS_LOG_LEVEL: 'info' } },
  );
  const { child } = agent;
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => agent.kill(signal);
  cleanups.push(() => stop('SIGKILL'));
  const http = `http://127.0.0.1:${args.httpPort}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}:\n${agent.output}`);
      // The listener comes up before the agent has loaded its progress and spool: wait for both.
      const healthy = (await fetch(`${http}/healthz`).catch(() => undefined))?.ok === true;
      return healthy && agent.output.includes('"msg":"agent ready"');
    },
    { what: 'the agent process to serve /healthz and say it is ready', timeoutMs: 30_000 },
  );
  return { child, http, stop };
};

interface Stored {
  readonly type: string;
  readonly key: string;
  readonly msgId: string;
}

/** Every message of CDEVENTS_RAW in stream order, grouped by app (environment events under their namespace). */
const stored = async (nc: NatsConnection): Promise<Stored[]> => {
  const messages = await rawMessages(nc);
  const [first] = messages;
  // One agent published them all: its message ids are keyed with the secret in its bucket.
  const key =
    first === undefined
      ? ''
      : (await ProgressStore.open(nc, parseRawSubject(first.subject).instance)).messageIdKey;
  return messages.map((m) => {
    const event = m.json<{
      context: { type: string; id: string; source: string };
      subject: { id: string };
      customData?: { argocd?: { app?: string } };
    }>();
    expect(isCDEvent(event)).toBe(true);
    const { instance } = parseRawSubject(m.subject);
    expect(m.header.get(HEADERS.msgId)).toBe(
      rawMessageId(instance, event.context.source, event.context.id, key),
    );
    return {
      type: event.context.type.split('.').slice(2, 4).join('.'),
      key: event.customData?.argocd?.app ?? event.subject.id.split('/')[1] ?? '',
      msgId: m.header.get(HEADERS.msgId),
    };
  });
};

const count = async (nc: NatsConnection): Promise<number> =>
  (await (await jetstreamManager(nc)).streams.info(RAW_STREAM)).state.messages;

const byKey = (events: readonly Stored[]): Record<string, string[]> => typesBy(events, (e) => e.key);

/** `name{labels} value` lines of a Prometheus text exposition. */
const metric = (text: string, name: string, labels = ''): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};
const TYPE = (t: string) => `{type="dev.cdevents.${t}.0.3.0"}`;

test('SIGKILL mid-publish, restart with the same spool: every event exactly once, in order per app', async () => {
  const BULK = 1000;
  const bulk = generateApps(BULK, [{ name: 'in-cluster', server: 'https://kubernetes.default.svc' }]);
  const { nc, server } = await startNats();
  const argo = await startArgoCd([...BASIC_APPS, ...bulk]);
  const spoolDir = mkdtempSync(join(tmpdir(), 'argus-agent-proc-spool-'));
  cleanups.push(() => rmSync(spoolDir, { recursive: true, force: true }));
  const httpPort = await freePort();
  const agentArgs = { nats: server.url, argocdUrl: argo.url, spoolDir, httpPort, instance: 'prod-eu' };

  const first = await startAgentProcess(agentArgs);
  await waitFor(async () => (await fetch(`${first.http}/readyz`)).status === 200, {
    what: 'the first agent to be ready',
  });
  // Four basic steps (six events), then a burst of first deployments: the kill lands while it is published.
  await argo.play(BASIC_STEPS.slice(0, 4));
  await argo.play(bulk.map((app, i) => ({ at: i, sync: { app: app.name, revision: `rev-${i}` } })));
  const beforeBurst = 6;
  const burst = BULK + 50; // one service.deployed per app, one environment.created per team namespace
  // Past one batch: a restart that repeated everything published would repeat more than a batch.
  await waitFor(async () => (await count(nc)) >= beforeBurst + PUBLISH_BATCH_MAX + 100, {
    what: 'the burst to be partly published',
    intervalMs: 5,
  });
  await first.stop('SIGKILL');
  const atKill = await count(nc);
  const spooled = readFileSync(join(spoolDir, 'prod-eu.jsonl'), 'utf8').split('\n').filter(Boolean).length;
  expect(atKill, 'the kill should land mid-burst').toBeLessThan(beforeBurst + burst);
  expect(spooled, 'the spool still holds events when the process dies').toBeGreaterThan(0);

  // Argo CD moves on while no agent watches it.
  await argo.play(BASIC_STEPS.slice(4, 6));
  const second = await startAgentProcess(agentArgs);
  // Argo CD's stream loses changes made between its opening snapshot and its subscription (the
  // simulator plays that, as server/application/application.go Watch does): the short health spell
  // is played once the restarted agent has listed, so that it is seen.
  await waitFor(async () => (await fetch(`${second.http}/readyz`)).status === 200, {
    what: 'the restarted agent to list and drain its spool',
    timeoutMs: 30_000,
  });
  await argo.play(BASIC_STEPS.slice(6, 8));
  // The Argo CD API goes away and comes back: the source reconnects and relists (the deletion is seen in the list).
  await waitFor(async () => (await count(nc)) >= beforeBurst + burst + 5, {
    what: 'the events up to the health incident',
  });
  await argo.closeApi();
  await argo.play(BASIC_STEPS.slice(8));
  await new Promise((r) => setTimeout(r, 300));
  await argo.reopenApi();

  const total = Object.values(BASIC_EXPECTED).flat().length + burst;
  await waitFor(async () => (await count(nc)) >= total, {
    what: `${total} events on CDEVENTS_RAW`,
    timeoutMs: 30_000,
  });
  await waitFor(async () => (await fetch(`${second.http}/readyz`)).status === 200, {
    what: 'the restarted agent to be ready',
  });
  const events = await stored(nc);
  expect(events).toHaveLength(total);
  expect(new Set(events.map((e) => e.msgId)).size).toBe(total);
  const expected: Record<string, string[]> = { ...BASIC_EXPECTED };
  for (const app of bulk) expected[app.name] = ['service.deployed'];
  for (let n = 0; n < 50; n++) expected[`team-${n}`] = ['environment.created'];
  expect(byKey(events)).toEqual(expected);

  expect((await fetch(`${second.http}/healthz`)).status).toBe(200);
  const ready = await fetch(`${second.http}/readyz`);
  expect(await ready.json()).toEqual({ status: 'ready', reasons: [] });
  const metrics = await (await fetch(`${second.http}/metrics`)).text();
  // Counters belong to the restarted process: what it published (spool replays included, JetStream
  // dropped those as duplicates) and what happened after the kill.
  expect(metric(metrics, 'argus_agent_events_total', TYPE('service.rolledback'))).toBe(1);
  expect(metric(metrics, 'argus_agent_events_total', TYPE('service.removed'))).toBe(1);
  expect(metric(metrics, 'argus_agent_events_total', TYPE('incident.resolved'))).toBe(2);
  expect(metric(metrics, 'argus_agent_events_total', TYPE('environment.deleted'))).toBe(1);
  expect(metric(metrics, 'argus_agent_spool_depth')).toBe(0);
  // The spool records each batch's acknowledgements before the next batch goes out: the restart repeats
  // at most the batch the kill interrupted (absorbed by Nats-Msg-Id), not everything since the last compaction.
  expect(metric(metrics, 'argus_agent_duplicates_total')).toBeLessThanOrEqual(PUBLISH_BATCH_MAX);
  expect(metric(metrics, 'argus_agent_source_reconnects_total')).toBeGreaterThanOrEqual(1);
  expect(metric(metrics, 'argus_agent_apps')).toBe(BULK + 1);
  expect(metrics).toContain('argus_agent_publish_seconds_bucket');

  await second.stop('SIGTERM');
  expect(second.child.exitCode).toBe(0);
}, 120_000);

test('nats-server stopped for 30 s while Argo CD keeps changing: nothing lost, nothing twice', async () => {
  const { nc, server } = await startNats();
  const argo = await startArgoCd(BASIC_APPS);
  const spoolDir = mkdtempSync(join(tmpdir(), 'argus-agent-proc-spool-'));
  cleanups.push(() => rmSync(spoolDir, { recursive: true, force: true }));
  const agent = await startAgentProcess({
    nats: server.url,
    argocdUrl: argo.url,
    spoolDir,
    httpPort: await freePort(),
    instance: 'prod-eu',
  });
  await argo.play(BASIC_STEPS.slice(0, 2));
  await waitFor(async () => (await count(nc)) >= 4, { what: 'the first four events' });

  await server.stop();
  const stoppedAt = Date.now();
  // The rest of the scenario plays in real time (42 s of scenario time in ~26 s) while NATS is down.
  await argo.play(BASIC_STEPS.slice(2), { speed: 1.6 });
  const waiting = await fetch(`${agent.http}/readyz`);
  expect(waiting.status).toBe(503);
  expect(JSON.stringify(await waiting.json())).toMatch(/spool: \d+ events waiting for NATS/);
  // The spool holds the events and the checkpoints of progress that moved without one (a self-heal).
  const spooled = Object.values(BASIC_EXPECTED).flat().length - 4;
  await waitFor(
    async () =>
      (metric(await (await fetch(`${agent.http}/metrics`)).text(), 'argus_agent_spool_depth') ?? 0) >=
      spooled,
    { what: `${spooled} events in the spool` },
  );
  const metrics = await (await fetch(`${agent.http}/metrics`)).text();
  expect(metric(metrics, 'argus_agent_publish_errors_total')).toBeGreaterThan(0);
  await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - stoppedAt))));
  await server.restart();

  const total = Object.values(BASIC_EXPECTED).flat().length;
  await waitFor(async () => (await count(nc)) >= total, {
    what: `${total} events after nats-server returned`,
    timeoutMs: 30_000,
  });
  await waitFor(async () => (await fetch(`${agent.http}/readyz`)).status === 200, {
    what: 'the agent to be ready again',
  });
  const events = await stored(nc);
  expect(events).toHaveLength(total);
  expect(new Set(events.map((e) => e.msgId)).size).toBe(total);
  expect(byKey(events)).toEqual(BASIC_EXPECTED);
}, 120_000);

test('/readyz is not ready within seconds of NATS going away with nothing to publish, and ready after the reconnect (issue 12 item 4)', async () => {
  const { server } = await startNats();
  const argo = await startArgoCd(BASIC_APPS);
  const spoolDir = mkdtempSync(join(tmpdir(), 'argus-agent-proc-spool-'));
  cleanups.push(() => rmSync(spoolDir, { recursive: true, force: true }));
  const agent = await startAgentProcess({
    nats: server.url,
    argocdUrl: argo.url,
    spoolDir,
    httpPort: await freePort(),
    instance: 'prod-eu',
  });
  await waitFor(async () => (await fetch(`${agent.http}/readyz`)).status === 200, {
    what: 'the agent to be ready',
  });
  await server.stop();
  const stoppedAt = Date.now();
  // Nothing happens in Argo CD: no publish fails and the spool stays empty, only the connection tells.
  await waitFor(async () => (await fetch(`${agent.http}/readyz`)).status === 503, {
    what: '/readyz to turn not ready without NATS',
    timeoutMs: 5_000,
  });
  expect(Date.now() - stoppedAt).toBeLessThan(5_000);
  const body = (await (await fetch(`${agent.http}/readyz`)).json()) as { reasons: string[] };
  expect(body.reasons.join('\n')).toMatch(/^nats: disconnected for \d+ s, reconnecting/);
  await server.restart();
  await waitFor(async () => (await fetch(`${agent.http}/readyz`)).status === 200, {
    what: 'the agent to be ready again after the reconnect',
    timeoutMs: 30_000,
  });
}, 60_000);
