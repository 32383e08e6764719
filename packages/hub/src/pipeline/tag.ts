import type { EventTags } from '@argus/store';
import { RejectedMessage } from '../errors.js';
import type { Registry } from '../registry.js';

/** The cluster of events that have none (CI, tests): stored as '', routed under this subject token. */
export const NO_CLUSTER_TOKEN = 'unassigned';

/**
 * Tags an event with who published it and where it ran. `instance` comes from the NATS subject
 * (bound to the publisher's credentials), `destination` from the publishing agent's header; the
 * payload is never consulted. The registry maps an instance's Argo CD destinations to clusters.
 */
export const tagEvent = (
  registry: Registry,
  instance: string,
  destination: string | undefined,
): EventTags | RejectedMessage => {
  const entry = registry.instances.get(instance);
  let cluster = destination ?? '';
  if (entry !== undefined && entry.destinations.size > 0) {
    const mapped = destination === undefined ? undefined : entry.destinations.get(destination);
    if (mapped !== undefined) cluster = mapped;
    else if (destination === undefined && new Set(entry.destinations.values()).size === 1) {
      cluster = entry.destinations.values().next().value ?? '';
    } else if (registry.strict) {
      return new RejectedMessage(
        'cluster-not-allowed',
        'RegistryPolicy',
        `instance ${instance} reported destination ${JSON.stringify(destination ?? '')}, which the registry does not list for it (listed: ${[...entry.destinations.keys()].join(', ')})`,
      );
    }
  }
  const clusterEntry = registry.clusters.get(cluster);
  return {
    instance,
    cluster,
    environment: clusterEntry?.environment ?? '',
    labels: clusterEntry?.labels ?? {},
  };
};
