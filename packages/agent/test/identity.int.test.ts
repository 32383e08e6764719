/**
 * One app, one identity and one progress, whatever Argo CD does to its uids and however its lists
 * hide it: the agent over real NATS, fed by a scripted source (the shapes of argocd-agent v0.8+
 * failovers and of Argo CD API lists filtered by RBAC, read in their sources).
 */
import { simulatorFor, startArgoCdApi } from '@argus/argocd-sim';
import type { CDEvent } from '@argus/cdevents';
import { parse } from '@argus/cdevents';
import { captureLogs, waitFor } from '@argus/testkit';
import { describe, expect, test } from 'vitest';
import { Agent } from '../src/agent.js';
import { type RevisionHistory, SOURCE_UID_ANNOTATION } from '../src/argocd/types.js';
import type { Application } from '../src/index.js';
import { AgentMetrics } from '../src/metrics.js';
import { ArgoCdApiSource } from '../src/sources/argocd-api.js';
import type { AppSource, SourceEvent } from '../src/sources/source.js';
import {
  AGENT_STREAMS,
  BASIC_GUESTBOOK,
  basicScenario,
  cleanupsAfterEach,
  natsForFile,
  rawMessages,
  TOKEN,
  tempSpool,
} from './fixtures.js';

const nats = natsForFile({ freshBeforeEach: AGENT_STREAMS });
const logs = captureLogs({ level: 'info' });
const cleanups = cleanupsAfterEach();

