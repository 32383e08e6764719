import { ARGOCD_SOURCE_PREFIX, escapeSourceSegment } from '@argus/bus';
import { type Application, logicalUid } from '../argocd/types.js';
import { clusterOf, type DetectorContext, serviceOf } from './context.js';

/** A source segment, escaped as the Notifications templates escape it (Go's `urlquery`): see @argus/bus. */
export const queryEscape = escapeSourceSegment;

/** `context.source` of an environment, and the prefix of every source in its cluster. */
export const clusterSource = (cluster: string): string => `${ARGOCD_SOURCE_PREFIX}${queryEscape(cluster)}`;

export const environmentSource = (cluster: string, namespace: string): string =>
  `${clusterSource(cluster)}/${queryEscape(namespace)}`;

/**
 * The namespace the app lives in, when it tells the app apart: an app outside the control plane's
 * namespace ("apps in any namespace", 2.5+, where `status.controllerNamespace` names the control
 * plane's) may share its name with another. Empty for apps in the control plane's namespace, on
 * Argo CD that does not say which that is, and for the Argo CD Agent, whose principal keeps each
 * spoke's apps in a namespace named after the spoke, while the spoke keeps its copy in its own.
 */
export const distinctAppNamespace = (app: Application, ctx: DetectorContext): string => {
  if (ctx.argocdAgent) return '';
  const own = app.metadata.namespace ?? '';
  const control = app.status?.controllerNamespace ?? '';
  return own !== '' && control !== '' && own !== control ? own : '';
};

/** Everything about an app that ties an event to its origin, for `context.source`, `subject` and ids. */
export interface AppFacts {
  readonly app: Application;
  /** The logical uid: progress key and `customData.argocd.uid`. */
  readonly uid: string;
  readonly cluster: string;
  /** The destination namespace. */
  readonly namespace: string;
  /** The app's own namespace when it is part of its identity (see distinctAppNamespace), else ''. */
  readonly appNamespace: string;
  readonly service: string;
  /**
   * `/argocd/<cluster>/<destination namespace>[/<app namespace>]/<app>`: where the app deploys, the
   * same for every observer (agent, its restart, principal and spoke, Notifications). Event ids are
   * derived from it rather than from a uid, so an Argo CD Agent failover, which gives the app new
   * uids, keeps its events' identities.
   */
  readonly source: string;
  readonly environmentId: string;
  readonly environmentSource: string;
}

export const factsOf = (app: Application, ctx: DetectorContext): AppFacts => {
  const cluster = clusterOf(app, ctx);
  const namespace = app.spec?.destination?.namespace ?? '';
  const appNamespace = distinctAppNamespace(app, ctx);
  const name = app.metadata.name;
  return {
    app,
    uid: logicalUid(app),
    cluster,
    namespace,
    appNamespace,
    service: serviceOf(app, appNamespace),
    source: `${environmentSource(cluster, namespace)}${appNamespace === '' ? '' : `/${queryEscape(appNamespace)}`}/${queryEscape(name)}`,
    environmentId: `${cluster}/${namespace}`,
    environmentSource: clusterSource(cluster),
  };
};
