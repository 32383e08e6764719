import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import {
  type AppDefinition,
  type ClusterSpec,
  type ResourceRef,
  SimulatedArgoCD,
  type SourceSpec,
  type SyncRequest,
} from './model.js';
import { type ArgoCdVersion, isArgoCdVersion, UnknownVersionError } from './profiles.js';
import type { HelmSource } from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One timed step of a scenario; exactly one action. `app` may be `<namespace>/<name>`. */
export type Step = { readonly at: number } & (
  | {
      readonly sync: { app: string } & Mutable<Omit<SyncRequest, 'revisions' | 'resources'>> & {
          revisions?: string[];
          resources?: ResourceRef[];
        };
    }
  | { readonly finishSync: { app: string; fail?: string; error?: string } }
  | { readonly retrySync: { app: string; fail?: string; error?: string } }
  | { readonly terminate: { app: string } }
  | { readonly timeOut: { app: string } }
  | { readonly selfHeal: { app: string } }
  | { readonly rollback: { app: string; toHistoryId: number } }
  | {
      readonly updateSource: {
        app: string;
        helm?: HelmSource;
        kustomize?: { images?: string[] };
        sourceIndex?: number;
      };
    }
  | { readonly degrade: { app: string; message?: string; resources?: ResourceRef[] } }
  | { readonly recover: { app: string } }
  | { readonly refresh: { app: string } }
  | { readonly comparisonError: { app: string; message?: string } }
  | { readonly syncError: { app: string; message: string } }
  | { readonly clearConditions: { app: string; type?: string } }
  | { readonly hydrate: { app: string; drySha: string; hydratedSha: string; fail?: string } }
  | { readonly failover: { app: string; sourceUid: string; principalUid: string } }
  | { readonly recreateCopy: { app: string } }
  | { readonly replaceWithoutStatus: { app: string } }
  | { readonly addCluster: ClusterSpec }
  | { readonly renameCluster: { server: string; name: string } }
  | { readonly delete: { app: string } }
  | { readonly startDelete: { app: string } }
  | { readonly finishDelete: { app: string; tombstone?: boolean } }
  | { readonly create: AppDefinition }
);

/** Load-test apps a scenario asks for: `generateApps(apps, instance.clusters)`, each synced once at `at`. */
export interface GenerateSpec {
  readonly apps: number;
  /** Revision of each generated app's sync. @default 'v1' */
  readonly revision?: string;
  /** @default 0 */
  readonly at?: number | string;
}

export interface Scenario {
  readonly instance: {
    readonly name: string;
    readonly namespace?: string;
    readonly clusters?: readonly ClusterSpec[];
    /** Argo CD version profile (`profiles.ts`). @default '3.1' */
    readonly version?: ArgoCdVersion;
  };
  readonly apps: readonly AppDefinition[];
  readonly steps: readonly Step[];
}

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

const ACTIONS = [
  'sync',
  'finishSync',
  'retrySync',
  'terminate',
  'timeOut',
  'selfHeal',
  'rollback',
  'updateSource',
  'degrade',
  'recover',
  'refresh',
  'comparisonError',
  'syncError',
  'clearConditions',
  'hydrate',
  'failover',
  'recreateCopy',
  'replaceWithoutStatus',
  'addCluster',
  'renameCluster',
  'delete',
  'startDelete',
  'finishDelete',
  'create',
] as const;

