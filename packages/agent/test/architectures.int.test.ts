/**
 * The four ways Argo CD is deployed, each watched the way Argus recommends (packages/agent/README.md,
 * "Architectures"), against the simulator and a real nats-server.
 */
import {
  type AppDefinition,
  buildScenario,
  type ClusterSpec,
  type RunningServer,
  runScenario,
  type Scenario,
  simulatorFor,
  startArgoCdApi,
} from '@argus/argocd-sim';
import { AGENTS_BUCKET, HEADERS } from '@argus/bus';
import { eventIdentity, isCDEvent } from '@argus/cdevents';
import { captureLogs, waitFor } from '@argus/testkit';
import { Kvm } from '@nats-io/kv';
import { describe, expect, test } from 'vitest';
import { SOURCE_UID_ANNOTATION } from '../src/argocd/types.js';
import { ArgoCdApiSource } from '../src/sources/argocd-api.js';
import {
  AGENT_STREAMS,
  cleanupsAfterEach,
  natsForFile,
  rawMessages,
  TOKEN,
  tempSpool,
  testAgent,
  typesBy,
} from './fixtures.js';

const nats = natsForFile({
  connect: { maxReconnectAttempts: -1, reconnectTimeWait: 200 },
  freshBeforeEach: AGENT_STREAMS,
});
const logs = captureLogs({ level: 'warn' });
const cleanups = cleanupsAfterEach();

interface Stored {
  readonly subject: string;
  /** `service.deployed`, `environment.created`, ... */
  readonly type: string;
  readonly id: string;
  readonly source: string;
  readonly cluster: string;
  readonly architecture: string;
  readonly msgId: string;
  /** The Argo CD app, or `<cluster>/<namespace>` for environment events. */
  readonly app: string;
}

/** Every message of CDEVENTS_RAW, in stream order. */
const stored = async (): Promise<Stored[]> =>
  (await rawMessages(nats.nc)).map((m) => {
    const event = m.json<{
      context: { type: string; id: string; source: string };
      subject: { id: string };
      customData?: { argocd?: { app?: string } };
    }>();
    expect(isCDEvent(event)).toBe(true);
    return {
      subject: m.subject,
      type: event.context.type.split('.').slice(2, 4).join('.'),
      id: event.context.id,
      source: event.context.source,
      cluster: m.header.get(HEADERS.destinationCluster),
      // Not sent per message since 0.2: the heartbeat carries it.
      architecture: m.header.get('Argus-Architecture'),
      msgId: m.header.get(HEADERS.msgId),
      app: event.customData?.argocd?.app ?? event.subject.id,
    };
  });

const byApp = (events: readonly Stored[]): Record<string, string[]> => typesBy(events, (e) => e.app);

const serve = async (start: () => Promise<RunningServer>) => {
  const running = await start();
  cleanups.push(() => running.close());
  return running;
};

const startAgent = async (options: {
  url: string;
  instance: string;
  architecture: string;
  inClusterName: string;
}) => {
  const agent = testAgent({
    nc: nats.nc,
    logger: logs.logger,
    source: new ArgoCdApiSource({ url: options.url, token: TOKEN, logger: logs.logger }),
    instance: options.instance,
    architecture: options.architecture,
    inClusterName: options.inClusterName,
    spoolFile: tempSpool('argus-arch-'),
  });
  await agent.start();
  cleanups.push(() => agent.stop());
  await waitFor(() => agent.synced, { what: `agent ${options.instance} to list the applications` });
  return agent;
};

/** One Argo CD instance served by the simulator's API server, its clock started a minute ago. */
const argoCd = async (scenario: Scenario, start = new Date(Date.now() - 60_000)) => {
  const target = simulatorFor(scenario, start);
  const api = await serve(() => startArgoCdApi(target.sim, { token: TOKEN }));
  return { target, url: api.url };
};

const source = (name: string) => ({
  repoURL: 'https://github.com/example/platform-apps',
  path: `apps/${name}`,
  targetRevision: 'HEAD',
});

