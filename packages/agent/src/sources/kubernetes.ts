import { readFile } from 'node:fs/promises';
import { Backoff, type Logger, sleep } from '@argus/runtime';
import { parse as parseYaml } from 'yaml';
import type { Application } from '../argocd/types.js';
import { KubeconfigError, ResourceVersionExpiredError, SourceProtocolError } from '../errors.js';
import { type HttpClientOptions, HttpStatusError, openJsonList, streamJsonLines } from './http.js';
import type { AppSource, SourceEvent } from './source.js';

export interface KubernetesSourceOptions extends HttpClientOptions {
  /** API server, e.g. `https://10.0.0.1:443`. */
  readonly server: string;
  /** Namespace of the Applications; all namespaces when absent. */
  readonly namespace?: string | undefined;
  readonly logger: Logger;
  /** Destination server URL -> cluster name (cluster secrets are outside the agent's RBAC). */
  readonly clusterNames?: ReadonlyMap<string, string>;
  /** Server-side watch timeout before a re-watch. @default 300 */
  readonly watchTimeoutSeconds?: number;
}

interface ListResponse {
  metadata?: { resourceVersion?: string };
  items?: Application[] | null;
}

interface WatchLine {
  type?: string;
  object?: Application & { code?: number; reason?: string; message?: string };
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Watches `applications.argoproj.io` through the Kubernetes API: list, then watch from the list's
 * resourceVersion with bookmarks; resumes from the last seen resourceVersion after a timeout or a
 * dropped connection; relists on 410 Gone.
 */
export class KubernetesSource implements AppSource {
  readonly name = 'kubernetes' as const;
  readonly #options: KubernetesSourceOptions;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  #reconnects = 0;
  #lastError: string | undefined;

