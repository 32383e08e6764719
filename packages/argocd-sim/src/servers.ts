import {
  createServer as createPlainServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type StreamError, StreamWire } from './api-stream.js';
import { parseListFields, selectListFields } from './list-fields.js';
import {
  type Application,
  ExpiredResourceVersionError,
  type SimulatedArgoCD,
  type WatchEvent,
} from './model.js';

export interface SimServerOptions {
  /** Serve HTTPS with this PEM certificate and key (as Argo CD and the Kubernetes API do). */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer } | undefined;
  /** Bearer token every request must carry. */
  readonly token: string;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
}

export interface ApiServerOptions extends SimServerOptions {
  /**
   * Drop every n-th message of the application stream (0 = none). Argo CD's stream drops messages
   * under load and never replays them; agents must not depend on it.
   */
  readonly dropEvery?: number;
  /**
   * Which apps the token may `get` (RBAC, projects, enabled namespaces): the list and the stream just
   * omit the others (`server/application/application.go` `List`, `Watch` `sendIfPermitted`). Read on
   * every request and event, so an app can vanish from a list and come back. @default every app
   */
  readonly canGetApp?: (app: Application) => boolean;
  /**
   * Whether the token has `clusters, get`; without it `/api/v1/clusters` answers 200 with no items
   * (`server/cluster/cluster.go` `List`). Read on every request. @default () => true
   */
  readonly canGetClusters?: () => boolean;
  /**
   * Time between the stream's own snapshot and its ADDED burst, in ms: the burst then carries objects
   * older than a list taken in between (fidelity row 8). @default 0
   */
  readonly burstDelayMs?: number;
  /** Keepalive interval of `Accept: text/event-stream` streams, in ms. @default KEEPALIVE_INTERVAL_MS (15 s) */
  readonly keepaliveMs?: number;
}

export interface ArgoCdApiServer extends RunningServer {
  /** Ends every open stream with grpc-gateway's error line (as a server shutting down does). */
  endStreams(error: StreamError): void;
}

