import { readFile } from 'node:fs/promises';
import { connectNats } from '@argus/bus';
import {
  createLogger,
  type HealthServer,
  type Logger,
  type ParsedOptions,
  parseListen,
  Shutdown,
  startHealthServer,
} from '@argus/runtime';
import { Store } from '@argus/store';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { DestinationStream } from 'pino';
import { Hub } from './hub.js';
import { ingestRoute, parseIngestTokens } from './ingest.js';
import { HubMetrics } from './metrics.js';
import type { HubOptionsSpec } from './options.js';
import { EMPTY_REGISTRY, loadRegistry } from './registry.js';

export type HubOptions = ParsedOptions<HubOptionsSpec>;

export interface RunningHub {
  readonly hub: Hub;
  readonly store: Store;
  readonly nc: NatsConnection;
  readonly http: HealthServer;
  readonly logger: Logger;
  readonly shutdown: Shutdown;
}

/** Starts a whole hub process: NATS, store (migrated), registry, pipeline, HTTP endpoints. */
export const runHub = async (options: HubOptions, destination?: DestinationStream): Promise<RunningHub> => {
  const logger = createLogger({
    service: 'argus-hub',
    level: options.logLevel,
    ...(destination === undefined ? {} : { destination }),
  });
  const shutdown = new Shutdown(logger);
  try {
    const registry = options.registry === undefined ? EMPTY_REGISTRY : await loadRegistry(options.registry);
    const tokenLines = [...(options.ingestTokens ?? [])];
    if (options.ingestTokensFile !== undefined)
      tokenLines.push(...(await readFile(options.ingestTokensFile, 'utf8')).split('\n'));
    const tokens = parseIngestTokens(tokenLines);

    const store = await Store.open({
      url: options.clickhouseUrl,
      dataDir: options.clickhouseUrl === undefined ? options.dataDir : undefined,
      database: options.database,
      username: options.clickhouseUser,
      password: options.clickhousePassword,
      logger,
    });
    shutdown.add('close store', () => store.close());

    const nc = await connectNats({
      servers: options.nats,
      name: 'argus-hub',
      credsFile: options.natsCreds,
      user: options.natsUser,
      password: options.natsPassword,
      logger,
    });
    shutdown.add('drain nats', () => nc.drain());

    const metrics = new HubMetrics();
    const hub = new Hub({
      nc,
      store,
      logger,
      registry,
      metrics,
      batchSize: options.batchSize,
      batchMaxWaitMs: options.batchMaxWait,
      maxEventBytes: options.maxEventBytes,
      dedupeCacheSize: options.dedupeCacheSize,
      consumerName: options.consumer,
      failpoint: process.env.ARGUS_FAILPOINT === 'kill-after-insert' ? 'kill-after-insert' : undefined,
      ackWaitMs: options.ackWait,
      streams: {
        replicas: options.replicas,
        rawMaxAgeMs: options.rawMaxAge,
        unifiedMaxAgeMs: options.unifiedMaxAge,
        dlqMaxAgeMs: options.dlqMaxAge,
        duplicateWindowMs: options.duplicateWindow,
      },
    });
    await hub.start();
    shutdown.add('stop hub', () => hub.stop());

    const http = await startHealthServer({
      listen: parseListen(options.httpListen, '--http-listen'),
      registry: metrics.registry,
      logger,
      readiness: () => {
        const reasons: string[] = [];
        if (nc.isClosed()) reasons.push('nats: connection closed');
        else if (!hub.consuming) reasons.push('hub: not consuming (nats unavailable?)');
        return { ready: reasons.length === 0, reasons };
      },
      routes: [
        ingestRoute({ js: jetstream(nc), logger, metrics, tokens, maxEventBytes: options.maxEventBytes }),
      ],
    });
    shutdown.add('close http', () => http.close());
    logger.info(
      {
        store: store.kind,
        database: store.database,
        http: `${http.address.host}:${http.address.port}`,
        registry: { instances: registry.instances.size, clusters: registry.clusters.size },
      },
      'hub ready',
    );
    return { hub, store, nc, http, logger, shutdown };
  } catch (err) {
    await shutdown.shutdown('start failed').catch(() => undefined);
    throw err;
  }
};
