import { isPurl } from '@argus/agent';
import { isToken } from '@argus/bus';
import { buildRegistry } from '@argus/hub';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { INSTANCES, registryYaml, SCENARIO, SCENARIO_SPAN_MS } from '../src/index.js';
import { podinfoPurl } from '../src/world.js';

describe('the demo world', () => {
  test('every architecture and every agent source is there, with valid instance ids', () => {
    expect(new Set(INSTANCES.map((i) => i.architecture))).toEqual(
      new Set(['hub-and-spoke', 'distributed', 'managed', 'argocd-agent']),
    );
    expect(new Set(INSTANCES.map((i) => i.source))).toEqual(new Set(['api', 'kubernetes', 'webhook']));
    for (const instance of INSTANCES) expect(isToken(instance.name), instance.name).toBe(true);
  });

  test('the registry the hub loads names every instance and cluster', () => {
    const registry = buildRegistry(parseYaml(registryYaml()));
    expect([...registry.instances.keys()].sort()).toEqual(INSTANCES.map((i) => i.name).sort());
    for (const instance of INSTANCES)
      for (const cluster of [instance.inCluster, ...instance.clusters.map((c) => c.name)])
        expect(registry.clusters.has(cluster), cluster).toBe(true);
  });

  test('steps are in time order, name known instances and apps, and CI publishes the purls agents deploy', () => {
    const times = SCENARIO.map((s) => s.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(SCENARIO_SPAN_MS).toBe(times.at(-1));
    for (const s of SCENARIO) {
      if ('ci' in s) continue;
      const instance = INSTANCES.find((i) => i.name === s.instance);
      expect(instance, s.instance).toBeDefined();
      const app = Object.values(s.step).find(
        (v): v is { app: string } => typeof v === 'object' && v !== null && 'app' in v,
      );
      expect(
        instance?.apps.some((a) => a.name === app?.app),
        `${s.instance} ${app?.app}`,
      ).toBe(true);
    }
    const artifacts = SCENARIO.flatMap((s) =>
      'ci' in s && s.ci.type === 'artifact.published' ? [s.ci.subjectId] : [],
    );
    expect(artifacts).toContain(podinfoPurl('6.9.2'));
    for (const purl of artifacts) expect(isPurl(purl), purl).toBe(true);
  });
});
