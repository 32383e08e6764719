/**
 * Default of `--max-clusters-per-instance`. An Argo CD in hub-and-spoke mode manages tens of clusters;
 * 64 leaves room for that, while 6,000 names of 1,000 characters from one agent broke ListInstances
 * and DORA by cluster for every user (adversarial review 2, finding 11).
 */
export const DEFAULT_MAX_CLUSTERS_PER_INSTANCE = 64;

/**
 * Distinct clusters each instance has reported: up to the cap, new ones are admitted; beyond it,
 * events for a cluster the instance has not reported before are refused (dead-lettered
 * `too-many-clusters`), those for clusters it already has are not. Primed at start with what is
 * stored, so a restart does not open the cap again. '' (no cluster) is never counted.
 */
export class ClusterCap {
  readonly max: number;
  readonly #seen = new Map<string, Set<string>>();

  constructor(max: number = DEFAULT_MAX_CLUSTERS_PER_INSTANCE) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`max clusters must be >= 1, got ${max}`);
    this.max = max;
  }

  /** Records stored (instance, cluster) pairs. */
  prime(pairs: Iterable<{ readonly instance: string; readonly cluster: string }>): void {
    for (const { instance, cluster } of pairs) this.#clustersOf(instance).add(cluster);
  }

  /** Undefined when the event may be stored; otherwise why not. */
  refusal(instance: string, cluster: string): string | undefined {
    if (cluster === '') return undefined;
    const clusters = this.#clustersOf(instance);
    if (clusters.has(cluster)) return undefined;
    if (clusters.size < this.max) {
      clusters.add(cluster);
      return undefined;
    }
    return `instance ${instance} has reported ${clusters.size} distinct clusters, the most one instance may (--max-clusters-per-instance ${this.max}); ${JSON.stringify(cluster.slice(0, 128))} is refused. List the instance's clusters in the registry (strict), or raise the limit`;
  }

  #clustersOf(instance: string): Set<string> {
    let clusters = this.#seen.get(instance);
    if (clusters === undefined) {
      clusters = new Set();
      this.#seen.set(instance, clusters);
    }
    return clusters;
  }
}
