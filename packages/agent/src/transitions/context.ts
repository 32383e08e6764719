import type { SpecVersion } from '@argus/cdevents';
import type { Application } from '../argocd/types.js';

/** What the detector knows about where it runs; fixed for the life of an agent. */
export interface DetectorContext {
  /**
   * Cluster name for destinations that point at the cluster Argo CD runs in (`in-cluster`,
   * `https://kubernetes.default.svc`). For the Argo CD Agent, use the name the principal gives this spoke.
   */
  readonly inClusterName: string;
  /** Argo CD destination server URL -> cluster name (from `GET /api/v1/clusters` or configuration). */
  readonly clusterNames: ReadonlyMap<string, string>;
  /** CDEvents spec version of emitted events. @default '0.5.1' */
  readonly specVersion: SpecVersion;
  /** How long health must stay Degraded before it is an incident. @default 30000 */
  readonly healthDebounceMs: number;
  /** Emit `service.deployed` for re-syncs of the same revision (self-heal). @default false */
  readonly emitResyncs: boolean;
  /**
   * The Argo CD watched is an Argo CD Agent principal or spoke: an app's namespace names the spoke
   * (principal) or the spoke's control plane, never a team, so it is left out of the app's identity.
   * @default false
   */
  readonly argocdAgent?: boolean;
}

export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';
export const IN_CLUSTER_NAME = 'in-cluster';

/** The cluster an app deploys to, as one stable name whichever Argo CD instance watches it. */
export const clusterOf = (app: Application, ctx: DetectorContext): string => {
  const destination = app.spec?.destination ?? {};
  const { server, name } = destination;
  if (name !== undefined && name !== '') return name === IN_CLUSTER_NAME ? ctx.inClusterName : name;
  if (server === undefined || server === '' || server === IN_CLUSTER_SERVER) return ctx.inClusterName;
  return ctx.clusterNames.get(server) ?? server;
};

/**
 * The service an app deploys: the `argus.dev/service` annotation, else the app name, prefixed with
 * the app's namespace when that tells two apps of one name apart (`identity.ts` distinctAppNamespace).
 */
export const SERVICE_ANNOTATION = 'argus.dev/service';
export const serviceOf = (app: Application, appNamespace = ''): string => {
  const named = app.metadata.annotations?.[SERVICE_ANNOTATION];
  if (named !== undefined && named !== '') return named;
  return appNamespace === '' ? app.metadata.name : `${appNamespace}/${app.metadata.name}`;
};