  constructor(options: KubernetesSourceOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'source-kubernetes', server: options.server });
  }

  /** The pod's service account: token, CA and the API server from the environment. */
  static async inCluster(
    logger: Logger,
    namespace?: string,
    clusterNames?: ReadonlyMap<string, string>,
  ): Promise<KubernetesSource> {
    const host = process.env.KUBERNETES_SERVICE_HOST;
    const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
    if (host === undefined) {
      throw new KubeconfigError(
        'not-in-pod',
        'not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is unset): pass --kubeconfig',
      );
    }
    const [token, ca] = await Promise.all([
      readFile(`${SERVICE_ACCOUNT}/token`, 'utf8'),
      readFile(`${SERVICE_ACCOUNT}/ca.crt`),
    ]);
    return new KubernetesSource({
      server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
      token: token.trim(),
      ca,
      namespace,
      logger,
      ...(clusterNames === undefined ? {} : { clusterNames }),
    });
  }

  /** A kubeconfig file: its current (or named) context's cluster and user (token or client certificate). */
  static async fromKubeconfig(
    file: string,
    logger: Logger,
    options: { context?: string; namespace?: string; clusterNames?: ReadonlyMap<string, string> } = {},
  ): Promise<KubernetesSource> {
    interface Named<T> {
      name: string;
      [key: string]: unknown;
      value?: T;
    }
    const doc = parseYaml(await readFile(file, 'utf8')) as {
      'current-context'?: string;
      contexts?: Named<unknown>[];
      clusters?: Named<unknown>[];
      users?: Named<unknown>[];
    };
    const contextName = options.context ?? doc['current-context'];
    const context = (doc.contexts ?? []).find((c) => c.name === contextName)?.context as
      | { cluster?: string; user?: string; namespace?: string }
      | undefined;
    if (context === undefined)
      throw new KubeconfigError(
        'no-context',
        `${file}: no context ${JSON.stringify(contextName)}: name one of ${JSON.stringify((doc.contexts ?? []).map((c) => c.name))} with --kube-context`,
        file,
      );
    const cluster = (doc.clusters ?? []).find((c) => c.name === context.cluster)?.cluster as
      | {
          server?: string;
          'certificate-authority-data'?: string;
          'certificate-authority'?: string;
          'insecure-skip-tls-verify'?: boolean;
        }
      | undefined;
    if (cluster?.server === undefined)
      throw new KubeconfigError(
        'no-server',
        `${file}: context ${contextName} names no cluster with a server: add the cluster's server URL to the kubeconfig`,
        file,
      );
    const user = ((doc.users ?? []).find((u) => u.name === context.user)?.user ?? {}) as {
      token?: string;
      'client-certificate-data'?: string;
      'client-key-data'?: string;
    };
    const b64 = (v: string | undefined) => (v === undefined ? undefined : Buffer.from(v, 'base64'));
    const ca =
      b64(cluster['certificate-authority-data']) ??
      (cluster['certificate-authority'] === undefined
        ? undefined
        : await readFile(cluster['certificate-authority']));
    return new KubernetesSource({
      server: cluster.server,
      logger,
      namespace: options.namespace ?? context.namespace,
      token: user.token,
      ca,
      cert: b64(user['client-certificate-data']),
      key: b64(user['client-key-data']),
      insecure: cluster['insecure-skip-tls-verify'] === true,
      ...(options.clusterNames === undefined ? {} : { clusterNames: options.clusterNames }),
    });
  }

  get reconnects(): number {
    return this.#reconnects;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  async clusterNames(): Promise<ReadonlyMap<string, string>> {
    return this.#options.clusterNames ?? new Map();
  }

  stop(): void {
    this.#stop.abort();
  }

  #path(): URL {
    const base = this.#options.server.endsWith('/') ? this.#options.server : `${this.#options.server}/`;
    const ns = this.#options.namespace;
    return new URL(
      ns === undefined || ns === ''
        ? 'apis/argoproj.io/v1alpha1/applications'
        : `apis/argoproj.io/v1alpha1/namespaces/${encodeURIComponent(ns)}/applications`,
      base,
    );
  }

  async *events(): AsyncGenerator<SourceEvent> {
    const backoff = new Backoff();
    let resourceVersion: string | undefined;
    while (!this.#stop.signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          const list = await openJsonList(this.#path(), this.#options, this.#stop.signal);
          yield { type: 'snapshot', apps: list.items as AsyncIterable<Application> };
          if (list.envelope === undefined)
            throw new SourceProtocolError('list-cut-short', 'the application list was not read to its end');
          resourceVersion = (list.envelope as ListResponse).metadata?.resourceVersion;
          this.#logger.info({ apps: list.count, resourceVersion }, 'listed applications');
          this.#lastError = undefined;
        }
        const url = this.#path();
        url.searchParams.set('watch', '1');
        url.searchParams.set('allowWatchBookmarks', 'true');
        url.searchParams.set('timeoutSeconds', String(this.#options.watchTimeoutSeconds ?? 300));
        if (resourceVersion !== undefined) url.searchParams.set('resourceVersion', resourceVersion);
        for await (const raw of streamJsonLines(url, this.#options, this.#stop.signal)) {
          const { type, object } = raw as WatchLine;
          if (object === undefined) continue;
          if (type === 'ERROR') {
            if (object.code === 410)
              throw new ResourceVersionExpiredError(object.message ?? 'resourceVersion expired');
            throw new SourceProtocolError(
              'watch-error',
              `watch error ${object.code ?? ''}: ${object.message ?? ''}`,
            );
          }
          resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
          if (type === 'BOOKMARK') continue;
          backoff.reset();
          this.#lastError = undefined;
          if (type === 'DELETED') yield { type: 'delete', app: object };
          else if (type === 'ADDED' || type === 'MODIFIED') yield { type: 'upsert', app: object };
        }
        // The server ended the watch (timeoutSeconds): resume from the last resourceVersion.
      } catch (err) {
        if (this.#stop.signal.aborted) break;
        if (
          err instanceof ResourceVersionExpiredError ||
          (err instanceof HttpStatusError && err.status === 410)
        ) {
          this.#logger.info({ resourceVersion }, 'resourceVersion expired (410 Gone): relisting');
          resourceVersion = undefined;
          continue;
        }
        this.#reconnects++;
        const delay = backoff.delay();
        this.#logger.warn({ err, retryInMs: delay }, 'Kubernetes API unavailable; retrying');
        this.#lastError = err instanceof Error ? err.message : String(err);
        await sleep(delay, this.#stop.signal);
      }
    }
  }
}
