import {
  type RunningServer,
  runScenario,
  type Scenario,
  simulatorFor,
  startArgoCdApi,
  startKubeApi,
} from '@argus/argocd-sim';
import { HEADERS, RAW_STREAM } from '@argus/bus';
import { isCDEvent } from '@argus/cdevents';
import { captureLogs, waitFor } from '@argus/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { describe, expect, test } from 'vitest';
import { ArgoCdApiSource } from '../src/sources/argocd-api.js';
import { KubernetesSource } from '../src/sources/kubernetes.js';
import type { AppSource } from '../src/sources/source.js';
import { AGENTS_BUCKET, type AgentHeartbeat } from '../src/state/progress-store.js';
import {
  AGENT_STREAMS,
  BASIC_EXPECTED,
  basicScenario,
  cleanupsAfterEach,
  natsForFile,
  rawMessages,
  TOKEN,
  tempSpool,
  testAgent,
  typesBy,
} from './fixtures.js';

/** The scenario of the simulator's basic.yaml (fixtures.ts, inline so these tests read on their own). */
const scenario: Scenario = basicScenario('argo-prod-eu');

/** What the agent must publish for the scenario, per app, in order. */
const EXPECTED = BASIC_EXPECTED;
const TOTAL = Object.values(EXPECTED).flat().length;

const nats = natsForFile({
  connect: { maxReconnectAttempts: -1, reconnectTimeWait: 200 },
  freshBeforeEach: AGENT_STREAMS,
});
const logs = captureLogs({ level: 'info' });
const cleanups = cleanupsAfterEach();

interface Published {
  readonly subject: string;
  readonly type: string;
  readonly key: string;
  readonly id: string;
  readonly cluster: string;
  readonly app: string;
}

const published = async (): Promise<Published[]> =>
  (await rawMessages(nats.nc)).map((m) => {
    const event = m.json<{
      context: { type: string; id: string };
      subject: { id: string };
      customData?: { argocd?: { app?: string; namespace?: string } };
    }>();
    expect(isCDEvent(event)).toBe(true);
    const type = event.context.type.split('.').slice(2, 4).join('.');
    return {
      subject: m.subject,
      type,
      key: type,
      id: event.context.id,
      cluster: m.header.get(HEADERS.destinationCluster),
      app: event.customData?.argocd?.app ?? event.subject.id.split('/')[1] ?? '',
    };
  });

const byApp = (events: readonly Published[]) => typesBy(events, (e) => e.app);

let run = 0;
/**
 * A simulator of its own (its own app uids) whose scenario clock started a minute ago, so health
 * debounces have elapsed.
 */
const simulation = () =>
  simulatorFor(
    { ...scenario, instance: { ...scenario.instance, name: `argo-${++run}` } },
    new Date(Date.now() - 60_000),
  );

const startAgent = async (source: AppSource, spoolFile: string, instance = `argo-prod-eu-${run}`) => {
  const agent = testAgent({
    nc: nats.nc,
    logger: logs.logger,
    source,
    instance,
    architecture: 'distributed',
    inClusterName: 'prod-eu',
    spoolFile,
  });
  await agent.start();
  await waitFor(() => agent.synced, { what: 'the agent to list the applications' });
  return agent;
};

const serve = async (start: () => Promise<RunningServer>) => {
  const running = await start();
  cleanups.push(() => running.close());
  return running;
};

const spool = () => tempSpool('argus-agent-');