/** A source that says what the test tells it to, as the API source would (name decides the absence rule). */
class ScriptedSource implements AppSource {
  readonly name: 'api' | 'kubernetes';
  readonly reconnects = 0;
  readonly lastError = undefined;
  readonly #queue: SourceEvent[] = [];
  #wake: (() => void) | undefined;
  #stopped = false;
  constructor(name: 'api' | 'kubernetes') {
    this.name = name;
  }
  async clusterNames(): Promise<ReadonlyMap<string, string>> {
    return new Map();
  }
  say(event: SourceEvent): void {
    this.#queue.push(event);
    this.#wake?.();
  }
  stop(): void {
    this.#stopped = true;
    this.#wake?.();
  }
  async *events(): AsyncGenerator<SourceEvent> {
    while (!this.#stopped) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }
}

const entry = (id: number, revision: string): RevisionHistory => ({
  id,
  revision,
  deployStartedAt: `2026-01-01T0${id}:00:00Z`,
  deployedAt: `2026-01-01T0${id}:00:05Z`,
  source: { repoURL: 'https://github.com/acme/deploy', path: 'cart' },
});

const cart = (
  uid: string,
  rv: string,
  history: RevisionHistory[],
  annotations?: Record<string, string>,
): Application => ({
  metadata: {
    name: 'cart',
    namespace: 'argocd',
    uid,
    resourceVersion: rv,
    ...(annotations === undefined ? {} : { annotations }),
  },
  spec: { project: 'shop', destination: { name: 'in-cluster', namespace: 'shop' } },
  status: {
    history,
    health: { status: 'Healthy' },
    reconciledAt: '2026-01-01T09:00:00Z',
    controllerNamespace: 'argocd',
  },
});

const start = async (
  source: ScriptedSource,
  absentRemovalMs?: number,
  options: { spoolFile?: string; healthDebounceMs?: number } = {},
) => {
  const agent = new Agent({
    nc: nats.nc,
    logger: logs.logger,
    metrics: new AgentMetrics(),
    instance: `spoke-${source.name}`,
    architecture: 'argocd-agent',
    source,
    detector: {
      inClusterName: 'prod-eu',
      specVersion: '0.5.1',
      healthDebounceMs: options.healthDebounceMs ?? 0,
      emitResyncs: false,
    },
    spoolFile: options.spoolFile ?? tempSpool('argus-identity-'),
    version: 'test',
    heartbeatMs: 60_000,
    ...(absentRemovalMs === undefined ? {} : { absentRemovalMs }),
  });
  await agent.start();
  cleanups.push(() => agent.stop());
  return agent;
};

const events = async (): Promise<CDEvent[]> => (await rawMessages(nats.nc)).map((m) => parse(m.data));
const kinds = (list: readonly CDEvent[]) => list.map((e) => e.context.type.split('.').slice(2, 4).join('.'));

/** Hands the source events and waits until the agent has published `count` events in all and has no spool left. */
const settle = async (agent: Agent, count: number) => {
  await waitFor(async () => (await events()).length >= count && agent.spoolDepth === 0, {
    what: `${count} events published`,
  });
  // Nothing more arrives after a moment.
  await new Promise((r) => setTimeout(r, 300));
  expect(await events()).toHaveLength(count);
};

describe('one app, one progress', () => {
  test('a spoke copy whose source-uid is rewritten in place (principal failover) is neither removed nor deployed again', async () => {
    const source = new ScriptedSource('kubernetes');
    const agent = await start(source);
    source.say({
      type: 'snapshot',
      apps: [cart('spoke-1', '10', [entry(0, 'a')], { [SOURCE_UID_ANNOTATION]: 'principal-1' })],
    });
    await settle(agent, 2); // environment.created, service.deployed
    // argocd-agent v0.9 agent/inbound.go identityActionTransition: same object, new source-uid and principal-uid.
    const failedOver = cart('spoke-1', '11', [entry(0, 'a')], {
      [SOURCE_UID_ANNOTATION]: 'principal-2',
      'argocd.argoproj.io/principal-uid': 'p2',
    });
    source.say({ type: 'upsert', app: failedOver });
    source.say({ type: 'snapshot', apps: [failedOver] });
    source.say({
      type: 'upsert',
      app: cart('spoke-1', '12', [entry(0, 'a'), entry(1, 'b')], failedOver.metadata.annotations),
    });
    await settle(agent, 3);
    expect(kinds(await events())).toEqual(['environment.created', 'service.deployed', 'service.upgraded']);
  });

  test('an app listed under a new uid at the same address (the new principal) retires the old one without a removal', async () => {
    const source = new ScriptedSource('kubernetes');
    const agent = await start(source);
    source.say({ type: 'snapshot', apps: [cart('old-uid', '10', [entry(0, 'a')])] });
    await settle(agent, 2);
    source.say({ type: 'snapshot', apps: [cart('new-uid', '20', [entry(0, 'a')])] });
    source.say({ type: 'upsert', app: cart('new-uid', '21', [entry(0, 'a'), entry(1, 'b')]) });
    await settle(agent, 3);
    expect(kinds(await events())).toEqual(['environment.created', 'service.deployed', 'service.upgraded']);
  });

  test('the API list hiding an app (RBAC) removes nothing within the grace; gone longer, removed; back, followed again', async () => {
    const source = new ScriptedSource('api');
    const agent = await start(source, 1500);
    const other = cart('other', '5', [entry(0, 'x')]);
    other.metadata.name = 'other';
    source.say({ type: 'snapshot', apps: [cart('u1', '10', [entry(0, 'a')]), other] });
    await settle(agent, 3); // environment.created, 2 x service.deployed
    // A list without cart, then with it again: nothing happens.
    source.say({ type: 'snapshot', apps: [other] });
    source.say({ type: 'snapshot', apps: [cart('u1', '10', [entry(0, 'a')]), other] });
    await settle(agent, 3);
    // Missing from two lists 1.5 s apart: removed.
    source.say({ type: 'snapshot', apps: [other] });
    await new Promise((r) => setTimeout(r, 1600));
    source.say({ type: 'snapshot', apps: [other] });
    await settle(agent, 4);
    // Back with a new deployment: followed again.
    source.say({ type: 'snapshot', apps: [cart('u1', '30', [entry(0, 'a'), entry(1, 'b')]), other] });
    await settle(agent, 5);
    expect(kinds(await events())).toEqual([
      'environment.created',
      'service.deployed',
      'service.deployed',
      'service.removed',
      'service.upgraded',
    ]);
  });
});

describe('health without lastTransitionTime (Argo CD 2.4-2.13) across a restart', () => {
  test('the debounce counts from the first sight, kept in progress: a restart neither restarts nor repeats it', async () => {
    const degraded = cart('u1', '10', [entry(0, 'a')]);
    degraded.status = { ...degraded.status, health: { status: 'Degraded' } };
    const spoolFile = tempSpool('argus-health-restart-');
    const first = new ScriptedSource('kubernetes');
    const agent = await start(first, undefined, { spoolFile, healthDebounceMs: 4000 });
    const seenAt = Date.now();
    first.say({ type: 'snapshot', apps: [degraded] });
    await settle(agent, 2);
    await agent.stop();
    // A new agent with the same progress sees the same app 1.5 s later.
    await new Promise((r) => setTimeout(r, 1500));
    const second = new ScriptedSource('kubernetes');
    const restarted = await start(second, undefined, { spoolFile, healthDebounceMs: 4000 });
    second.say({ type: 'snapshot', apps: [degraded] });
    await waitFor(async () => (await events()).length >= 3, {
      what: 'the health incident',
      timeoutMs: 10_000,
    });
    const incidentAt = Date.now();
    expect(incidentAt - seenAt).toBeGreaterThanOrEqual(4000);
    expect(incidentAt - seenAt).toBeLessThan(5500);
    second.say({ type: 'snapshot', apps: [degraded] });
    await settle(restarted, 3);
    const incident = (await events())[2];
    expect(incident?.context.type).toMatch(/incident\.detected/);
    expect(Date.parse(incident?.context.timestamp ?? '') - seenAt).toBeLessThan(1000);
  });
});

describe('cluster names from the Argo CD API', () => {
  test('a cluster added or renamed while the agent runs is named so from the next list on; no permission, no names', async () => {
    const scenario = basicScenario('argo-clusters', [
      { ...BASIC_GUESTBOOK, destination: { server: 'https://10.0.0.9:6443', namespace: 'guestbook' } },
    ]);
    const target = simulatorFor(scenario, new Date(Date.now() - 120_000));
    for (const app of scenario.apps) target.sim.createApp(app);
    let mayReadClusters = false;
    const api = await startArgoCdApi(target.sim, { token: TOKEN, canGetClusters: () => mayReadClusters });
    cleanups.push(() => api.close());
    const agent = new Agent({
      nc: nats.nc,
      logger: logs.logger,
      metrics: new AgentMetrics(),
      instance: 'clusters',
      architecture: 'hub-and-spoke',
      source: new ArgoCdApiSource({ url: api.url, token: TOKEN, logger: logs.logger, resyncMs: 1000 }),
      detector: { inClusterName: 'mgmt', specVersion: '0.5.1', healthDebounceMs: 0, emitResyncs: false },
      spoolFile: tempSpool('argus-clusters-'),
      version: 'test',
      heartbeatMs: 60_000,
    });
    await agent.start();
    cleanups.push(() => agent.stop());
    await waitFor(() => agent.synced, { what: 'the agent to list' });
    // Without `clusters, get` Argo CD answers with no clusters: the destination is named by its URL.
    target.sim.sync('guestbook', { revision: 'aaa' });
    await waitFor(async () => (await events()).some((e) => e.context.type.includes('service.deployed')), {
      what: 'the first deployment',
    });
    expect((await events()).find((e) => e.context.type.includes('service.deployed'))?.context.source).toBe(
      '/argocd/https%3A%2F%2F10.0.0.9%3A6443/guestbook/guestbook',
    );
    expect(logs.lines().some((l) => String(l.msg).includes('Argo CD listed no clusters'))).toBe(true);
    // The permission is granted and the cluster added (then renamed): the next list names it.
    mayReadClusters = true;
    target.sim.addCluster({ name: 'spoke-9', server: 'https://10.0.0.9:6443' });
    target.sim.renameCluster('https://10.0.0.9:6443', 'prod-ap');
    await new Promise((r) => setTimeout(r, 2500));
    target.sim.sync('guestbook', { revision: 'bbb' });
    await waitFor(async () => (await events()).some((e) => e.context.type.includes('service.upgraded')), {
      what: 'the second deployment',
    });
    expect((await events()).find((e) => e.context.type.includes('service.upgraded'))?.context.source).toBe(
      '/argocd/prod-ap/guestbook/guestbook',
    );
  });
});
