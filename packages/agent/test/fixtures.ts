/**
 * What the agent's tests share: the simulator's basic scenario and what the agent publishes for it, a
 * nats-server per test file, the webhook receiver on a loopback port, a test Agent, and CDEVENTS_RAW
 * read back in stream order.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppDefinition, buildScenario, type Scenario } from '@argus/argocd-sim';
import {
  DLQ_STREAM,
  ensureStreams,
  parseRawSubject,
  RAW_STREAM,
  rawMessageId,
  UNIFIED_STREAM,
} from '@argus/bus';
import type { TimeRange } from '@argus/cdevents';
import { type HealthServer, startHealthServer } from '@argus/runtime';
import { NatsServer } from '@argus/testkit';
import { jetstream, jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { Agent } from '../src/agent.js';
import { ProgressStore } from '../src/index.js';
import { AgentMetrics } from '../src/metrics.js';
import type { AppSource } from '../src/sources/source.js';
import { webhookRoute } from '../src/sources/webhook.js';

/** The token the simulator's API servers are started with. */
export const TOKEN = 'test-token';

/** podinfo of the simulator's basic scenario (scenarios/basic.yaml): multi-source Helm from OCI. */
export const BASIC_PODINFO: AppDefinition = {
  name: 'podinfo',
  project: 'demo',
  destination: { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
  sources: [{ repoURL: 'ghcr.io/stefanprodan/charts', chart: 'podinfo', targetRevision: '6.9.0' }],
  revisionHistoryLimit: 3,
};

/** guestbook of the simulator's basic scenario: single-source Git. */
export const BASIC_GUESTBOOK: AppDefinition = {
  name: 'guestbook',
  destination: { server: 'https://kubernetes.default.svc', namespace: 'guestbook' },
  source: {
    repoURL: 'https://github.com/argoproj/argocd-example-apps',
    path: 'guestbook',
    targetRevision: 'HEAD',
  },
};

/** The steps of the basic scenario, as written in a scenario file. */
const BASIC_STEP_DOCS = [
  { at: '0s', sync: { app: 'podinfo', revisions: ['6.9.0'] } },
  { at: '1s', sync: { app: 'guestbook', revision: '53e28ff2' } },
  { at: '2s', sync: { app: 'podinfo', revisions: ['6.9.2'] } },
  {
    at: '3s',
    sync: { app: 'guestbook', revision: '0d521c6e', fail: 'Deployment.apps "guestbook-ui" is invalid' },
  },
  { at: '4s', sync: { app: 'guestbook', revision: '0d521c6e' } },
  { at: '5s', rollback: { app: 'podinfo', toHistoryId: 0 } },
  { at: '6s', degrade: { app: 'guestbook' } },
  { at: '40s', recover: { app: 'guestbook' } },
  { at: '41s', selfHeal: { app: 'podinfo' } },
  { at: '42s', delete: { app: 'guestbook' } },
];

/**
 * The simulator's basic scenario (inline, so the tests read on their own): two apps on one Argo CD;
 * deploy, upgrade, a failed sync and its fix, a rollback, a degradation and recovery, a self-heal
 * re-sync, and a deletion.
 */
export const basicScenario = (
  instance: string,
  apps: readonly AppDefinition[] = [BASIC_PODINFO, BASIC_GUESTBOOK],
): Scenario => buildScenario({ instance: { name: instance }, apps, steps: BASIC_STEP_DOCS });

/** The basic scenario's steps, parsed. */
export const BASIC_STEPS: Scenario['steps'] = basicScenario('basic', []).steps;

/** What the agent must publish for the basic scenario, per app (environment events under their namespace), in order. */
export const BASIC_EXPECTED: Record<string, string[]> = {
  podinfo: ['environment.created', 'service.deployed', 'service.upgraded', 'service.rolledback'],
  guestbook: [
    'environment.created',
    'service.deployed',
    'incident.detected',
    'service.upgraded',
    'incident.resolved',
    'incident.detected',
    'incident.resolved',
    'service.removed',
    'environment.deleted',
  ],
};

/** Every stream the agent writes to, its KV buckets included (`*`: every stream with that prefix). */
export const AGENT_STREAMS = [
  RAW_STREAM,
  UNIFIED_STREAM,
  DLQ_STREAM,
  'KV_argus_agent_progress*',
  'KV_argus_agents',
] as const;

export interface NatsFixture {
  readonly server: NatsServer;
  readonly nc: NatsConnection;
}

/**
 * One nats-server for the test file (started before all, stopped after all) and a connection to it.
 * With `freshBeforeEach`, those streams are deleted and ensureStreams runs again before each test;
 * without it, ensureStreams runs once.
 */
export const natsForFile = (
  options: { connect?: Partial<ConnectionOptions>; freshBeforeEach?: readonly string[] } = {},
): NatsFixture => {
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await server.connect(options.connect);
    if (options.freshBeforeEach === undefined) await ensureStreams(await jetstreamManager(nc));
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });
  const fresh = options.freshBeforeEach;
  if (fresh !== undefined) {
    beforeEach(async () => {
      const jsm = await jetstreamManager(fixture.nc);
      const existing: string[] = [];
      for await (const name of jsm.streams.names()) existing.push(name);
      const doomed = existing.filter((name) =>
        fresh.some((s) => (s.endsWith('*') ? name.startsWith(s.slice(0, -1)) : name === s)),
      );
      for (const s of doomed) await jsm.streams.delete(s).catch(() => undefined);
      await ensureStreams(jsm);
    });
  }
  const fixture: NatsFixture = {
    get server() {
      if (server === undefined) throw new Error('the nats-server starts in beforeAll');
      return server;
    },
    get nc() {
      if (nc === undefined) throw new Error('the NATS connection opens in beforeAll');
      return nc;
    },
  };
  return fixture;
};

