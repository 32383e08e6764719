/**
 * Bounds of list answers. gRPC refuses a message over 4 MiB for every caller: one agent's 6000
 * clusters of 1000 characters made ListInstances and DORA by cluster RESOURCE_EXHAUSTED for
 * everyone (adversarial review 2, finding 11). 50 names of 128 characters are 6.4 KB an instance.
 */
export const MAX_CLUSTERS_LISTED = 50;
/** Characters of a listed cluster or group key; longer ones end in an ellipsis. */
export const MAX_LISTED_VALUE_CHARS = 128;
/** DORA groups in one answer, those with the most deployments first (about 200 bytes each). */
export const MAX_DORA_GROUPS = 1000;

/** A name cut to MAX_LISTED_VALUE_CHARS, marked when cut. */
export const listedValue = (value: string): string =>
  value.length <= MAX_LISTED_VALUE_CHARS ? value : `${value.slice(0, MAX_LISTED_VALUE_CHARS - 1)}…`;

/**
 * The first MAX_CLUSTERS_LISTED clusters by name, each cut, and one last entry `(+N more)` saying
 * how many were left out, so a reader of the list knows it is not whole.
 */
export const listedClusters = (clusters: readonly string[]): string[] => {
  const sorted = [...new Set(clusters)].sort();
  const listed = sorted.slice(0, MAX_CLUSTERS_LISTED).map(listedValue);
  const more = sorted.length - listed.length;
  return more > 0 ? [...listed, `(+${more} more)`] : listed;
};

/** At most MAX_DORA_GROUPS groups, the busiest first, keys cut; `left` says how many were dropped. */
export const listedGroups = <T extends { readonly key: string; readonly deployments: number }>(
  groups: readonly T[],
): { readonly groups: T[]; readonly left: number } => {
  if (groups.length <= MAX_DORA_GROUPS)
    return { groups: groups.map((g) => ({ ...g, key: listedValue(g.key) })), left: 0 };
  const kept = new Set([...groups].sort((a, b) => b.deployments - a.deployments).slice(0, MAX_DORA_GROUPS));
  return {
    groups: groups.filter((g) => kept.has(g)).map((g) => ({ ...g, key: listedValue(g.key) })),
    left: groups.length - MAX_DORA_GROUPS,
  };
};
