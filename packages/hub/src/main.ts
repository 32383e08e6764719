import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  connectNats,
  drainOrClose,
  jetStreamManagerOf,
  jetStreamOf,
  natsNotReadyReason,
  natsSetup,
} from '@argus/bus';
import { TimeRange } from '@argus/cdevents';
import {
  createLogger,
  type HealthServer,
  type Logger,
  loadListenerTls,
  OptionsError,
  type ParsedOptions,
  parseListen,
  parseTokens,
  readinessOf,
  Shutdown,
  startHealthServer,
  statusOf,
  TokenVerifier,
} from '@argus/runtime';
import { DEFAULT_SQL_LIMITS, Store } from '@argus/store';
import type { NatsConnection } from '@nats-io/nats-core';
import type { DestinationStream } from 'pino';
import { ensureAgentState } from './agent-state.js';
import { dashboardRoute } from './api/dashboard.js';
import { queryApiRoute } from './api/routes.js';
import { reportDetachedParts } from './detached-parts.js';
import { registerHeartbeatAge } from './heartbeat-metrics.js';
import { Hub } from './hub.js';
import { assertProducersAreNotInstances, ingestRoute, parseIngestTokens } from './ingest.js';
import { HUB_READY_METRIC, HubMetrics } from './metrics.js';
import type { HubOptionsSpec } from './options.js';
import { failpoints } from './pipeline/failpoints.js';
import { type QueryServer, startQueryServer } from './query/server.js';
import { RawQuota } from './raw-quota.js';
import { EMPTY_REGISTRY, loadRegistry } from './registry.js';
import { StoreProbe } from './store-probe.js';

export type HubOptions = ParsedOptions<HubOptionsSpec>;

/** Token entries from a flag (or env) list and a file of lines. */
const tokenEntries = async (
  listed: readonly string[] | undefined,
  file: string | undefined,
): Promise<string[]> => [
  ...(listed ?? []),
  ...(file === undefined ? [] : (await readFile(file, 'utf8')).split('\n')),
];

export interface RunningHub {
  readonly hub: Hub;
  readonly store: Store;
  readonly nc: NatsConnection;
  readonly http: HealthServer;
  readonly grpc: QueryServer;
  readonly logger: Logger;
  readonly shutdown: Shutdown;
  /** Reads the registry file again and tags with it from the next message (also on SIGHUP and when the file changes). */
  readonly reloadRegistry: () => Promise<void>;
}

/** How often the registry file's mtime is looked at, in ms (a ConfigMap update swaps a symlink: polling sees it). */
export const REGISTRY_POLL_MS = 2_000;

/** Starts a whole hub process: NATS, store (migrated), registry, pipeline, HTTP endpoints. */
const DAY_MS = 86_400_000;
/** --retention in whole days (ClickHouse's TTL is set in days), refused at the edge otherwise. */
const retentionDays = (retentionMs: number | undefined): number | undefined => {
  if (retentionMs === undefined) return undefined;
  if (retentionMs % DAY_MS !== 0)
    throw new OptionsError(`--retention must be whole days (e.g. 400d), got ${retentionMs / DAY_MS} days`);
  return retentionMs / DAY_MS;
};

