import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertToken, connectNats, drainOrClose, natsNotReadyReason, natsSetup } from '@argus/bus';
import { TimeRange } from '@argus/cdevents';
import {
  createLogger,
  type ExtraRoute,
  type HealthServer,
  isLoopback,
  type Logger,
  loadListenerTls,
  OptionsError,
  type ParsedOptions,
  parseListen,
  readinessOf,
  Shutdown,
  startHealthServer,
  statusOf,
} from '@argus/runtime';
import type { NatsConnection } from '@nats-io/nats-core';
import type { DestinationStream } from 'pino';
import { Agent } from './agent.js';
import { AGENT_READY_METRIC, AgentMetrics } from './metrics.js';
import type { AgentOptionsSpec } from './options.js';
import { ArgoCdApiSource } from './sources/argocd-api.js';
import { KubernetesSource } from './sources/kubernetes.js';
import type { AppSource } from './sources/source.js';
import { webhookRunner } from './webhook-runner.js';

export type AgentOptions = ParsedOptions<AgentOptionsSpec>;

export interface RunningAgent {
  readonly agent: Agent;
  readonly nc: NatsConnection;
  readonly http: HealthServer;
  readonly logger: Logger;
  readonly shutdown: Shutdown;
}

export const AGENT_VERSION = '0.1.0';

const parseClusterNames = (entries: readonly string[]): Map<string, string> => {
  const names = new Map<string, string>();
  for (const entry of entries) {
    const at = entry.lastIndexOf('=');
    if (at <= 0)
      throw new OptionsError(
        `--cluster-names entry ${JSON.stringify(entry)} is not url=name`,
        '--cluster-names',
      );
    names.set(entry.slice(0, at), entry.slice(at + 1));
  }
  return names;
};

const buildSource = async (options: AgentOptions, logger: Logger): Promise<AppSource> => {
  const ca = options.argocdCa === undefined ? undefined : await readFile(options.argocdCa);
  if (options.source === 'api') {
    if (options.argocdUrl === undefined || options.argocdToken === undefined) {
      throw new OptionsError(
        '--source api needs --argocd-url and --argocd-token (or ARGUS_ARGOCD_URL, ARGUS_ARGOCD_TOKEN)',
        '--argocd-url',
      );
    }
    return new ArgoCdApiSource({
      url: options.argocdUrl,
      token: options.argocdToken,
      ca,
      insecure: options.insecure,
      resyncMs: options.resync,
      logger,
    });
  }
  const clusterNames = parseClusterNames(options.clusterNames ?? []);
  if (options.kubeServer !== undefined) {
    return new KubernetesSource({
      server: options.kubeServer,
      token: options.kubeToken,
      ca,
      insecure: options.insecure,
      namespace: options.namespace,
      clusterNames,
      logger,
    });
  }
  if (options.kubeconfig !== undefined) {
    return KubernetesSource.fromKubeconfig(options.kubeconfig, logger, {
      clusterNames,
      ...(options.kubeContext === undefined ? {} : { context: options.kubeContext }),
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    });
  }
  return KubernetesSource.inCluster(logger, options.namespace, clusterNames);
};

/**
 * The webhook receiver publishes as this agent: without a token it may listen on loopback only, as
 * the hub's ingest and query API (adversarial review 2, finding 26).
 */
export const assertWebhookGuarded = (
  options: Pick<AgentOptions, 'source' | 'webhookToken' | 'listen'>,
): void => {
  if (options.source !== 'webhook' || options.webhookToken !== undefined) return;
  const { host } = parseListen(options.listen, '--listen');
  if (!isLoopback(host)) {
    throw new OptionsError(
      `--source webhook on --listen ${options.listen}, which is not loopback, needs --webhook-token: anyone who reaches the port could publish events as this agent; set --webhook-token (ARGUS_WEBHOOK_TOKEN), or listen on 127.0.0.1`,
      '--webhook-token',
    );
  }
};

/** Starts a whole agent process: NATS, the chosen source (or the webhook receiver), health and metrics. */
export const runAgent = async (
  options: AgentOptions,
  destination?: DestinationStream,
): Promise<RunningAgent> => {
  assertToken(options.instance, 'instance id (--instance)');
  assertWebhookGuarded(options);
  const logger = createLogger({
    service: 'argus-agent',
    instance: options.instance,
    level: options.logLevel,
    ...(destination === undefined ? {} : { destination }),
  });
  const shutdown = new Shutdown(logger);
  const cluster = options.cluster ?? options.instance;
  try {
    const nc = await connectNats(natsSetup(options, `argus-agent-${options.instance}`, logger));
    shutdown.add('drain nats', () => drainOrClose(nc));
    const metrics = new AgentMetrics();
    const routes: ExtraRoute[] = [];
    let source: AppSource;
    if (options.source === 'webhook') {
      const webhook = await webhookRunner({
        nc,
        logger,
        metrics,
        instance: options.instance,
        token: options.webhookToken,
        inClusterName: cluster,
        limits: {
          maxEventBytes: options.maxEventBytes,
          timeRange: new TimeRange({ maxAgeMs: options.maxEventAge, maxLeadMs: options.maxEventLead }),
        },
        replicas: options.replicas,
      });
      source = webhook.source;
      routes.push(...webhook.routes);
    } else {
      source = await buildSource(options, logger);
    }
    const agent = new Agent({
      nc,
      logger,
      metrics,
      instance: options.instance,
      architecture: options.architecture,
      source,
      detector: {
        inClusterName: cluster,
        specVersion: options.specVersion === '0.4.1' ? '0.4.1' : '0.5.1',
        healthDebounceMs: options.healthDebounce,
        emitResyncs: options.emitResyncs,
      },
      absentRemovalMs: options.absentRemoval,
      spoolFile: join(options.spoolDir, `${options.instance}.jsonl`),
      maxSpool: options.maxSpool,
      heartbeatMs: options.heartbeat,
      version: AGENT_VERSION,
      replicas: options.replicas,
    });
    const nats = {
      status: () => {
        const down = natsNotReadyReason(nc);
        return statusOf(down === undefined ? [] : [down]);
      },
    };
    // Listening before the agent starts: while Argo CD cannot be reached yet, /readyz says why.
    const http = await startHealthServer({
      listen: parseListen(options.listen, '--listen'),
      tls: await loadListenerTls(options),
      registry: metrics.registry,
      readyMetric: AGENT_READY_METRIC,
      logger,
      // Every long-running part says whether it is ready the same way (LongRunning.status).
      readiness: () => readinessOf([nats, agent]),
      routes,
    });
    shutdown.add('close http', () => http.close());
    shutdown.add('stop agent', () => agent.stop());
    await agent.start();
    logger.info(
      {
        source: options.source,
        architecture: options.architecture,
        cluster,
        http: `${http.address.host}:${http.address.port}`,
      },
      'agent ready',
    );
    return { agent, nc, http, logger, shutdown };
  } catch (err) {
    await shutdown.shutdown('start failed').catch(() => undefined);
    throw err;
  }
};
