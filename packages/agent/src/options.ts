import { EVENT_TIME_OPTIONS } from '@argus/cdevents';
import {
  LISTENER_TLS_OPTIONS,
  LOG_LEVEL_OPTION,
  NATS_CLIENT_OPTIONS,
  type OptionsSpec,
} from '@argus/runtime';

/** Every agent option: flag, `ARGUS_*` env var and help line come from here. */
/**
 * node's flags for an agent watching thousands of apps, on node's command line (node refuses V8 flags in
 * NODE_OPTIONS; deploy/k8s runs `node <these> argus agent`): a capped young generation, which V8 otherwise
 * grows to 2 x 16 MB under load, V8's memory-over-speed mode, and no Maglev nor TurboFan inlining (their
 * compiler memory took Node 24 over 120 MB). `pnpm bench agent` measures the agent with them against 120 MB.
 */
export const AGENT_NODE_OPTIONS =
  '--max-semi-space-size=4 --optimize-for-size --no-maglev --no-turbo-inlining';

/**
 * How long an app may be missing from the Argo CD API's lists before it counts as removed. The API
 * lists only what the token may read (RBAC per project, `application.namespaces`, the anonymous user
 * for a bad token when anonymous access is on), and a per-app GET answers "permission denied" alike
 * for a deleted and a hidden app (server/application/application.go `getAppEnforceRBAC`), so absence
 * proves nothing at once; deletions seen live arrive as DELETED anyway. Three relists at the default
 * resync: a permission glitch passes, a deletion made while the stream was down is still reported.
 */
export const DEFAULT_ABSENT_REMOVAL_MS = 15 * 60_000;

/** Most entries the on-disk spool keeps while NATS is unreachable. */
export const DEFAULT_MAX_SPOOL = 100_000;

/** The heartbeat into KV argus_agents, every this many ms. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

export const AGENT_OPTIONS = {
  instance: {
    kind: 'string',
    description: "this Argo CD instance's id (A-Z a-z 0-9 _ -): the subject token it publishes under",
    required: true,
    placeholder: '<id>',
  },
  source: {
    kind: 'string',
    description: 'how to watch Argo CD',
    required: true,
    choices: ['api', 'kubernetes', 'webhook'],
    placeholder: 'api|kubernetes|webhook',
  },
  architecture: {
    kind: 'string',
    description: 'how this Argo CD is deployed',
    default: 'distributed',
    choices: ['hub-and-spoke', 'distributed', 'managed', 'argocd-agent'],
    placeholder: '<kind>',
  },
  ...NATS_CLIENT_OPTIONS,
  cluster: {
    kind: 'string',
    description: 'cluster name for in-cluster destinations (default: the instance id)',
    placeholder: '<name>',
  },
  clusterNames: {
    kind: 'list',
    description: 'destination server URL -> cluster name, as url=name (kubernetes source)',
    placeholder: '<url=name,...>',
  },
  argocdUrl: { kind: 'string', description: 'Argo CD server URL (api source)', placeholder: '<url>' },
  argocdToken: { kind: 'string', description: 'Argo CD API token (api source)', placeholder: '<token>' },
  argocdCa: {
    kind: 'string',
    description: 'PEM file of a CA to trust for Argo CD or the Kubernetes API',
    placeholder: '<file>',
  },
  insecure: { kind: 'boolean', description: 'skip TLS verification of Argo CD / Kubernetes (labs only)' },
  kubeconfig: {
    kind: 'string',
    description: 'kubeconfig file (kubernetes source; default: in-cluster service account)',
    placeholder: '<file>',
  },
  kubeContext: { kind: 'string', description: 'kubeconfig context', placeholder: '<name>' },
  kubeServer: {
    kind: 'string',
    description: 'Kubernetes API URL, with --kube-token (instead of a kubeconfig)',
    placeholder: '<url>',
  },
  kubeToken: {
    kind: 'string',
    description: 'Kubernetes bearer token, with --kube-server',
    placeholder: '<token>',
  },
  namespace: {
    kind: 'string',
    description: 'namespace of the Applications (kubernetes source; default all)',
    placeholder: '<ns>',
  },
  listen: {
    kind: 'string',
    description: 'HTTP listener: /healthz, /readyz, /metrics and the webhook receiver',
    default: '127.0.0.1:9090',
    placeholder: '<host:port>',
  },
  ...LISTENER_TLS_OPTIONS,
  webhookToken: {
    kind: 'string',
    description: 'bearer token Argo CD Notifications must send (webhook source)',
    placeholder: '<token>',
  },
  spoolDir: {
    kind: 'string',
    description: 'directory of the on-disk spool of unpublished events',
    default: '.argus/agent-spool',
    placeholder: '<dir>',
  },
  maxSpool: {
    kind: 'integer',
    description: 'most events kept in the spool while NATS is unreachable',
    default: DEFAULT_MAX_SPOOL,
    min: 100,
  },
  specVersion: {
    kind: 'string',
    description: 'CDEvents version of emitted events',
    default: '0.5.1',
    choices: ['0.5.1', '0.4.1'],
  },
  healthDebounce: {
    kind: 'duration',
    description: 'how long Degraded health lasts before it is an incident',
    default: 30_000,
  },
  resync: {
    kind: 'duration',
    description: 'full relist interval of the api source',
    default: 300_000,
    min: 1000,
  },
  heartbeat: {
    kind: 'duration',
    description: 'heartbeat interval into KV argus_agents',
    default: DEFAULT_HEARTBEAT_MS,
    min: 1000,
  },
  absentRemoval: {
    kind: 'duration',
    description:
      'how long an app may be missing from the Argo CD API lists (deleted, or hidden from the token) before it counts as removed',
    default: DEFAULT_ABSENT_REMOVAL_MS,
    min: 0,
  },
  emitResyncs: { kind: 'boolean', description: 'emit service.deployed for re-syncs of the same revision' },
  ...EVENT_TIME_OPTIONS,
  maxEventBytes: {
    kind: 'integer',
    description: 'largest accepted notification body in bytes',
    default: 1_048_576,
    min: 1024,
  },
  replicas: {
    kind: 'integer',
    description:
      'JetStream replicas of its KV bucket, should it create it (only where NATS permits: deploy/nats lets the hub alone)',
    default: 1,
    min: 1,
  },
  ...LOG_LEVEL_OPTION,
} as const satisfies OptionsSpec;

export type AgentOptionsSpec = typeof AGENT_OPTIONS;