/** Cleanups a test registers (agents, servers), run after each test, the last registered first. */
export const cleanupsAfterEach = (): (() => Promise<void> | void)[] => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
};

/**
 * The `Nats-Msg-Id` the agent that published on `subject` gives an event: scoped to its instance and
 * keyed with the secret in its progress bucket (`rawMessageId`).
 */
export const expectedMsgId = async (
  nc: NatsConnection,
  subject: string,
  event: { readonly context: { readonly source: string; readonly id: string } },
): Promise<string> => {
  const { instance } = parseRawSubject(subject);
  const key = (await ProgressStore.open(nc, instance)).messageIdKey;
  return rawMessageId(instance, event.context.source, event.context.id, key);
};

/** Every message of CDEVENTS_RAW, in stream order. */
export const rawMessages = async (nc: NatsConnection): Promise<StoredMsg[]> => {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(RAW_STREAM);
  const out: StoredMsg[] = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(RAW_STREAM, { seq });
    if (m !== null) out.push(m);
  }
  return out;
};

/** The event types (`service.deployed`, ...) grouped by `key`, in order. */
export const typesBy = <T extends { readonly type: string }>(
  events: readonly T[],
  key: (e: T) => string,
): Record<string, string[]> => {
  const grouped: Record<string, string[]> = {};
  for (const e of events) {
    grouped[key(e)] ??= [];
    grouped[key(e)]?.push(e.type);
  }
  return grouped;
};

/** A spool file in a directory of its own. */
export const tempSpool = (prefix: string) => join(mkdtempSync(join(tmpdir(), prefix)), 'spool.jsonl');

/** An Agent with the tests' settings (spec 0.5.1, a 30 s health debounce, no resyncs, a heartbeat a minute); not started. */
export const testAgent = (options: {
  nc: NatsConnection;
  logger: Logger;
  source: AppSource;
  instance: string;
  architecture: string;
  inClusterName: string;
  spoolFile: string;
}): Agent =>
  new Agent({
    nc: options.nc,
    logger: options.logger,
    metrics: new AgentMetrics(),
    instance: options.instance,
    architecture: options.architecture,
    source: options.source,
    detector: {
      inClusterName: options.inClusterName,
      specVersion: '0.5.1',
      healthDebounceMs: 30_000,
      emitResyncs: false,
    },
    spoolFile: options.spoolFile,
    version: 'test',
    heartbeatMs: 60_000,
  });

/** The agent's HTTP listener on a free loopback port, serving only the webhook receiver (keyed ids, as main.ts). */
export const startWebhookReceiver = async (options: {
  nc: NatsConnection;
  logger: Logger;
  instance: string;
  inClusterName: string;
  maxEventBytes: number;
  timeRange?: TimeRange;
}): Promise<HealthServer> => {
  const metrics = new AgentMetrics();
  const { messageIdKey } = await ProgressStore.open(options.nc, options.instance);
  return startHealthServer({
    listen: { host: '127.0.0.1', port: 0 },
    registry: metrics.registry,
    logger: options.logger,
    readiness: () => ({ ready: true, reasons: [] }),
    routes: [
      webhookRoute({
        js: jetstream(options.nc),
        logger: options.logger,
        metrics,
        instance: options.instance,
        inClusterName: options.inClusterName,
        limits: { maxEventBytes: options.maxEventBytes, timeRange: options.timeRange },
        msgIdKey: messageIdKey,
      }),
    ],
  });
};
