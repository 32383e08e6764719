import {
  type Application,
  type AppProgress,
  appEntered,
  type DetectorContext,
  detectTransitions,
  type EnvironmentsState,
  logicalUid,
  rememberedApp,
} from '@argus/agent';
import { applyStep, simulatorFor } from '@argus/argocd-sim';
import { type CDEvent, createEvent, eventIdentity, type SpecVersion, serialize } from '@argus/cdevents';
import { type DemoInstance, INSTANCES, registryYaml, SCENARIO, SCENARIO_SPAN_MS } from '@argus/demo';
import { buildRegistry, RejectedMessage, tagEvent } from '@argus/hub';
import { type EventRow, toEventRow } from '@argus/store';
import { parse as parseYaml } from 'yaml';

/**
 * The demo's events without the demo's processes: the same world and scenario
 * (packages/demo/src/world.ts) played on the same simulated Argo CDs, each app change turned into
 * CDEvents by the agent's own detector (as `Agent` does: detection, environments, rechecks after
 * the health debounce), CI events built as `argus send` builds them, tagged by the hub's `tagEvent`
 * with the demo's registry, and one row per identity (the hub's JetStream dedupe: the Argo CD Agent
 * principal and its spoke report each edge-1 change, CI sends one artifact twice). The scenario
 * clock is the event clock, so no wall-clock waits; the demo test checks the counts match the demo's.
 */

/** The agent's defaults, with the demo's `--health-debounce 1s`. */
const SPEC_VERSION: SpecVersion = '0.5.1';
const HEALTH_DEBOUNCE_MS = 1000;

export interface DemoEvent {
  readonly event: CDEvent;
  readonly row: EventRow;
}

export interface DemoEvents {
  /** Scenario time 0: the demo starts its scenario this long before now, as `runDemo` does. */
  readonly start: Date;
  readonly events: readonly DemoEvent[];
}

interface Published {
  readonly event: CDEvent;
  readonly instance: string;
  /** The agent's `Argus-Destination-Cluster` header; none for CI. */
  readonly destination: string | undefined;
}

/** One agent's detection loop over one simulated Argo CD, without NATS or a spool. */
class InProcessAgent {
  readonly #ctx: DetectorContext;
  readonly #progress = new Map<string, AppProgress | undefined>();
  readonly #lastSeen = new Map<string, Application>();
  readonly #rechecks = new Map<string, number>();
  #environments: EnvironmentsState = { v: 1, environments: {} };