describe('agent on the Argo CD API source', () => {
  test('publishes every transition of the scenario once, in order, with the destination cluster', async () => {
    const target = simulation();
    const api = await serve(() => startArgoCdApi(target.sim, { token: TOKEN }));
    const agent = await startAgent(
      new ArgoCdApiSource({ url: api.url, token: TOKEN, logger: logs.logger }),
      spool(),
    );
    cleanups.push(() => agent.stop());
    await runScenario(target, scenario, { instant: true });
    await waitFor(async () => (await published()).length >= TOTAL, {
      what: `${TOTAL} events on CDEVENTS_RAW`,
      timeoutMs: 20_000,
    });
    const events = await published();
    expect(byApp(events)).toEqual(EXPECTED);
    expect(new Set(events.map((e) => e.id)).size).toBe(TOTAL);
    expect(
      events.every(
        (e) => e.cluster === 'prod-eu' && e.subject.startsWith(`cdevents.raw.argo-prod-eu-${run}.`),
      ),
    ).toBe(true);
    expect(agent.published).toBe(TOTAL);
  });

  test('the heartbeat names the listed clusters and apps right after the first list, not a beat later', async () => {
    const target = simulation();
    for (const app of scenario.apps) target.sim.createApp(app);
    const api = await serve(() => startArgoCdApi(target.sim, { token: TOKEN }));
    // heartbeatMs is a minute: the only beats are the one at start (nothing listed yet) and the one after the list.
    const agent = await startAgent(
      new ArgoCdApiSource({ url: api.url, token: TOKEN, logger: logs.logger }),
      spool(),
    );
    cleanups.push(() => agent.stop());
    const kv = await new Kvm(nats.nc).open(AGENTS_BUCKET);
    const beat = async () => (await kv.get(`argo-prod-eu-${run}`))?.json<AgentHeartbeat>();
    await waitFor(async () => (await beat())?.apps === 2, { what: 'a heartbeat with the 2 listed apps' });
    expect(await beat()).toMatchObject({ clusters: ['prod-eu'], apps: 2, source: 'api' });
  });

  test('a stream that drops messages loses nothing: history and relists fill the gaps', async () => {
    const target = simulation();
    const api = await serve(() => startArgoCdApi(target.sim, { token: TOKEN, dropEvery: 3 }));
    const agent = await startAgent(
      new ArgoCdApiSource({ url: api.url, token: TOKEN, logger: logs.logger, resyncMs: 500 }),
      spool(),
    );
    cleanups.push(() => agent.stop());
    await runScenario(target, scenario, { instant: true });
    await waitFor(async () => (await published()).length >= 10, {
      what: 'events despite the dropped stream messages',
      timeoutMs: 20_000,
    });
    // Deployments come from history: none is lost even when the message showing it was dropped.
    await waitFor(
      async () => {
        const grouped = byApp(await published());
        return (
          JSON.stringify(grouped.podinfo) === JSON.stringify(EXPECTED.podinfo) &&
          (grouped.guestbook ?? []).filter((t) => t.startsWith('service.')).length === 3
        );
      },
      { what: 'every deployment and the removal', timeoutMs: 20_000 },
    );
  });

  test('a restarted agent continues where the last one stopped: nothing repeated, nothing skipped', async () => {
    const target = simulation();
    const api = await serve(() => startArgoCdApi(target.sim, { token: TOKEN }));
    const file = spool();
    const first = await startAgent(
      new ArgoCdApiSource({ url: api.url, token: TOKEN, logger: logs.logger }),
      file,
    );
    const firstHalf: Scenario = { ...scenario, steps: scenario.steps.slice(0, 5) };
    await runScenario(target, firstHalf, { instant: true });
    await waitFor(async () => (await published()).length >= 7, { what: 'the first half of the events' });
    await first.stop();
    const before = first.published;
    const second = await startAgent(
      new ArgoCdApiSource({ url: api.url, token: TOKEN, logger: logs.logger }),
      file,
    );
    cleanups.push(() => second.stop());
    await runScenario(target, { ...scenario, apps: [], steps: scenario.steps.slice(5) }, { instant: true });
    await waitFor(async () => (await published()).length >= TOTAL, {
      what: `${TOTAL} events`,
      timeoutMs: 20_000,
    });
    expect(byApp(await published())).toEqual(EXPECTED);
    expect(before + second.published).toBe(TOTAL);
  });

  test('NATS down for a while: events are spooled on disk and published in order when it returns', async () => {
    const target = simulation();
    const api = await serve(() => startArgoCdApi(target.sim, { token: TOKEN }));
    const agent = await startAgent(
      new ArgoCdApiSource({ url: api.url, token: TOKEN, logger: logs.logger }),
      spool(),
    );
    cleanups.push(() => agent.stop());
    await runScenario(target, { ...scenario, steps: scenario.steps.slice(0, 2) }, { instant: true });
    await waitFor(async () => (await published()).length >= 4, { what: 'the first four events' });
    await nats.server.kill();
    await runScenario(target, { ...scenario, apps: [], steps: scenario.steps.slice(2) }, { instant: true });
    await waitFor(() => agent.spoolDepth > 0, { what: 'events waiting in the spool while NATS is down' });
    await new Promise((r) => setTimeout(r, 2000));
    await nats.server.restart();
    await waitFor(async () => (await published()).length >= TOTAL, {
      what: `${TOTAL} events after NATS returned`,
      timeoutMs: 30_000,
    });
    expect(byApp(await published())).toEqual(EXPECTED);
    expect(agent.spoolDepth).toBe(0);
  });
});

