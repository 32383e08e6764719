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
/** DORA figures (groups x buckets) in one bucketed answer: 2 MB with the longest keys. */
export const MAX_DORA_FIGURES = 10_000;
/** Cells of the what-runs-where matrix in one answer (service x cluster pairs, ~150 bytes each). */
export const MAX_DEPLOYMENT_CELLS = 10_000;
/** Services in one page of the matrix (the dashboard asks for 100). */
export const MAX_DEPLOYMENT_PAGE_SIZE = 1000;
/** Columns of the matrix, and values of each of its filter lists, in one answer. */
export const MAX_DEPLOYMENT_VALUES = 1000;

/**
 * Artifacts (and chains) of a service timeline whose builds and changes its upstream reads: the
 * newest deployed.
 */
export const MAX_UPSTREAM_ARTIFACTS = 20;
/** Upstream events per artifact and per chain. */
export const MAX_UPSTREAM_EVENTS_PER_KEY = 20;

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

/**
 * The figures of at most MAX_DORA_GROUPS groups, and of at most MAX_DORA_FIGURES figures when each
 * group has one per bucket: the groups with the most deployments first, keys cut. `left` says how
 * many groups were dropped.
 */
export const listedGroups = <T extends { readonly key: string; readonly deployments: number }>(
  figures: readonly T[],
): { readonly groups: T[]; readonly left: number } => {
  const totals = new Map<string, number>();
  for (const f of figures) totals.set(f.key, (totals.get(f.key) ?? 0) + f.deployments);
  const perGroup = totals.size === 0 ? 1 : figures.length / totals.size;
  const most = Math.max(1, Math.min(MAX_DORA_GROUPS, Math.floor(MAX_DORA_FIGURES / perGroup)));
  const cut = (list: readonly T[]) => list.map((f) => ({ ...f, key: listedValue(f.key) }));
  if (totals.size <= most) return { groups: cut(figures), left: 0 };
  const kept = new Set(
    [...totals]
      .sort((a, b) => b[1] - a[1])
      .slice(0, most)
      .map(([key]) => key),
  );
  return { groups: cut(figures.filter((f) => kept.has(f.key))), left: totals.size - most };
};
