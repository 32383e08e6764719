import { artifactPurl, SERVICE_ANNOTATION } from '@argus/agent';
import type { AppDefinition, ClusterSpec, SourceSpec, Step } from '@argus/argocd-sim';

/**
 * The demo's world: every Argo CD architecture Argus supports, each with the agent source that
 * fits it, one service (podinfo) deployed everywhere and a second (guestbook) on the hub, a CI
 * pipeline producing the changes and artifacts they deploy, and a scenario over six hours of
 * scenario time: first deployments, upgrades, a bad upgrade with its incident and rollback, a
 * failed sync, recoveries, a repeated CI delivery, and the Argo CD Agent reporting each
 * deployment twice (principal and spoke).
 */

export type Architecture = 'hub-and-spoke' | 'distributed' | 'managed' | 'argocd-agent';

export interface DemoInstance {
  /** Argo CD instance id: the agent's `--instance`. */
  readonly name: string;
  readonly architecture: Architecture;
  readonly source: 'api' | 'kubernetes' | 'webhook';
  /** The cluster Argo CD runs in (its `in-cluster`), the agent's `--cluster`. */
  readonly inCluster: string;
  readonly clusters: readonly ClusterSpec[];
  readonly apps: readonly AppDefinition[];
  readonly role: string;
}

/** One step of the scenario: something Argo CD does on one instance, or CI sends an event. */
export type DemoStep =
  | { readonly at: number; readonly instance: string; readonly step: Step; readonly say: string }
  | { readonly at: number; readonly ci: CiEvent; readonly say: string };

export interface CiEvent {
  readonly type: 'change.merged' | 'build.finished' | 'artifact.published';
  readonly id: string;
  readonly source: string;
  readonly subjectId: string;
  readonly chainId: string;
}

export const PODINFO: SourceSpec = {
  repoURL: 'ghcr.io/stefanprodan/charts',
  chart: 'podinfo',
  targetRevision: '6.9.0',
};
export const GUESTBOOK: SourceSpec = {
  repoURL: 'https://github.com/argoproj/argocd-example-apps',
  path: 'guestbook',
  targetRevision: 'HEAD',
};

/** The purl the agent gives a podinfo deployment of this chart version: what CI publishes. */
export const podinfoPurl = (version: string): string => artifactPurl(PODINFO, version);

const service = (name: string) => ({ [SERVICE_ANNOTATION]: name });
const EDGE_UID = '7d3a1f0e-5b2c-4c1d-9e8f-0a1b2c3d4e5f';
const EDGE_SERVER = 'https://edge-1.k8s.example.com:6443';