describe('agent stopping', () => {
  test('a stop while publishing is retried ends the retry wait at once', async () => {
    const target = simulation();
    const api = await serve(() => startArgoCdApi(target.sim, { token: TOKEN }));
    const agent = await startAgent(
      new ArgoCdApiSource({ url: api.url, token: TOKEN, logger: logs.logger }),
      spool(),
    );
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await agent.stop();
    });
    // Without the raw stream every publish fails at once (no responders), so the loop spends its
    // time in the backoff's waits: 250 ms, 500 ms, ... up to 5 s. The next test makes it again.
    await (await jetstreamManager(nats.nc)).streams.delete(RAW_STREAM);
    await runScenario(target, { ...scenario, steps: scenario.steps.slice(0, 2) }, { instant: true });
    await waitFor(() => agent.spoolDepth > 0, { what: 'events waiting in the spool' });
    await new Promise((r) => setTimeout(r, 6000));
    const started = performance.now();
    await agent.stop();
    stopped = true;
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('agent lifecycle', () => {
  test('status says why it is not ready (the source, then the spool); closed() resolves once stopped', async () => {
    const target = simulation();
    const api = await serve(() => startArgoCdApi(target.sim, { token: TOKEN }));
    const agent = testAgent({
      nc: nats.nc,
      logger: logs.logger,
      source: new ArgoCdApiSource({ url: api.url, token: TOKEN, logger: logs.logger }),
      instance: `argo-prod-eu-${run}`,
      architecture: 'distributed',
      inClusterName: 'prod-eu',
      spoolFile: spool(),
    });
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await agent.stop();
    });
    expect(agent.status()).toEqual({ ready: false, reasons: ['source: not listed yet'] });
    await agent.start();
    await waitFor(() => agent.status().ready, { what: 'the agent to list the applications' });
    // Without the raw stream no publish succeeds: the spool is the one reason, the source has listed.
    await (await jetstreamManager(nats.nc)).streams.delete(RAW_STREAM);
    await runScenario(target, { ...scenario, steps: scenario.steps.slice(0, 2) }, { instant: true });
    await waitFor(() => agent.spoolDepth > 0, { what: 'events waiting in the spool' });
    const { ready, reasons } = agent.status();
    expect(ready).toBe(false);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^spool: \d+ events waiting for NATS$/);

    let closed = false;
    const closing = agent.closed().then(() => {
      closed = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    await agent.stop();
    stopped = true;
    await closing;
    expect(closed).toBe(true);
  });
});

describe('agent on the Kubernetes watch source', () => {
  test('the same scenario gives the same events, with the same ids, as the API source', async () => {
    const target = simulation();
    const kube = await serve(() => startKubeApi(target.sim, { token: TOKEN, bookmarkMs: 200 }));
    const agent = await startAgent(
      new KubernetesSource({
        server: kube.url,
        token: TOKEN,
        namespace: 'argocd',
        logger: logs.logger,
        watchTimeoutSeconds: 2,
      }),
      spool(),
    );
    cleanups.push(() => agent.stop());
    await runScenario(target, scenario, { instant: true });
    await waitFor(async () => (await published()).length >= TOTAL, {
      what: `${TOTAL} events`,
      timeoutMs: 20_000,
    });
    const events = await published();
    expect(byApp(events)).toEqual(EXPECTED);

    // A second observer of the same Argo CD apps (the API source this time, another instance id) publishes
    // the same occurrences with the same identities (source + id). Each publisher's raw message ids are
    // its own (one agent must not be able to suppress another's events), so the raw stream keeps both
    // copies; the hub, which knows who may report which source, stores one.
    const target2 = simulatorFor(
      { ...scenario, instance: { ...scenario.instance, name: `argo-${run}` } },
      new Date(target.start),
    );
    const api = await serve(() => startArgoCdApi(target2.sim, { token: TOKEN }));
    const other = await startAgent(
      new ArgoCdApiSource({ url: api.url, token: TOKEN, logger: logs.logger }),
      spool(),
      'argo-copy',
    );
    cleanups.push(() => other.stop());
    await runScenario(target2, scenario, { instant: true });
    await waitFor(() => other.published >= TOTAL, { what: `the second observer to publish ${TOTAL} events` });
    expect(other.published).toBe(TOTAL);
    await waitFor(async () => (await published()).length >= 2 * TOTAL, { what: `${2 * TOTAL} raw messages` });
    const both = await published();
    expect(both.length).toBe(2 * TOTAL);
    expect(new Set(both.map((e) => e.id))).toEqual(new Set(events.map((e) => e.id)));
    expect(byApp(both.filter((e) => e.subject.includes('.argo-copy.')))).toEqual(EXPECTED);
  });
});