export const runHub = async (options: HubOptions, destination?: DestinationStream): Promise<RunningHub> => {
  const logger = createLogger({
    service: 'argus-hub',
    level: options.logLevel,
    ...(destination === undefined ? {} : { destination }),
  });
  const shutdown = new Shutdown(logger);
  // Read first: a fail-inserts-for duration counts from the process's start.
  const faults = failpoints(options.failpoint, logger);
  try {
    const registry = options.registry === undefined ? EMPTY_REGISTRY : await loadRegistry(options.registry);
    const tokens = parseIngestTokens(await tokenEntries(options.ingestTokens, options.ingestTokensFile));
    assertProducersAreNotInstances(tokens, registry);
    const apiTokens = new TokenVerifier(
      parseTokens(await tokenEntries(options.apiTokens, options.apiTokensFile), 'API'),
    );
    const adminTokens = new TokenVerifier(
      parseTokens(await tokenEntries(options.adminTokens, options.adminTokensFile), 'admin'),
    );
    const grpcListen = parseListen(options.grpcListen, '--grpc-listen');
    const tls = await loadListenerTls(options);

    const retention = retentionDays(options.retention);
    const store = await Store.open({
      url: options.clickhouseUrl,
      dataDir: options.clickhouseUrl === undefined ? options.dataDir : undefined,
      database: options.database,
      username: options.clickhouseUser,
      password: options.clickhousePassword,
      queryLimits: { maxExecutionMs: options.queryMaxTime, maxMemoryBytes: options.queryMaxMemory },
      logger,
    });
    shutdown.add('close store', () => store.close());
    const sqlLimits = Object.freeze({
      ...DEFAULT_SQL_LIMITS,
      maxRows: options.sqlMaxRows,
      maxExecutionMs: options.sqlMaxTime,
    });
    await store.applyRetention(retention);

    const nc = await connectNats(natsSetup(options, 'argus-hub', logger));
    shutdown.add('drain nats', () => drainOrClose(nc));
    const { ingestMsgIdKey } = await ensureAgentState(
      nc,
      registry,
      options.replicas,
      logger,
      options.progressBucketMaxBytes,
    );

    const metrics = new HubMetrics();
    await reportDetachedParts(store, logger, metrics);
    registerHeartbeatAge(metrics.registry, nc, logger);
    const timeRange = new TimeRange({ maxAgeMs: options.maxEventAge, maxLeadMs: options.maxEventLead });
    const hub = new Hub({
      nc,
      store,
      logger,
      registry,
      metrics,
      batchSize: options.batchSize,
      batchMaxWaitMs: options.batchMaxWait,
      maxEventBytes: options.maxEventBytes,
      timeRange,
      maxInFlightBytes: options.maxInFlightBytes,
      stallAfterMs: options.stallAfter,
      dedupeCacheSize: options.dedupeCacheSize,
      maxClustersPerInstance: options.maxClustersPerInstance,
      consumerName: options.consumer,
      failpoints: faults,
      ackWaitMs: options.ackWait,
      streams: {
        replicas: options.replicas,
        rawMaxAgeMs: options.rawMaxAge,
        unifiedMaxAgeMs: options.unifiedMaxAge,
        dlqMaxAgeMs: options.dlqMaxAge,
        duplicateWindowMs: options.duplicateWindow,
        rawMaxBytes: options.rawMaxBytes,
        unifiedMaxBytes: options.unifiedMaxBytes,
        dlqMaxBytes: options.dlqMaxBytes,
      },
    });
    await hub.start();
    shutdown.add('stop hub', () => hub.stop());

    const rawQuota = new RawQuota({
      jsm: await jetStreamManagerOf(nc),
      js: jetStreamOf(nc),
      consumer: options.consumer,
      logger,
      onTrim: (instance, bytes) => metrics.rawTrimmed.inc({ instance }, bytes),
    });
    rawQuota.start();
    shutdown.add('stop raw quota', () => rawQuota.stop());

    const storeProbe = new StoreProbe(store);
    await storeProbe.probe();
    storeProbe.start();
    shutdown.add('stop store probe', () => storeProbe.stop());

    const registryFile = options.registry;
    const reloadRegistry = async (): Promise<void> => {
      if (registryFile === undefined) return;
      try {
        const next = await loadRegistry(registryFile);
        assertProducersAreNotInstances(tokens, next);
        // Progress buckets of instances the new registry adds.
        await ensureAgentState(nc, next, options.replicas, logger, options.progressBucketMaxBytes);
        hub.replaceRegistry(next);
        logger.info(
          { registry: registryFile, instances: next.instances.size, clusters: next.clusters.size },
          'registry reloaded',
        );
      } catch (err) {
        // A half-edited file must not untag everything: the registry in use stays.
        logger.error({ err, registry: registryFile }, 'registry not reloaded; the previous one stays in use');
      }
    };
    if (registryFile !== undefined) {
      const onHangup = () => void reloadRegistry();
      process.on('SIGHUP', onHangup);
      watchFile(registryFile, { interval: REGISTRY_POLL_MS }, (current, previous) => {
        if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size) void reloadRegistry();
      });
      shutdown.add('stop watching the registry', () => {
        process.off('SIGHUP', onHangup);
        unwatchFile(registryFile);
      });
    }

    const nats = {
      status: () => {
        const down = natsNotReadyReason(nc);
        return statusOf(down === undefined ? [] : [down]);
      },
    };
    // Every long-running part says whether it is ready the same way (LongRunning.status).
    const readiness = () => readinessOf([nats, hub, storeProbe, rawQuota]);
    const http = await startHealthServer({
      listen: parseListen(options.httpListen, '--http-listen'),
      tls,
      requestTimeoutMs: options.httpRequestTimeout,
      registry: metrics.registry,
      readyMetric: HUB_READY_METRIC,
      logger,
      readiness,
      serveMetrics: options.metricsListen === undefined,
      routes: [
        ingestRoute({
          js: jetStreamOf(nc),
          logger,
          metrics,
          tokens,
          maxEventBytes: options.maxEventBytes,
          timeRange,
          maxBatchBytes: options.maxBatchBytes,
          msgIdKey: ingestMsgIdKey,
          rate: { perSecond: options.ingestRate, burst: options.ingestBurst ?? 2 * options.ingestRate },
        }),
        queryApiRoute({
          store,
          nc,
          logger,
          tokens: apiTokens,
          adminTokens,
          sqlLimits,
          stats: () => hub.stats(),
          consumerName: options.consumer,
        }),
        dashboardRoute(),
      ],
    });
    shutdown.add('close http', () => http.close());
    if (options.metricsListen !== undefined) {
      const metricsHttp = await startHealthServer({
        listen: parseListen(options.metricsListen, '--metrics-listen'),
        tls,
        registry: metrics.registry,
        logger,
        readiness,
        requestTimeoutMs: options.httpRequestTimeout,
      });
      shutdown.add('close metrics http', () => metricsHttp.close());
    }

    const grpc = await startQueryServer({
      listen: grpcListen,
      tls,
      store,
      nc,
      logger,
      tokens: apiTokens,
      adminTokens,
      sqlLimits,
      stats: () => hub.stats(),
      consumerName: options.consumer,
    });
    shutdown.add('close gRPC', () => grpc.close());
    logger.info(
      {
        store: store.kind,
        database: store.database,
        http: `${tls === undefined ? 'http' : 'https'}://${http.address.host}:${http.address.port}`,
        grpc: `${grpc.address.host}:${grpc.address.port}`,
        registry: { instances: registry.instances.size, clusters: registry.clusters.size },
      },
      'hub ready',
    );
    return { hub, store, nc, http, grpc, logger, shutdown, reloadRegistry };
  } catch (err) {
    await shutdown.shutdown('start failed').catch(() => undefined);
    throw err;
  }
};