  constructor(
    readonly instance: DemoInstance,
    readonly publish: (p: Published) => void,
  ) {
    this.#ctx = {
      inClusterName: instance.inCluster,
      clusterNames: new Map(instance.clusters.map((c) => [c.server, c.name])),
      specVersion: SPEC_VERSION,
      healthDebounceMs: HEALTH_DEBOUNCE_MS,
      emitResyncs: false,
      argocdAgent: instance.architecture === 'argocd-agent',
    };
  }

  handle(app: Application, now: Date): void {
    const uid = logicalUid(app);
    this.#lastSeen.set(uid, rememberedApp(app));
    const detection = detectTransitions(app, this.#progress.get(uid), this.#ctx, now);
    for (const emission of detection.emissions) {
      const type = emission.event.context.type;
      if (type.startsWith('dev.cdevents.service.') && !type.startsWith('dev.cdevents.service.removed')) {
        const change = appEntered(
          this.#environments,
          uid,
          emission.progress.cluster,
          emission.progress.namespace,
          emission.event.context.timestamp,
          SPEC_VERSION,
        );
        this.#environments = change.state;
        if (change.event !== undefined)
          this.publish({ event: change.event, instance: this.instance.name, destination: change.cluster });
      }
      this.publish({ event: emission.event, instance: this.instance.name, destination: emission.cluster });
    }
    this.#progress.set(uid, detection.progress);
    if (detection.recheckAt === undefined) this.#rechecks.delete(uid);
    else this.#rechecks.set(uid, detection.recheckAt.getTime());
  }

  /** Looks again at apps whose debounce has passed by `until` (the agent's recheck timers). */
  recheck(until: number): void {
    for (const [uid, at] of [...this.#rechecks].sort((a, b) => a[1] - b[1])) {
      if (at > until) continue;
      const app = this.#lastSeen.get(uid);
      this.#rechecks.delete(uid);
      if (app !== undefined) this.handle(app, new Date(at));
    }
  }
}

/**
 * The app as an agent source reads it: the simulator serves this object as JSON (Argo CD API stream,
 * Kubernetes watch); the sim types it with its own, narrower interfaces.
 */
const watched = (app: unknown): Application => JSON.parse(JSON.stringify(app)) as Application;

const typeTokens = (event: CDEvent): { subjectType: string; predicate: string } => {
  const [, , subjectType = '', predicate = ''] = event.context.type.split('.');
  return { subjectType, predicate };
};

/** Plays the demo's scenario in process and returns the rows the demo's hub would store. */
export const demoEvents = (now = new Date()): DemoEvents => {
  const start = new Date(now.getTime() - SCENARIO_SPAN_MS - 5 * 60_000);
  const published: Published[] = [];
  const publish = (p: Published) => published.push(p);
  const argos = new Map(
    INSTANCES.map((instance) => {
      const target = simulatorFor(
        { instance: { name: instance.name, clusters: instance.clusters }, apps: instance.apps, steps: [] },
        start,
      );
      for (const app of instance.apps) target.sim.createApp(app);
      const agent = new InProcessAgent(instance, publish);
      let clock = start.getTime();
      // The agent's first list, then every watch event at the scenario time it happened.
      for (const app of target.sim.list().items) agent.handle(watched(app), start);
      target.sim.subscribe((change) => {
        if (change.type !== 'DELETED') agent.handle(watched(change.app), new Date(clock));
      });
      const setTime = (ms: number) => {
        clock = Math.max(clock, ms);
        target.setTime(ms);
      };
      return [instance.name, { sim: target.sim, setTime, agent }] as const;
    }),
  );
  for (const step of SCENARIO) {
    const at = start.getTime() + step.at;
    for (const argo of argos.values()) argo.agent.recheck(at);
    if ('ci' in step) {
      const { type, id, source, subjectId, chainId } = step.ci;
      const event = createEvent({
        type,
        specVersion: SPEC_VERSION,
        source,
        id,
        chainId,
        timestamp: new Date(at).toISOString(),
        subject: { id: subjectId, content: {} },
      } as Parameters<typeof createEvent>[0]) as CDEvent;
      publish({ event, instance: 'ci', destination: undefined });
      continue;
    }
    const argo = argos.get(step.instance);
    if (argo === undefined) throw new Error(`the scenario names an unknown instance ${step.instance}`);
    argo.setTime(at);
    applyStep(argo.sim, step.step);
  }
  for (const argo of argos.values()) argo.agent.recheck(Number.POSITIVE_INFINITY);

  const registry = buildRegistry(parseYaml(registryYaml()));
  const seen = new Set<string>();
  const events: DemoEvent[] = [];
  for (const { event, instance, destination } of published) {
    const identity = eventIdentity(event.context.source, event.context.id);
    if (seen.has(identity)) continue;
    seen.add(identity);
    const tags = tagEvent(registry, instance, destination, event.context.source);
    if (tags instanceof RejectedMessage)
      throw new Error(`the hub would refuse ${event.context.type} of ${instance}: ${tags.message}`);
    const row = toEventRow({
      event,
      identity,
      ...typeTokens(event),
      specVersion: SPEC_VERSION,
      raw: serialize(event),
      tags,
      receivedAt: now,
    });
    events.push({ event, row });
  }
  return { start, events };
};
