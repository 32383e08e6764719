import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { type ListenAddress, listenFailure } from './listen.js';

export interface Readiness {
  readonly ready: boolean;
  /** What is not ready yet, e.g. `nats: reconnecting`. */
  readonly reasons: readonly string[];
}

export type ExtraRoute = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

/**
 * Longest a request may take, headers and body (adversarial review 2, finding 24: with Node's 300 s,
 * 2,000 connections with a valid token, each dribbling a declared 10 MB body, stayed open 73 s and
 * more). 30 s still lets a 10 MB batch arrive at 350 KB/s.
 */
export const HTTP_REQUEST_TIMEOUT_MS = 30_000;
/** Longest the headers may take to arrive. */
export const HTTP_HEADERS_TIMEOUT_MS = 10_000;
/** Open connections one listener accepts; beyond, new ones are closed at once (the file-descriptor limit is the alternative). */
export const HTTP_MAX_CONNECTIONS = 4096;

export interface HealthServerOptions {
  readonly listen: ListenAddress;
  readonly registry: Registry;
  readonly readiness: () => Readiness;
  readonly logger: Logger;
  /** Further handlers (e.g. an ingest API) tried before the 404; return `true` when handled. */
  readonly routes?: readonly ExtraRoute[];
  /** Also export /readyz on /metrics as a 1 (ready) / 0 gauge of this name, for alerts. */
  readonly readyMetric?: string;
  /** Serve HTTPS with this PEM certificate (chain) and key. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  /** @default HTTP_REQUEST_TIMEOUT_MS */
  readonly requestTimeoutMs?: number;
  /** Serve `/metrics` here (false when another listener serves it). @default true */
  readonly serveMetrics?: boolean;
}

export interface HealthServer {
  readonly server: Server;
  readonly address: ListenAddress;
  close(): Promise<void>;
}

/**
 * `/healthz` (the process is alive), `/readyz` (it can do its job: 503 with reasons otherwise)
 * and `/metrics` (Prometheus text) on one HTTP listener.
 */
export const startHealthServer = async (options: HealthServerOptions): Promise<HealthServer> => {
  const logger = options.logger.child({ component: 'http' });
  if (options.readyMetric !== undefined) {
    const { readiness } = options;
    new Gauge({
      name: options.readyMetric,
      help: '1 when /readyz answers 200, 0 when it answers 503 (its reasons are in the body)',
      registers: [options.registry],
      collect() {
        this.set(readiness().ready ? 1 : 0);
      },
    });
  }
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((err: unknown) => {
      logger.error({ err, url: req.url }, 'request handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error' }));
    });
  };
  const requestTimeout = options.requestTimeoutMs ?? HTTP_REQUEST_TIMEOUT_MS;
  const limits = {
    requestTimeout,
    headersTimeout: Math.min(HTTP_HEADERS_TIMEOUT_MS, requestTimeout),
    // Node looks for requests past their time this often (30 s by default, which doubled the timeout).
    connectionsCheckingInterval: Math.min(1000, requestTimeout),
  };
  const server: Server =
    options.tls === undefined
      ? createServer(limits, listener)
      : createTlsServer({ ...limits, cert: options.tls.cert, key: options.tls.key }, listener);
  server.maxConnections = HTTP_MAX_CONNECTIONS;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (req.method === 'GET' && path === '/readyz') {
      const r = options.readiness();
      res
        .writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: r.ready ? 'ready' : 'not ready', reasons: r.reasons }));
      return;
    }
    if (req.method === 'GET' && path === '/metrics' && options.serveMetrics !== false) {
      const body = await options.registry.metrics();
      res.writeHead(200, { 'content-type': options.registry.contentType }).end(body);
      return;
    }
    for (const route of options.routes ?? []) if (await route(req, res)) return;
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: `no route ${path}` }));
  };
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error) => reject(listenFailure(options.listen, error));
    server.once('error', failed);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const address = { host: options.listen.host, port: bound.port };
  logger.info({ address: `${address.host}:${address.port}` }, 'http listening');
  return {
    server,
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
