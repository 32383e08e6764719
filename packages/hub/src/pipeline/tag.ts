import type { EventTags } from '@argus/store';
import { RejectedMessage } from '../errors.js';
import { isClaimed, ownedCluster, sourceRefusal } from '../ownership.js';
import type { Registry } from '../registry.js';

/** The cluster of events that have none (CI, tests): stored as '', routed under this subject token. */
export { NO_CLUSTER_TOKEN } from '@argus/bus';

const refuse = (detail: string): RejectedMessage =>
  new RejectedMessage('cluster-not-allowed', 'RegistryPolicy', detail);

/**
 * Tags an event with who published it and where it ran, and refuses what the publisher does not own.
 * `instance` comes from the NATS subject (bound to the publisher's credentials), `destination` from
 * the publishing agent's header, `source` is the event's `context.source`. The registry maps an
 * instance's Argo CD destinations to clusters and says which clusters and sources are whose
 * (`ownership.ts`): a destination or source of a cluster the publisher does not own is dead-lettered
 * (`cluster-not-allowed`, `source-not-owned`), so one agent can neither speak for another's cluster
 * nor take the identity (source + id) of its events.
 */
export const tagEvent = (
  registry: Registry,
  instance: string,
  destination: string | undefined,
  source: string,
): EventTags | RejectedMessage => {
  const entry = registry.instances.get(instance);
  let cluster = destination ?? '';
  if (entry !== undefined && entry.destinations.size > 0) {
    const mapped = destination === undefined ? undefined : ownedCluster(entry, destination);
    if (mapped !== undefined) cluster = mapped;
    else if (destination === undefined && new Set(entry.destinations.values()).size === 1) {
      cluster = entry.destinations.values().next().value ?? '';
    } else if (destination !== undefined && (registry.strict || isClaimed(registry, destination))) {
      return refuse(
        `instance ${instance} reported destination ${JSON.stringify(destination)}, which the registry does not list for it (listed: ${[...entry.destinations.keys()].join(', ')})`,
      );
    }
  } else if (destination !== undefined && (registry.strict || isClaimed(registry, destination))) {
    return refuse(
      entry === undefined
        ? `instance ${instance} reported destination ${JSON.stringify(destination)}, but the registry does not list the instance (strict: only listed instances may report clusters)`
        : `instance ${instance} reported destination ${JSON.stringify(destination)}, but the registry lists no destination for it`,
    );
  }
  const notOwned = sourceRefusal(registry, instance, source);
  if (notOwned !== undefined) return new RejectedMessage('source-not-owned', 'RegistryPolicy', notOwned);
  const clusterEntry = registry.clusters.get(cluster);
  return {
    instance,
    cluster,
    environment: clusterEntry?.environment ?? '',
    labels: clusterEntry?.labels ?? {},
  };
};