export interface KubeServerOptions extends SimServerOptions {
  /** Interval of BOOKMARK events on watches that ask for them. @default 1000 */
  readonly bookmarkMs?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

const authorized = (req: IncomingMessage, token: string): boolean =>
  req.headers.authorization === `Bearer ${token}`;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const createServer = (options: SimServerOptions, handler: Handler): Server =>
  options.tls === undefined ? createPlainServer(handler) : createTlsServer(options.tls, handler);

const listen = async (server: Server, options: SimServerOptions): Promise<RunningServer> => {
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://${options.host ?? '127.0.0.1'}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};

/** Items as Argo CD's API serves them: typed objects from the informer, without apiVersion/kind. */
const apiItem = (app: Application): Omit<Application, 'apiVersion' | 'kind'> => {
  const { apiVersion: _v, kind: _k, ...rest } = app;
  return rest;
};

/** `Application.QualifiedName()`: the bare name in the control plane's namespace, else `<ns>/<name>`. */
const qualifiedName = (app: Application, controlNamespace: string): string =>
  app.metadata.namespace === controlNamespace
    ? app.metadata.name
    : `${app.metadata.namespace}/${app.metadata.name}`;

const byName = (a: Application, b: Application): number =>
  a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;

/** Resolves when `res` has handed everything written so far to the socket. */
const delivered = (res: ServerResponse): Promise<void> =>
  new Promise((resolve) => {
    if (res.writableNeedDrain) res.once('drain', () => resolve());
    else res.write('', () => resolve());
  });

/**
 * Argo CD's API server, as far as agents use it: `GET /api/v1/applications` (ApplicationList JSON, items
 * without apiVersion/kind, sorted by name), `GET /api/v1/stream/applications` (grpc-gateway
 * newline-delimited `{"result":{"type","application"}}`), `GET /api/v1/clusters`. Unauthenticated calls
 * get grpc-gateway's Unauthenticated error (code 16).
 *
 * The stream follows `server/application/application.go` `Watch` (2.4-3.x): its own snapshot, sorted by
 * qualified name, sent as ADDED (unless a resourceVersion is given without a name), and only then the
 * subscription to changes, so changes during the burst are lost. Response headers go out with the first
 * message, as grpc-gateway waits for gRPC's headers (`request_ApplicationService_Watch_0`). From 3.0
 * resource health is re-inflated on the stream only (`inferResourcesStatusHealth`).
 */
export const startArgoCdApi = async (
  sim: SimulatedArgoCD,
  options: ApiServerOptions,
): Promise<ArgoCdApiServer> => {
  let streamed = 0;
  const open = new Set<StreamWire>();
  const canGet = (app: Application): boolean => options.canGetApp?.(app) ?? true;
  const server = createServer(options, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (!authorized(req, options.token)) {
      json(res, 401, {
        error: 'invalid session: token is missing or invalid',
        code: 16,
        message: 'invalid session: token is missing or invalid',
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/applications') {
      const { resourceVersion, items } = sim.list();
      const visible = items.filter(canGet).sort(byName);
      const fields = parseListFields(url.searchParams.get('fields'));
      json(res, 200, {
        metadata: { resourceVersion },
        items: fields === null ? visible.map(apiItem) : visible.map((app) => selectListFields(app, fields)),
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/clusters') {
      const clusters = (options.canGetClusters?.() ?? true) ? sim.clusters : [];
      // Counted, not listed: a list copies every app (4.5 s per call with 20,000 apps, 3 clusters).
      const applicationsCount = sim.appCount;
      json(res, 200, {
        metadata: {},
        items: clusters.map((c) => ({
          server: c.server,
          name: c.name,
          config: { tlsClientConfig: { insecure: false } },
          connectionState: { status: 'Successful', message: '', attemptedAt: new Date().toISOString() },
          serverVersion: '1.31',
          info: {
            connectionState: { status: 'Successful' },
            serverVersion: '1.31',
            applicationsCount,
          },
        })),
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/stream/applications') {
      void stream(req, res, url);
      return;
    }
    json(res, 404, { error: 'Not Found', code: 5, message: 'Not Found' });
  });

  const stream = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const nameFilter = url.searchParams.get('name');
    // `appNamespaceOrDefault`: a name filter matches in the control plane's namespace unless one is given.
    const appNamespace = url.searchParams.get('appNamespace') ?? sim.namespace;
    const fromVersion = Number(url.searchParams.get('resourceVersion') ?? 0) || 0;
    const wanted = (app: Application) =>
      (nameFilter === null ||
        (app.metadata.name === nameFilter && app.metadata.namespace === appNamespace)) &&
      Number(app.metadata.resourceVersion) >= fromVersion &&
      canGet(app);
    const wire = new StreamWire(res, {
      sse: req.headers.accept === 'text/event-stream',
      ...(options.keepaliveMs === undefined ? {} : { keepaliveMs: options.keepaliveMs }),
    });
    open.add(wire);
    let closed = false;
    req.on('close', () => {
      closed = true;
      wire.close();
      open.delete(wire);
    });
    const send = (type: string, app: Application) => {
      streamed++;
      if (options.dropEvery !== undefined && options.dropEvery > 0 && streamed % options.dropEvery === 0)
        return;
      wire.result(app.metadata.name, { type, application: apiItem(sim.withTreeHealth(app)) });
    };
    const burst =
      url.searchParams.get('resourceVersion') === null || nameFilter !== null
        ? sim
            .list()
            .items.filter(wanted)
            .sort((a, b) => (qualifiedName(a, sim.namespace) < qualifiedName(b, sim.namespace) ? -1 : 1))
        : [];
    if ((options.burstDelayMs ?? 0) > 0) await new Promise((r) => setTimeout(r, options.burstDelayMs));
    for (const app of burst) if (!closed) send('ADDED', app);
    if (burst.length > 0) await delivered(res);
    if (closed) return;
    const unsubscribe = sim.subscribe((event: WatchEvent) => {
      if (event.tombstone !== true && wanted(event.app)) send(event.type, event.app);
    });
    req.on('close', unsubscribe);
  };
  const running = await listen(server, options);
  return {
    ...running,
    endStreams: (error) => {
      for (const wire of open) wire.fail(error);
      open.clear();
    },
  };
};

const APPS_PATH = /^\/apis\/argoproj\.io\/v1alpha1(?:\/namespaces\/([^/]+))?\/applications$/;

const status = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  code,
});

/**
 * The Kubernetes API for `applications.argoproj.io`: list (`ApplicationList` with its resourceVersion)
 * and watch (`?watch=1&resourceVersion=&allowWatchBookmarks=true&timeoutSeconds=`): newline-delimited
 * `{"type","object"}`, BOOKMARK events, and `ERROR` with a 410 Expired Status when the resourceVersion
 * is older than the kept window.
 */
export const startKubeApi = async (
  sim: SimulatedArgoCD,
  options: KubeServerOptions,
): Promise<RunningServer> => {
  const server = createServer(options, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (!authorized(req, options.token)) {
      json(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    const match = APPS_PATH.exec(url.pathname);
    if (req.method !== 'GET' || match === null) {
      json(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    const namespace = match[1];
    const inNamespace = (app: Application) => namespace === undefined || app.metadata.namespace === namespace;
    const watch = url.searchParams.get('watch');
    if (watch !== '1' && watch !== 'true') {
      const { resourceVersion, items } = sim.list();
      json(res, 200, {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'ApplicationList',
        metadata: { resourceVersion },
        items: items.filter(inNamespace),
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const write = (line: unknown) => res.write(`${JSON.stringify(line)}\n`);
    const from = Number(url.searchParams.get('resourceVersion') ?? sim.resourceVersion);
    let replay: WatchEvent[];
    try {
      replay = sim.eventsSince(from);
    } catch (error) {
      if (!(error instanceof ExpiredResourceVersionError)) throw error;
      write({ type: 'ERROR', object: status(410, 'Expired', error.message) });
      res.end();
      return;
    }
    for (const event of replay) if (inNamespace(event.app)) write({ type: event.type, object: event.app });
    const unsubscribe = sim.subscribe((event) => {
      if (inNamespace(event.app)) write({ type: event.type, object: event.app });
    });
    const bookmarks =
      url.searchParams.get('allowWatchBookmarks') === 'true'
        ? setInterval(
            () =>
              write({
                type: 'BOOKMARK',
                object: {
                  kind: 'Application',
                  apiVersion: 'argoproj.io/v1alpha1',
                  metadata: { resourceVersion: String(sim.resourceVersion) },
                },
              }),
            options.bookmarkMs ?? 1000,
          )
        : undefined;
    const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? 0);
    const timeout = timeoutSeconds > 0 ? setTimeout(() => res.end(), timeoutSeconds * 1000) : undefined;
    req.on('close', () => {
      unsubscribe();
      clearInterval(bookmarks);
      clearTimeout(timeout);
    });
  });
  return listen(server, options);
};
