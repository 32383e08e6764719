import { Backoff, type Logger, sleep } from '@argus/runtime';
import type { Application } from '../argocd/types.js';
import { SourceProtocolError } from '../errors.js';
import {
  getJson,
  type HttpClientOptions,
  HttpStatusError,
  openJsonLines,
  openJsonList,
  TlsVerificationError,
} from './http.js';
import { LineQueue } from './line-queue.js';
import type { AppSource, SourceEvent } from './source.js';

/**
 * The stream's opening burst is over when no line came for this long (or a change arrived). Argo CD
 * writes the burst back to back; with no app visible nothing comes at all, and the list is taken then.
 */
const STREAM_SETTLE_MS = 1000;

export interface ArgoCdApiSourceOptions extends HttpClientOptions {
  /** Argo CD server, e.g. `https://argocd.example.com`. */
  readonly url: string;
  readonly logger: Logger;
  /** Full relist interval: the stream drops messages under load and never replays them. @default 300000 */
  readonly resyncMs?: number;
}

/** Failures a retry cannot fix: the certificate is not trusted, or the token is refused. */
const isConfigurationError = (err: unknown): boolean =>
  err instanceof TlsVerificationError ||
  (err instanceof HttpStatusError && (err.status === 401 || err.status === 403));

/** grpc-gateway v1.16 (every release): `{"result": ...}`, or one `{"error": {grpc_code, http_code, message, http_status}}` line after the 200. */
interface StreamLine {
  result?: { type?: string; application?: Application };
  error?: { message?: string; grpc_code?: number; http_code?: number; http_status?: string };
}

/**
 * Watches Applications through Argo CD's own API (no cluster access needed: managed Argo CD), with a
 * bearer token: `GET /api/v1/stream/applications` first, its opening burst read, then
 * `GET /api/v1/applications` (every app the token may read: an app missing from it may be deleted
 * or hidden), then the stream's changes. Reconnects with backoff; relists on every reconnect and
 * `resyncMs` after each list.
 */
export class ArgoCdApiSource implements AppSource {
  readonly name = 'api' as const;
  readonly #options: ArgoCdApiSourceOptions;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  #stream: AbortController | undefined;
  #reconnects = 0;
  #lastError: string | undefined;
  #saidNoClusters = false;

