import type { Logger } from '@argus/runtime';
import type { Application } from '../argocd/types.js';
import { Backoff, sleep } from './backoff.js';
import {
  getJson,
  type HttpClientOptions,
  HttpStatusError,
  openJsonLines,
  openJsonList,
  TlsVerificationError,
} from './http.js';
import type { AppSource, SourceEvent } from './source.js';

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

interface StreamLine {
  result?: { type?: string; application?: Application };
  error?: { message?: string; code?: number };
}

/**
 * Watches Applications through Argo CD's own API (no cluster access needed: managed Argo CD):
 * `GET /api/v1/applications` (a complete list: apps missing from it are gone), then
 * `GET /api/v1/stream/applications`, with a bearer token. Reconnects with backoff; relists on every reconnect and every `resyncMs`.
 */
export class ArgoCdApiSource implements AppSource {
  readonly name = 'api' as const;
  readonly #options: ArgoCdApiSourceOptions;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  #stream: AbortController | undefined;
  #reconnects = 0;
  #lastError: string | undefined;

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

  async *events(): AsyncGenerator<SourceEvent> {
    const backoff = new Backoff();
    const resyncMs = this.#options.resyncMs ?? 300_000;
    while (!this.#stop.signal.aborted) {
      try {
        // Watch, then list: the stream is open (headers received) before the list is taken, so no
        // change can fall between them; detection is idempotent, so the overlap costs nothing.
        const stream = new AbortController();
        this.#stream = stream;
        const abortStream = () => stream.abort();
        this.#stop.signal.addEventListener('abort', abortStream);
        const resync = setTimeout(abortStream, resyncMs);
        try {
          const lines = await openJsonLines(
            this.#url('api/v1/stream/applications'),
            this.#options,
            stream.signal,
          );
          const list = await openJsonList(this.#url('api/v1/applications'), this.#options, this.#stop.signal);
          yield { type: 'snapshot', apps: list.items as AsyncIterable<Application> };
          if (list.envelope === undefined) throw new Error('the application list was not read to its end');
          const metadata = list.envelope.metadata as { resourceVersion?: string } | undefined;
          this.#logger.info(
            { apps: list.count, resourceVersion: metadata?.resourceVersion },
            'listed applications',
          );
          backoff.reset();
          this.#lastError = undefined;
          for await (const line of lines) {
            const { result, error } = line as StreamLine;
            if (error !== undefined)
              throw new Error(`stream error: ${error.message ?? JSON.stringify(error)}`);
            if (result?.application === undefined) continue;
            yield result.type === 'DELETED'
              ? { type: 'delete', app: result.application }
              : { type: 'upsert', app: result.application };
          }
        } catch (err) {
          if (!stream.signal.aborted) throw err;
        } finally {
          clearTimeout(resync);
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
}
