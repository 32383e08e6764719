/** App and resource health as each release writes it (see `HealthTransitionMode` in `profiles.ts`). */

import type { HealthTransitionMode } from './profiles.js';

/** A live resource of an app's tree, with its health (what Redis holds for the API server from 3.0 on). */
export interface ResourceState {
  group?: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
  status: string;
  health: { status: string; message?: string };
}

export interface AppHealth {
  status: string;
  lastTransitionTime?: string;
}

/** Best first, as gitops-engine `health.IsWorse` orders them. */
const HEALTH_ORDER = ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown'];

/** `setApplicationHealth`: the worst resource health; an app with no resources is Missing. */
export const worstHealth = (tree: readonly ResourceState[]): string =>
  tree.reduce(
    (acc, r) => (HEALTH_ORDER.indexOf(r.health.status) > HEALTH_ORDER.indexOf(acc) ? r.health.status : acc),
    tree.length === 0 ? 'Missing' : 'Healthy',
  );

/** The app health one reconcile writes: only a status and, per release, a transition time; never a message. */
export const appHealth = (
  mode: HealthTransitionMode,
  previous: Partial<AppHealth> | undefined,
  status: string,
  now: string,
): AppHealth => {
  const kept = previous?.lastTransitionTime;
  switch (mode) {
    case 'absent':
      return { status };
    case 'every-reconcile':
      // 2.14.0-2.14.11, 3.0.0-3.0.2 controller/health.go: kept if unchanged and set, else now.
      return { status, lastTransitionTime: previous?.status === status && kept !== undefined ? kept : now };
    case 'on-change':
      // 3.1+ controller/appcontroller.go persistAppStatus: now on a change, else copied (possibly absent).
      if (previous?.status !== status) return { status, lastTransitionTime: now };
      return kept === undefined ? { status } : { status, lastTransitionTime: kept };
  }
};

/** What the simulator deploys for an app: a Deployment and a Service of its name, both Healthy. */
export const defaultTree = (name: string, namespace: string): ResourceState[] => [
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    namespace,
    name,
    status: 'Synced',
    health: { status: 'Healthy' },
  },
  { version: 'v1', kind: 'Service', namespace, name, status: 'Synced', health: { status: 'Healthy' } },
];

/** `status.resources`: with health when persisted (≤2.14), without it from 3.0. */
export const storedResources = (
  tree: readonly ResourceState[],
  persistHealth: boolean,
): Record<string, unknown>[] =>
  tree.map(({ health, ...rest }) => (persistHealth ? { ...rest, health: { ...health } } : { ...rest }));

/** `server/application/application.go` `inferResourcesStatusHealth`: resource health from the tree. */
export const inflateResourceHealth = (
  resources: readonly Record<string, unknown>[],
  tree: readonly ResourceState[],
): Record<string, unknown>[] =>
  resources.map((r) => {
    const live = tree.find((t) => t.kind === r.kind && t.name === r.name && t.namespace === r.namespace);
    return live === undefined ? r : { ...r, health: { ...live.health } };
  });