  constructor(options: ArgoCdApiSourceOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'source-api', url: options.url });
  }

  get reconnects(): number {
    return this.#reconnects;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  #url(path: string): URL {
    return new URL(path, this.#options.url.endsWith('/') ? this.#options.url : `${this.#options.url}/`);
  }

  /**
   * Argo CD's cluster list (server URL -> name). While Argo CD cannot be reached it retries with
   * backoff, saying why in `lastError` (and so in /readyz); what retrying cannot fix, an untrusted
   * certificate or a refused token, is thrown at once with what to change.
   */
  async clusterNames(): Promise<ReadonlyMap<string, string>> {
    const backoff = new Backoff();
    for (;;) {
      try {
        const list = await getJson<{ items?: { server?: string; name?: string }[] | null }>(
          this.#url('api/v1/clusters'),
          this.#options,
          this.#stop.signal,
        );
        this.#lastError = undefined;
        const names = new Map<string, string>();
        for (const c of list.items ?? [])
          if (c.server !== undefined && c.name !== undefined) names.set(c.server, c.name);
        return names;
      } catch (err) {
        if (this.#stop.signal.aborted || isConfigurationError(err)) throw err;
        const delay = backoff.delay();
        this.#lastError = err instanceof Error ? err.message : String(err);
        this.#logger.warn({ err, retryInMs: delay }, 'cannot read the cluster list from Argo CD; retrying');
        await sleep(delay, this.#stop.signal);
      }
    }
  }

  stop(): void {
    this.#stop.abort();
    this.#stream?.abort();
  }

  /**
   * The cluster list read again with each list of apps (clusters are added and renamed while the
   * agent runs); undefined when it cannot be read now (the last one stays in use). Argo CD answers
   * 200 with no items to a token without `clusters, get` (server/cluster/cluster.go `List`): then
   * destinations given by URL are named by their URL, which is said once.
   */
  async #refreshClusterNames(): Promise<ReadonlyMap<string, string> | undefined> {
    try {
      const list = await getJson<{ items?: { server?: string; name?: string }[] | null }>(
        this.#url('api/v1/clusters'),
        this.#options,
        this.#stop.signal,
      );
      const names = new Map<string, string>();
      for (const c of list.items ?? [])
        if (c.server !== undefined && c.name !== undefined) names.set(c.server, c.name);
      if (names.size === 0 && !this.#saidNoClusters) {
        this.#saidNoClusters = true;
        this.#logger.warn(
          'Argo CD listed no clusters: the token may lack the RBAC permission "clusters, get"; destinations given by server URL are named by their URL',
        );
      }
      return names;
    } catch (err) {
      if (this.#stop.signal.aborted) return undefined;
      this.#logger.warn({ err }, 'cannot read the cluster list from Argo CD; keeping the names known');
      return undefined;
    }
  }

  async *events(): AsyncGenerator<SourceEvent> {
    const backoff = new Backoff();
    const resyncMs = this.#options.resyncMs ?? 300_000;
    while (!this.#stop.signal.aborted) {
      try {
        const stream = new AbortController();
        this.#stream = stream;
        const abortStream = () => stream.abort();
        this.#stop.signal.addEventListener('abort', abortStream);
        let resync: NodeJS.Timeout | undefined;
        try {
          const clusterNames = await this.#refreshClusterNames();
          const lines = new LineQueue<unknown>();
          // Not waiting for the response headers: Argo CD's gateway sends none until the first event,
          // so with no app visible to the token they never come (application.pb.gw.go `stream.Header()`).
          void lines.pump(
            openJsonLines(
              this.#url('api/v1/stream/applications'),
              this.#options,
              stream.signal,
              // Server-Sent Events: Argo CD then writes a keepalive every 15 s, so an idle stream
              // behind a proxy with an idle timeout is not cut (and relisted) every time.
              'text/event-stream',
            ),
            stream.signal,
          );
          // Argo CD's Watch sends every app it can show as ADDED from a snapshot of its own, and only
          // then subscribes to changes (server/application/application.go `Watch`, 2.4 to master):
          // read that burst first, then list, so the list holds what changed before the subscription.
          // A change (anything but ADDED) means the burst is over and Argo CD has subscribed: it is
          // handled in order with what else already arrived, then the list is taken.
          let burst = 0;
          let subscribed = false;
          for (;;) {
            const read = await lines.next(subscribed ? 0 : STREAM_SETTLE_MS);
            if ('idle' in read) break;
            if ('done' in read)
              throw new SourceProtocolError(
                'stream-ended-before-list',
                'the application stream ended before the list was taken',
              );
            const line = read.value as StreamLine;
            if (line.result?.type !== 'ADDED') subscribed = true;
            const event = this.#toEvent(line);
            if (event === undefined) continue;
            if (!subscribed) burst++;
            yield event;
          }
          const list = await openJsonList(this.#url('api/v1/applications'), this.#options, this.#stop.signal);
          yield {
            type: 'snapshot',
            apps: list.items as AsyncIterable<Application>,
            ...(clusterNames === undefined ? {} : { clusterNames }),
          };
          if (list.envelope === undefined)
            throw new SourceProtocolError('list-cut-short', 'the application list was not read to its end');
          const metadata = list.envelope.metadata as { resourceVersion?: string } | undefined;
          this.#logger.info(
            { apps: list.count, streamed: burst, resourceVersion: metadata?.resourceVersion },
            'listed applications',
          );
          backoff.reset();
          this.#lastError = undefined;
          // The next full relist, counted from this one.
          resync = setTimeout(abortStream, resyncMs);
          for (;;) {
            const read = await lines.next();
            if (!('value' in read)) break;
            const event = this.#toEvent(read.value as StreamLine);
            if (event !== undefined) yield event;
          }
        } catch (err) {
          if (!stream.signal.aborted) throw err;
        } finally {
          clearTimeout(resync);
          stream.abort();
          this.#stop.signal.removeEventListener('abort', abortStream);
        }
        if (this.#stop.signal.aborted) break;
        this.#logger.debug('stream ended; relisting');
      } catch (err) {
        if (this.#stop.signal.aborted) break;
        this.#reconnects++;
        const delay = backoff.delay();
        this.#logger.warn({ err, retryInMs: delay }, 'Argo CD API unavailable; retrying');
        this.#lastError = err instanceof Error ? err.message : String(err);
        await sleep(delay, this.#stop.signal);
      }
    }
  }

  /** A stream line as a source event; throws the error a line reports (grpc-gateway writes it after the 200). */
  #toEvent(line: StreamLine): SourceEvent | undefined {
    const { result, error } = line;
    if (error !== undefined)
      throw new SourceProtocolError(
        'stream-error',
        `stream error: ${error.message ?? JSON.stringify(error)}`,
      );
    if (result?.application === undefined) return undefined;
    return result.type === 'DELETED'
      ? { type: 'delete', app: result.application }
      : { type: 'upsert', app: result.application };
  }
}