export const INSTANCES: readonly DemoInstance[] = [
  {
    name: 'argo-hub',
    architecture: 'hub-and-spoke',
    source: 'kubernetes',
    inCluster: 'mgmt',
    role: 'one Argo CD deploying to prod-eu and prod-us',
    clusters: [
      { name: 'prod-eu', server: 'https://prod-eu.k8s.example.com:6443' },
      { name: 'prod-us', server: 'https://prod-us.k8s.example.com:6443' },
    ],
    apps: [
      {
        name: 'podinfo-prod-eu',
        project: 'podinfo',
        destination: { server: 'https://prod-eu.k8s.example.com:6443', namespace: 'podinfo' },
        source: PODINFO,
        annotations: service('podinfo'),
      },
      {
        name: 'podinfo-prod-us',
        project: 'podinfo',
        destination: { server: 'https://prod-us.k8s.example.com:6443', namespace: 'podinfo' },
        source: PODINFO,
        annotations: service('podinfo'),
      },
      {
        name: 'guestbook',
        destination: { server: 'https://prod-us.k8s.example.com:6443', namespace: 'guestbook' },
        source: GUESTBOOK,
      },
    ],
  },
  {
    name: 'argo-staging',
    architecture: 'distributed',
    source: 'kubernetes',
    inCluster: 'staging',
    role: 'its own Argo CD in the staging cluster',
    clusters: [],
    apps: [
      {
        name: 'podinfo',
        destination: { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
        source: PODINFO,
      },
    ],
  },
  {
    name: 'argo-dev',
    architecture: 'distributed',
    source: 'kubernetes',
    inCluster: 'dev',
    role: 'its own Argo CD in the dev cluster',
    clusters: [],
    apps: [
      {
        name: 'podinfo',
        destination: { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
        source: PODINFO,
      },
    ],
  },
  {
    name: 'argo-sandbox',
    architecture: 'distributed',
    source: 'webhook',
    inCluster: 'sandbox',
    role: 'its own Argo CD; Argo CD Notifications post to the agent (deploy/argocd-notifications)',
    clusters: [],
    apps: [
      {
        name: 'podinfo',
        destination: { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
        source: PODINFO,
      },
    ],
  },
  {
    name: 'akuity-ap',
    architecture: 'managed',
    source: 'api',
    inCluster: 'akuity-ap',
    role: 'managed Argo CD (no cluster access): reached only over its API',
    clusters: [{ name: 'prod-ap', server: 'https://prod-ap.k8s.example.com:6443' }],
    apps: [
      {
        name: 'podinfo',
        destination: { server: 'https://prod-ap.k8s.example.com:6443', namespace: 'podinfo' },
        source: PODINFO,
      },
    ],
  },
  {
    name: 'argo-principal',
    architecture: 'argocd-agent',
    source: 'api',
    inCluster: 'control',
    role: 'Argo CD Agent principal: mirrors the spoke edge-1',
    clusters: [{ name: 'edge-1', server: EDGE_SERVER }],
    apps: [
      {
        name: 'podinfo',
        destination: { server: EDGE_SERVER, namespace: 'podinfo' },
        source: PODINFO,
        // The principal's copy names the spoke's original: one logical app, one event per occurrence.
        annotations: { 'argocd.argoproj.io/source-uid': EDGE_UID },
      },
    ],
  },
  {
    name: 'argo-edge-1',
    architecture: 'argocd-agent',
    source: 'kubernetes',
    inCluster: 'edge-1',
    role: 'Argo CD Agent spoke: the edge-1 cluster itself',
    clusters: [],
    apps: [
      {
        name: 'podinfo',
        uid: EDGE_UID,
        destination: { server: 'https://kubernetes.default.svc', namespace: 'podinfo' },
        source: PODINFO,
      },
    ],
  },
];

const MIN = 60_000;
const sync = (app: string, version: string) => ({ sync: { app, revision: version } });

/** Where podinfo runs: (instance, app) pairs; the edge app is synced on principal and spoke together. */
const PODINFO_TARGETS: readonly (readonly [string, string, string][])[] = [
  [['argo-sandbox', 'podinfo', 'sandbox']],
  [['argo-dev', 'podinfo', 'dev']],
  [['argo-staging', 'podinfo', 'staging']],
  [['argo-hub', 'podinfo-prod-eu', 'prod-eu']],
  [['argo-hub', 'podinfo-prod-us', 'prod-us']],
  [['akuity-ap', 'podinfo', 'prod-ap']],
  [
    ['argo-principal', 'podinfo', 'edge-1'],
    ['argo-edge-1', 'podinfo', 'edge-1'],
  ],
];

const ciRelease = (at: number, version: string, sha: string): DemoStep[] => [
  {
    at,
    ci: {
      type: 'change.merged',
      id: `pr-${sha}-merged`,
      source: '/github/acme/podinfo',
      subjectId: `acme/podinfo/pull/${sha}`,
      chainId: sha,
    },
    say: `CI: pull request for podinfo ${version} merged (chain ${sha})`,
  },
  {
    at: at + 8 * MIN,
    ci: {
      type: 'build.finished',
      id: `build-${sha}`,
      source: '/github/acme/podinfo/actions',
      subjectId: `build-${sha}`,
      chainId: sha,
    },
    say: `CI: build of ${sha} finished`,
  },
  {
    at: at + 10 * MIN,
    ci: {
      type: 'artifact.published',
      id: `chart-${version}`,
      source: '/github/acme/podinfo/actions',
      subjectId: podinfoPurl(version),
      chainId: sha,
    },
    say: `CI: chart podinfo ${version} published`,
  },
];

/** A release rolled out environment by environment, `gap` apart, starting at `at`. */
const rollout = (at: number, version: string, gap: number, first: boolean): DemoStep[] =>
  PODINFO_TARGETS.flatMap((targets, i) =>
    targets.map(([instance, app, cluster]) => ({
      at: at + i * gap,
      instance,
      step: { at: at + i * gap, ...sync(app, version) } as Step,
      say: `${instance}: podinfo ${first ? 'deployed' : 'upgraded to'} ${version} in ${cluster}`,
    })),
  );

const STEPS: readonly DemoStep[] = [
  ...ciRelease(0, '6.9.0', 'a1b2c3d'),
  ...rollout(20 * MIN, '6.9.0', 5 * MIN, true),
  {
    at: 25 * MIN,
    instance: 'argo-hub',
    step: { at: 25 * MIN, ...sync('guestbook', '53e28ff2') },
    say: 'argo-hub: guestbook deployed to prod-us',
  },
  ...ciRelease(90 * MIN, '6.9.1', 'e4f5a6b'),
  // A bad release: fine in sandbox, dev and staging, degraded in prod-eu, rolled back there.
  ...rollout(105 * MIN, '6.9.1', 10 * MIN, false).slice(0, 4),
  {
    at: 140 * MIN,
    instance: 'argo-hub',
    step: {
      at: 140 * MIN,
      degrade: { app: 'podinfo-prod-eu', message: 'Deployment "podinfo" exceeded its progress deadline' },
    },
    say: 'argo-hub: podinfo Degraded in prod-eu -> incident',
  },
  {
    at: 150 * MIN,
    instance: 'argo-hub',
    step: { at: 150 * MIN, rollback: { app: 'podinfo-prod-eu', toHistoryId: 0 } },
    say: 'argo-hub: podinfo rolled back to 6.9.0 in prod-eu',
  },
  {
    at: 155 * MIN,
    instance: 'argo-hub',
    step: { at: 155 * MIN, recover: { app: 'podinfo-prod-eu' } },
    say: 'argo-hub: podinfo Healthy again in prod-eu -> incident resolved',
  },
  {
    at: 170 * MIN,
    instance: 'argo-hub',
    step: {
      at: 170 * MIN,
      sync: {
        app: 'guestbook',
        revision: '0d521c6e',
        fail: 'one or more objects failed to apply: Deployment.apps "guestbook-ui" is invalid',
      },
    },
    say: 'argo-hub: guestbook sync failed in prod-us -> incident',
  },
  {
    at: 185 * MIN,
    instance: 'argo-hub',
    step: { at: 185 * MIN, ...sync('guestbook', '0d521c6e') },
    say: 'argo-hub: guestbook fixed and upgraded in prod-us -> incident resolved',
  },
  ...ciRelease(220 * MIN, '6.9.2', 'c7d8e9f'),
  // CI delivers the artifact event again (a retried pipeline step): Argus keeps one.
  {
    at: 232 * MIN,
    ci: {
      type: 'artifact.published',
      id: 'chart-6.9.2',
      source: '/github/acme/podinfo/actions',
      subjectId: podinfoPurl('6.9.2'),
      chainId: 'c7d8e9f',
    },
    say: 'CI: chart podinfo 6.9.2 published again (a retry): a duplicate',
  },
  ...rollout(240 * MIN, '6.9.2', 15 * MIN, false),
];

/** Every step in time order (a stable sort keeps the order of steps at the same time). */
export const SCENARIO: readonly DemoStep[] = [...STEPS].sort((a, b) => a.at - b.at);

/** Scenario time covered: the last step. */
export const SCENARIO_SPAN_MS = Math.max(...SCENARIO.map((s) => s.at));

/** The registry the hub loads: every cluster with its environment, every instance's destinations. */
export const registryYaml = (): string => {
  const env: Record<string, [string, string]> = {
    'prod-eu': ['production', 'eu-west-1'],
    'prod-us': ['production', 'us-east-1'],
    'prod-ap': ['production', 'ap-southeast-1'],
    'edge-1': ['production', 'eu-central-1'],
    staging: ['staging', 'eu-west-1'],
    sandbox: ['development', 'eu-west-1'],
    dev: ['development', 'eu-west-1'],
    mgmt: ['platform', 'eu-west-1'],
    control: ['platform', 'eu-west-1'],
    'akuity-ap': ['platform', 'ap-southeast-1'],
  };
  const lines = [
    '# Generated by the demo: clusters and the Argo CD instances that deploy to them.',
    'clusters:',
  ];
  for (const [name, [environment, region]] of Object.entries(env))
    lines.push(`  ${name}: { environment: ${environment}, region: ${region}, team: platform }`);
  lines.push('instances:');
  for (const instance of INSTANCES) {
    const clusters = [instance.inCluster, ...instance.clusters.map((c) => c.name)];
    lines.push(
      `  ${instance.name}: { architecture: ${instance.architecture}, clusters: [${clusters.join(', ')}] }`,
    );
  }
  return `${lines.join('\n')}\n`;
};
