import type { Application } from '../argocd/types.js';

/**
 * What a source reports. A snapshot is complete: apps missing from it are gone. Its apps may arrive as
 * they are read (a list of thousands is never held whole); the source continues only once they are
 * consumed, and treats a list cut short as a failure (it retries and lists again).
 */
export type SourceEvent =
  | {
      readonly type: 'snapshot';
      readonly apps: Iterable<Application> | AsyncIterable<Application>;
      /** Destination server URL -> cluster name, read again with the list (clusters are added and renamed). */
      readonly clusterNames?: ReadonlyMap<string, string>;
    }
  /** A source without lists (Notifications posts): everything so far is handled, nothing is absent. */
  | { readonly type: 'ready' }
  | { readonly type: 'upsert'; readonly app: Application }
  | { readonly type: 'delete'; readonly app: Application };

/** A way of watching Argo CD Applications: the Argo CD API stream or a Kubernetes watch. */
export interface AppSource {
  readonly name: 'api' | 'kubernetes' | 'webhook';
  /** Argo CD destination server URL -> cluster name, when the source can tell (Argo CD API). */
  clusterNames(): Promise<ReadonlyMap<string, string>>;
  /** Runs until `stop()`: lists, watches, reconnects with backoff, relists after gaps. */
  events(): AsyncIterable<SourceEvent>;
  stop(): void;
  /** Reconnections so far (for metrics). */
  readonly reconnects: number;
  /** Why the last attempt to list or watch failed, until one succeeds (for /readyz). */
  readonly lastError: string | undefined;
}