describe('hub-and-spoke: one Argo CD deploying to several clusters', () => {
  const clusters: ClusterSpec[] = [
    { name: 'in-cluster', server: 'https://kubernetes.default.svc' },
    { name: 'prod-eu', server: 'https://prod-eu.k8s.example.com:6443' },
    { name: 'prod-us', server: 'https://prod-us.k8s.example.com:6443' },
  ];
  const scenario = buildScenario({
    instance: { name: 'argo-hub', clusters },
    apps: [
      { name: 'podinfo-eu', destination: { server: clusters[1]?.server, namespace: 'podinfo' } },
      { name: 'podinfo-us', destination: { server: clusters[2]?.server, namespace: 'podinfo' } },
      // Argo CD also accepts a destination by cluster name.
      { name: 'guestbook-us', destination: { name: 'prod-us', namespace: 'guestbook' } },
      // The hub's own cluster: named by the agent's --cluster, as Argo CD calls it in-cluster.
      { name: 'platform', destination: { server: clusters[0]?.server, namespace: 'platform' } },
    ].map((app) => ({ ...app, source: source(app.name) })),
    steps: [
      { at: '0s', sync: { app: 'podinfo-eu', revision: 'a1' } },
      { at: '1s', sync: { app: 'podinfo-us', revision: 'a1' } },
      { at: '2s', sync: { app: 'guestbook-us', revision: 'b1' } },
      { at: '3s', sync: { app: 'platform', revision: 'c1' } },
      { at: '4s', sync: { app: 'podinfo-eu', revision: 'a2' } },
    ],
  });
  const CLUSTER_OF: Record<string, string> = {
    'podinfo-eu': 'prod-eu',
    'podinfo-us': 'prod-us',
    'guestbook-us': 'prod-us',
    platform: 'hub',
    'prod-eu/podinfo': 'prod-eu',
    'prod-us/podinfo': 'prod-us',
    'prod-us/guestbook': 'prod-us',
    'hub/platform': 'hub',
  };

  test("each event carries its app's destination cluster (from /api/v1/clusters) in source and header", async () => {
    const { target, url } = await argoCd(scenario);
    const agent = await startAgent({
      url,
      instance: 'argo-hub',
      architecture: 'hub-and-spoke',
      inClusterName: 'hub',
    });
    await runScenario(target, scenario, { instant: true });
    const total = 5 + 4; // 5 service events, 4 environments
    await waitFor(async () => (await stored()).length >= total, { what: `${total} events` });
    const events = await stored();
    expect(events).toHaveLength(total);
    expect(byApp(events)).toEqual({
      'podinfo-eu': ['service.deployed', 'service.upgraded'],
      'podinfo-us': ['service.deployed'],
      'guestbook-us': ['service.deployed'],
      platform: ['service.deployed'],
      'prod-eu/podinfo': ['environment.created'],
      'prod-us/podinfo': ['environment.created'],
      'prod-us/guestbook': ['environment.created'],
      'hub/platform': ['environment.created'],
    });
    for (const e of events) {
      const cluster = CLUSTER_OF[e.app];
      expect(e.cluster, e.app).toBe(cluster);
      expect(e.source.startsWith(`/argocd/${cluster}/`), e.source).toBe(true);
      expect(e.architecture).toBe('');
      expect(e.subject.startsWith('cdevents.raw.argo-hub.')).toBe(true);
    }
    expect(agent.published).toBe(total);
  });
});

