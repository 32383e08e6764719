import { argocdSourceCluster } from '@argus/bus';
import type { InstanceEntry, Registry } from './registry.js';

/**
 * The registry cluster an instance reports under `name` (an Argo CD destination it lists, or the
 * name of a cluster one of its destinations maps to: agents send the cluster name they resolved),
 * or undefined when the registry does not give `name` to it.
 */
export const ownedCluster = (entry: InstanceEntry, name: string): string | undefined => {
  const mapped = entry.destinations.get(name);
  if (mapped !== undefined) return mapped;
  for (const cluster of entry.destinations.values()) if (cluster === name) return cluster;
  return undefined;
};

/**
 * `true` when `name` is a cluster of the registry: then only the instances it is listed for may report
 * it, strict or not (a principal and its spokes may all list it). Destination names and server URLs
 * are not claimed: they mean something only to the Argo CD that uses them (each has its `in-cluster`).
 */
export const isClaimed = (registry: Registry, name: string): boolean => registry.clusters.has(name);

/** The instances whose `sources` prefixes cover `source` (empty when none claims it). */
export const sourceOwners = (registry: Registry, source: string): string[] => {
  const owners: string[] = [];
  for (const entry of registry.instances.values()) {
    if (entry.sources.some((prefix) => source.startsWith(prefix))) owners.push(entry.name);
  }
  return owners;
};

/**
 * Why `instance` may not publish an event with this `context.source`, or undefined when it may. The
 * hub de-duplicates on source + id across publishers, so whoever publishes a source first decides
 * what is stored for it: only its owners may publish it.
 * - `/argocd/<cluster>/…`: owned by the instances the registry lists that cluster for. Strict: an
 *   instance may publish only its own; not strict: also clusters the registry does not define.
 * - a prefix in some instance's `sources`: only those instances.
 * - any other source: strict refuses it from a registered instance (its events are Argo CD's, or
 *   listed in `sources`); producers the registry does not list (CI through the ingest) may use it.
 */
export const sourceRefusal = (registry: Registry, instance: string, source: string): string | undefined => {
  const entry = registry.instances.get(instance);
  const cluster = argocdSourceCluster(source);
  if (cluster !== undefined) {
    if (entry !== undefined && ownedCluster(entry, cluster) !== undefined) return undefined;
    if (!registry.strict && !isClaimed(registry, cluster)) return undefined;
    return entry === undefined
      ? `instance ${instance} is not in the registry, so it may not publish Argo CD source ${JSON.stringify(source)} (cluster ${JSON.stringify(cluster)})`
      : `instance ${instance} published source ${JSON.stringify(source)}, but the registry does not list cluster ${JSON.stringify(cluster)} for it (listed: ${[...entry.destinations.keys()].join(', ')})`;
  }
  const owners = sourceOwners(registry, source);
  if (owners.length > 0) {
    return owners.includes(instance)
      ? undefined
      : `source ${JSON.stringify(source)} belongs to ${owners.join(', ')} in the registry, not to ${instance}`;
  }
  if (registry.strict && entry !== undefined) {
    return `instance ${instance} published source ${JSON.stringify(source)}, which is neither /argocd/<one of its clusters>/ nor one of its registry sources (${entry.sources.join(', ') || 'none listed'})`;
  }
  return undefined;
};