const duration = (value: unknown, where: string): number => {
  if (typeof value === 'number') return value * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(String(value));
  if (m === null)
    throw new ScenarioError(`${where}: "at" must be like 500ms, 2s or 1m, got ${JSON.stringify(value)}`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
};

/** Checks a parsed scenario document; errors name the step and key. */
export const buildScenario = (doc: unknown, file = 'scenario'): Scenario => {
  const d = doc as Partial<{
    instance: Scenario['instance'];
    apps: AppDefinition[];
    steps: Record<string, unknown>[];
    generate: GenerateSpec;
  }>;
  if (d?.instance?.name === undefined) throw new ScenarioError(`${file}: instance.name is required`);
  const version: unknown = d.instance.version;
  if (version !== undefined && !isArgoCdVersion(version)) {
    throw new ScenarioError(`${file}: instance.version: ${new UnknownVersionError(String(version)).message}`);
  }
  const generated = generatedLoad(d.generate, d.instance.clusters ?? [], file);
  const apps = [...(d.apps ?? []), ...generated.apps];
  for (const app of apps) {
    if (app.name === undefined || app.destination?.namespace === undefined) {
      throw new ScenarioError(`${file}: every app needs a name and destination.namespace`);
    }
  }
  const steps = (d.steps ?? []).map((raw, i) => {
    const actions = Object.keys(raw).filter((k) => k !== 'at');
    const action = actions[0];
    if (actions.length !== 1 || action === undefined || !(ACTIONS as readonly string[]).includes(action)) {
      throw new ScenarioError(`${file}: step ${i} needs exactly one of ${ACTIONS.join(', ')}`);
    }
    return { at: duration(raw.at ?? 0, `${file}: step ${i}`), [action]: raw[action] } as Step;
  });
  return { instance: d.instance, apps, steps: [...steps, ...generated.steps].sort((a, b) => a.at - b.at) };
};

const generatedLoad = (
  spec: GenerateSpec | undefined,
  clusters: readonly ClusterSpec[],
  file: string,
): { apps: AppDefinition[]; steps: Step[] } => {
  if (spec === undefined) return { apps: [], steps: [] };
  if (!Number.isInteger(spec.apps) || spec.apps < 1) {
    throw new ScenarioError(
      `${file}: generate.apps must be a positive integer, got ${JSON.stringify(spec.apps)}`,
    );
  }
  const at = duration(spec.at ?? 0, `${file}: generate`);
  const apps = generateApps(spec.apps, clusters);
  const revision = spec.revision ?? 'v1';
  return { apps, steps: apps.map((app) => ({ at, sync: { app: app.name, revision } })) };
};

export const loadScenario = async (file: string): Promise<Scenario> =>
  buildScenario(parseYaml(await readFile(file, 'utf8')), file);

/** A simulator for a scenario whose clock is the scenario's time (start + the current step's `at`). */
export const simulatorFor = (scenario: Scenario, start: Date = new Date()) => {
  let now = start.getTime();
  const sim = new SimulatedArgoCD({
    name: scenario.instance.name,
    ...(scenario.instance.namespace === undefined ? {} : { namespace: scenario.instance.namespace }),
    ...(scenario.instance.clusters === undefined ? {} : { clusters: scenario.instance.clusters }),
    ...(scenario.instance.version === undefined ? {} : { version: scenario.instance.version }),
    clock: () => new Date(now),
  });
  return {
    sim,
    /** Moves the scenario clock (never backwards). */
    setTime: (ms: number) => {
      now = Math.max(now, ms);
    },
    start: start.getTime(),
  };
};

/** Drops keys whose value is undefined (scenario YAML may spell them out; options are exact). */
const defined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

export const applyStep = (sim: SimulatedArgoCD, step: Step): void => {
  if ('sync' in step) {
    const { app, ...request } = step.sync;
    sim.sync(app, defined(request));
  } else if ('finishSync' in step) {
    const { app, ...outcome } = step.finishSync;
    sim.finishSync(app, defined(outcome));
  } else if ('retrySync' in step) {
    const { app, ...outcome } = step.retrySync;
    sim.retrySync(app, defined(outcome));
  } else if ('terminate' in step) sim.terminate(step.terminate.app);
  else if ('timeOut' in step) sim.timeOut(step.timeOut.app);
  else if ('selfHeal' in step) sim.selfHeal(step.selfHeal.app);
  else if ('rollback' in step) sim.rollback(step.rollback.app, step.rollback.toHistoryId);
  else if ('updateSource' in step) {
    const { app, sourceIndex, ...change } = step.updateSource;
    sim.updateSource(app, defined(change), sourceIndex);
  } else if ('degrade' in step) sim.degrade(step.degrade.app, step.degrade.message, step.degrade.resources);
  else if ('recover' in step) sim.recover(step.recover.app);
  else if ('refresh' in step) sim.refresh(step.refresh.app);
  else if ('comparisonError' in step)
    sim.comparisonError(step.comparisonError.app, step.comparisonError.message);
  else if ('syncError' in step) sim.syncError(step.syncError.app, step.syncError.message);
  else if ('clearConditions' in step)
    sim.clearConditions(step.clearConditions.app, step.clearConditions.type);
  else if ('hydrate' in step) {
    const { app, ...request } = step.hydrate;
    sim.hydrate(app, defined(request));
  } else if ('failover' in step)
    sim.failover(step.failover.app, step.failover.sourceUid, step.failover.principalUid);
  else if ('recreateCopy' in step) sim.recreateCopy(step.recreateCopy.app);
  else if ('replaceWithoutStatus' in step) sim.replaceWithoutStatus(step.replaceWithoutStatus.app);
  else if ('addCluster' in step) sim.addCluster(step.addCluster);
  else if ('renameCluster' in step) sim.renameCluster(step.renameCluster.server, step.renameCluster.name);
  else if ('delete' in step) sim.delete(step.delete.app);
  else if ('startDelete' in step) sim.startDelete(step.startDelete.app);
  else if ('finishDelete' in step) {
    const { app, ...options } = step.finishDelete;
    sim.finishDelete(app, defined(options));
  } else sim.createApp(step.create);
};

export interface RunOptions {
  /** Real time runs `speed` times faster than scenario time. @default 1 */
  readonly speed?: number;
  /** Apply every step at once (tests). @default false */
  readonly instant?: boolean;
  readonly signal?: AbortSignal;
  readonly onStep?: (step: Step, index: number) => void;
}

/** Creates the scenario's apps, then plays its steps in order. */
export const runScenario = async (
  target: ReturnType<typeof simulatorFor>,
  scenario: Scenario,
  options: RunOptions = {},
): Promise<void> => {
  for (const app of scenario.apps) {
    if (target.sim.get(`${app.namespace ?? target.sim.namespace}/${app.name}`) === undefined)
      target.sim.createApp(app);
  }
  const realStart = Date.now();
  for (const [index, step] of scenario.steps.entries()) {
    if (options.signal?.aborted === true) return;
    if (options.instant !== true) {
      const due = realStart + step.at / (options.speed ?? 1);
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    target.setTime(target.start + step.at);
    applyStep(target.sim, step);
    options.onStep?.(step, index);
  }
};

/** `n` apps for load tests, spread over the instance's clusters, each synced once. */
export const generateApps = (n: number, clusters: readonly ClusterSpec[]): AppDefinition[] =>
  Array.from({ length: n }, (_, i) => {
    const cluster = clusters[i % clusters.length];
    const source: SourceSpec = {
      repoURL: 'https://github.com/example/platform-apps',
      path: `apps/app-${i}`,
      targetRevision: 'HEAD',
    };
    return {
      name: `app-${i}`,
      destination: {
        server: cluster?.server ?? 'https://kubernetes.default.svc',
        namespace: `team-${i % 50}`,
      },
      source,
    };
  });