describe('distributed: one Argo CD per cluster, one agent each', () => {
  test('each agent publishes under its own cdevents.raw.<instance>.> with its own cluster', async () => {
    const instances = ['argo-eu', 'argo-us'] as const;
    const scenarioOf = (name: string) =>
      buildScenario({
        instance: { name },
        apps: [
          {
            name: 'podinfo',
            destination: { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
            source: source('podinfo'),
          },
        ],
        steps: [
          { at: '0s', sync: { app: 'podinfo', revision: 'a1' } },
          { at: '1s', sync: { app: 'podinfo', revision: 'a2' } },
        ],
      });
    for (const instance of instances) {
      const scenario = scenarioOf(instance);
      const { target, url } = await argoCd(scenario);
      await startAgent({
        url,
        instance,
        architecture: 'distributed',
        inClusterName: instance.replace('argo-', 'prod-'),
      });
      await runScenario(target, scenario, { instant: true });
    }
    await waitFor(async () => (await stored()).length >= 6, { what: 'three events from each agent' });
    const events = await stored();
    expect(events).toHaveLength(6);
    for (const instance of instances) {
      const own = events.filter((e) => e.subject.startsWith(`cdevents.raw.${instance}.`));
      expect(own.map((e) => e.type)).toEqual(['environment.created', 'service.deployed', 'service.upgraded']);
      const cluster = instance.replace('argo-', 'prod-');
      expect(own.every((e) => e.cluster === cluster && e.source.startsWith(`/argocd/${cluster}/`))).toBe(
        true,
      );
    }
    // The same app name on two clusters is two services: nothing was taken for a duplicate.
    expect(new Set(events.map((e) => e.msgId)).size).toBe(6);
  });
});

describe('managed Argo CD (Akuity, Codefresh): only its API is reachable', () => {
  test('the API source alone gives every event; the heartbeat records the architecture', async () => {
    const clusters: ClusterSpec[] = [{ name: 'prod-eu', server: 'https://prod-eu.k8s.example.com:6443' }];
    const scenario = buildScenario({
      instance: { name: 'acme-akuity', clusters },
      apps: [
        {
          name: 'podinfo',
          destination: { server: clusters[0]?.server, namespace: 'podinfo' },
          source: source('podinfo'),
        },
      ],
      steps: [
        { at: '0s', sync: { app: 'podinfo', revision: 'a1' } },
        { at: '1s', sync: { app: 'podinfo', revision: 'a2', fail: 'ImagePullBackOff' } },
        { at: '2s', sync: { app: 'podinfo', revision: 'a2' } },
      ],
    });
    const { target, url } = await argoCd(scenario);
    await startAgent({ url, instance: 'acme-akuity', architecture: 'managed', inClusterName: 'unused' });
    await runScenario(target, scenario, { instant: true });
    await waitFor(async () => (await stored()).length >= 5, { what: '5 events' });
    const events = await stored();
    expect(events.map((e) => e.type)).toEqual([
      'environment.created',
      'service.deployed',
      'incident.detected',
      'service.upgraded',
      'incident.resolved',
    ]);
    expect(events.every((e) => e.architecture === '' && e.cluster === 'prod-eu')).toBe(true);
    const kv = await new Kvm(nats.nc).open(AGENTS_BUCKET);
    const beat = (await kv.get('acme-akuity'))?.json<{ architecture: string; source: string }>();
    expect(beat).toMatchObject({ architecture: 'managed', source: 'api' });
  });
});

describe('Argo CD Agent (argoproj-labs/argocd-agent): a principal and its spoke, both watched', () => {
  /** The app on the principal targets the spoke through its registered cluster; the spoke deploys in-cluster. */
  const SPOKE_SERVER = 'https://argocd-agent-resource-proxy.argocd.svc.cluster.local:9090?agentName=spoke-1';
  const PRINCIPAL_CLUSTERS: ClusterSpec[] = [
    { name: 'in-cluster', server: 'https://kubernetes.default.svc' },
    { name: 'spoke-1', server: SPOKE_SERVER },
  ];
  const steps = [
    { at: '0s', sync: { app: 'podinfo', revision: '6.9.0' } },
    { at: '1s', sync: { app: 'podinfo', revision: '6.9.2' } },
    { at: '2s', sync: { app: 'podinfo', revision: '6.9.3', fail: 'Deployment.apps "podinfo" is invalid' } },
    { at: '3s', sync: { app: 'podinfo', revision: '6.9.3' } },
    { at: '4s', rollback: { app: 'podinfo', toHistoryId: 0 } },
    { at: '5s', degrade: { app: 'podinfo' } },
    { at: '40s', recover: { app: 'podinfo' } },
    { at: '42s', delete: { app: 'podinfo' } },
  ];
  const EXPECTED = [
    'environment.created',
    'service.deployed',
    'service.upgraded',
    'incident.detected',
    'service.upgraded',
    'incident.resolved',
    'service.rolledback',
    'incident.detected',
    'incident.resolved',
    'service.removed',
    'environment.deleted',
  ];

  // Managed mode: the app is defined on the principal; the agent's copy on the spoke carries the principal
  // app's uid. Autonomous mode: the app is defined on the spoke; the principal's copy carries the spoke's uid.
  test.each(['managed', 'autonomous'] as const)(
    '%s mode: the same occurrence seen on both sides has one identity (source + id) on CDEVENTS_RAW',
    async (mode) => {
      const podinfo = (destination: AppDefinition['destination'], extra: Partial<AppDefinition>) => ({
        name: 'podinfo',
        destination,
        source: source('podinfo'),
        ...extra,
      });
      const ORIGIN_UID = `0b7c5d3e-4f1a-4c2b-9d8e-${mode === 'managed' ? '000000000001' : '000000000002'}`;
      const copy = { annotations: { [SOURCE_UID_ANNOTATION]: ORIGIN_UID } };
      const origin = { uid: ORIGIN_UID };
      const principal = buildScenario({
        // On the principal, a spoke's apps live in the namespace named after the agent.
        instance: { name: 'argo-principal', namespace: 'spoke-1', clusters: PRINCIPAL_CLUSTERS },
        apps: [podinfo({ server: SPOKE_SERVER, namespace: 'podinfo' }, mode === 'managed' ? origin : copy)],
        steps,
      });
      const spoke = buildScenario({
        instance: { name: 'argo-spoke-1' },
        apps: [
          podinfo(
            { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
            mode === 'managed' ? copy : origin,
          ),
        ],
        steps,
      });
      // The principal shows the spoke's status as the agent reports it: same history, same times.
      const start = new Date(Date.now() - 60_000);
      const p = await argoCd(principal, start);
      const s = await argoCd(spoke, start);
      const principalAgent = await startAgent({
        url: p.url,
        instance: 'argo-principal',
        architecture: 'argocd-agent',
        inClusterName: 'principal',
      });
      // The spoke's agent names its in-cluster destination as the principal names the spoke.
      const spokeAgent = await startAgent({
        url: s.url,
        instance: 'spoke-1',
        architecture: 'argocd-agent',
        inClusterName: 'spoke-1',
      });
      const uids = new Set<string | undefined>();
      const play = (target: typeof p.target, scenario: Scenario) =>
        runScenario(target, scenario, {
          instant: true,
          onStep: (_step, i) => i === 0 && uids.add(target.sim.get('podinfo')?.metadata.uid),
        });
      await Promise.all([play(p.target, principal), play(s.target, spoke)]);
      // Two objects, two uids, one logical app.
      expect(uids.size).toBe(2);
      const total = EXPECTED.length;
      await waitFor(() => principalAgent.published >= total && spokeAgent.published >= total, {
        what: `both agents to publish ${total} events`,
      });
      expect(principalAgent.published).toBe(total);
      expect(spokeAgent.published).toBe(total);
      // Each observer's copy is on the raw stream (each publisher's message ids are its own, so that
      // no agent can suppress another's events); the hub stores one event per identity.
      const events = await stored();
      const principalEvents = events.filter((e) => e.subject.includes('.argo-principal.'));
      const spokeEvents = events.filter((e) => e.subject.includes('.spoke-1.'));
      expect(principalEvents.map((e) => e.type)).toEqual(EXPECTED);
      expect(spokeEvents.map((e) => e.type)).toEqual(EXPECTED);
      const identity = (e: Stored) => eventIdentity(e.source, e.id);
      expect(principalEvents.map(identity)).toEqual(spokeEvents.map(identity));
      expect(new Set(events.map(identity)).size).toBe(total);
      for (const e of events) {
        expect(e.cluster).toBe('spoke-1');
        expect(e.source.startsWith('/argocd/spoke-1/podinfo')).toBe(true);
      }
    },
  );
});
