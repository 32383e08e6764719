import { type CDEvent, createEvent, deterministicId, type SpecVersion } from '@argus/cdevents';
import { environmentSource } from './identity.js';

/** Which apps live in which environment (destination cluster + namespace), across one agent's apps. */
export interface EnvironmentsState {
  readonly v: 1;
  /** `<cluster>/<namespace>` -> logical uids of the apps deployed there, sorted. */
  readonly environments: Readonly<Record<string, readonly string[]>>;
}

export const EMPTY_ENVIRONMENTS: EnvironmentsState = { v: 1, environments: {} };

export interface EnvironmentChange {
  readonly state: EnvironmentsState;
  readonly event: CDEvent | undefined;
  readonly cluster: string;
}

const environmentEvent = (
  type: 'environment.created' | 'environment.deleted',
  cluster: string,
  namespace: string,
  timestamp: string,
  specVersion: SpecVersion,
): CDEvent => {
  const id = `${cluster}/${namespace}`;
  const source = environmentSource(cluster, namespace);
  return createEvent({
    type,
    specVersion,
    id: deterministicId([type, id, timestamp]),
    source,
    timestamp,
    subject: { id, source, content: { name: id } },
    customData: { argocd: { cluster, namespace } },
    customDataContentType: 'application/json',
  }) as CDEvent;
};

/** Where `uid` is or would go in `sorted` (ascending, as `Array.prototype.sort` orders strings). */
const sortedIndex = (sorted: readonly string[], uid: string): number => {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] as string) < uid) low = mid + 1;
    else high = mid;
  }
  return low;
};

/** The first app deployed into a (cluster, namespace) creates the environment. */
export const appEntered = (
  state: EnvironmentsState,
  uid: string,
  cluster: string,
  namespace: string,
  timestamp: string,
  specVersion: SpecVersion,
): EnvironmentChange => {
  const key = `${cluster}/${namespace}`;
  const apps = state.environments[key] ?? [];
  if (apps.includes(uid)) return { state, event: undefined, cluster };
  const at = sortedIndex(apps, uid);
  // Inserted in place rather than appended and sorted: a first list of 20,000 apps enters them one by one.
  const next: EnvironmentsState = {
    v: 1,
    environments: { ...state.environments, [key]: [...apps.slice(0, at), uid, ...apps.slice(at)] },
  };
  const event =
    apps.length === 0
      ? environmentEvent('environment.created', cluster, namespace, timestamp, specVersion)
      : undefined;
  return { state: next, event, cluster };
};

/** One app followed on under a new logical uid (`agent.ts` adoption): its memberships move with it. */
export const renameApp = (state: EnvironmentsState, from: string, to: string): EnvironmentsState => {
  let changed = false;
  const environments: Record<string, readonly string[]> = {};
  for (const [key, apps] of Object.entries(state.environments)) {
    if (apps.includes(from)) {
      changed = true;
      environments[key] = [...new Set(apps.map((a) => (a === from ? to : a)))].sort();
    } else environments[key] = apps;
  }
  return changed ? { v: 1, environments } : state;
};

/** The last app leaving a (cluster, namespace) deletes the environment. */
export const appLeft = (
  state: EnvironmentsState,
  uid: string,
  cluster: string,
  namespace: string,
  timestamp: string,
  specVersion: SpecVersion,
): EnvironmentChange => {
  const key = `${cluster}/${namespace}`;
  const apps = state.environments[key];
  if (apps === undefined || !apps.includes(uid)) return { state, event: undefined, cluster };
  const remaining = apps.filter((a) => a !== uid);
  const environments = { ...state.environments };
  if (remaining.length === 0) delete environments[key];
  else environments[key] = remaining;
  const event =
    remaining.length === 0
      ? environmentEvent('environment.deleted', cluster, namespace, timestamp, specVersion)
      : undefined;
  return { state: { v: 1, environments }, event, cluster };
};
