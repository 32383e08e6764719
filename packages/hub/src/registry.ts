import { readFile } from 'node:fs/promises';
import { ARGOCD_SOURCE_PREFIX, isToken } from '@argus/bus';
import { parse as parseYaml } from 'yaml';
import { RegistryError } from './errors.js';

/** What the registry knows about one cluster: its environment and free-form labels. */
export interface ClusterEntry {
  readonly name: string;
  readonly environment: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface InstanceEntry {
  readonly name: string;
  readonly architecture: string;
  /** Argo CD destination (name or server URL) -> registry cluster name. */
  readonly destinations: ReadonlyMap<string, string>;
  /**
   * Source prefixes the instance owns besides `/argocd/<its clusters>/` (events it forwards that are
   * not derived from Argo CD apps); no other publisher may use them.
   */
  readonly sources: readonly string[];
}

/** Instances, their Argo CD destinations, and the clusters those destinations are. */
export interface Registry {
  readonly clusters: ReadonlyMap<string, ClusterEntry>;
  readonly instances: ReadonlyMap<string, InstanceEntry>;
  /**
   * `true` (the default of a registry file): an instance may report only the destinations, and the
   * `/argocd/<cluster>/` sources, that the registry lists for it; an instance the registry does not
   * list (an ingest producer) may report none. `false`: destinations and sources that are not the
   * registry's are kept as reported. Either way a cluster of the registry, and a source prefix listed
   * for some instances, is theirs alone.
   */
  readonly strict: boolean;
}

/** No registry file: nothing is owned, so every destination and source is kept as reported. */
export const EMPTY_REGISTRY: Registry = { clusters: new Map(), instances: new Map(), strict: false };

/** Sources the agents derive from Argo CD apps: `/argocd/<cluster>/<namespace>/<app>` (cluster URI-encoded). */

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const ARCHITECTURES = ['hub-and-spoke', 'distributed', 'managed', 'argocd-agent', 'unknown'];

const stringRecord = (value: unknown, where: string, file?: string): Record<string, string> => {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new RegistryError(`${where} must be a map of names to strings`, file);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new RegistryError(`${where}.${k} must be a string, got ${JSON.stringify(v)}`, file);
    }
    out[k] = String(v);
  }
  return out;
};

const onlyKeys = (
  value: Record<string, unknown>,
  allowed: readonly string[],
  where: string,
  file?: string,
) => {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new RegistryError(`unknown key ${where}.${key}; allowed: ${allowed.join(', ')}`, file);
    }
  }
};

const sourcePrefixes = (value: unknown, where: string, file?: string): string[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    throw new RegistryError(`${where} must be a list of source prefixes (non-empty strings)`, file);
  }
  const prefixes = value as string[];
  const argocd = prefixes.find((p) => p.startsWith(ARGOCD_SOURCE_PREFIX));
  if (argocd !== undefined) {
    throw new RegistryError(
      `${where} lists ${JSON.stringify(argocd)}: /argocd/<cluster>/ sources follow the instance's clusters, list the cluster instead`,
      file,
    );
  }
  return prefixes;
};

/** Validates a parsed registry document. Throws `RegistryError` naming the offending key. */
export const buildRegistry = (doc: unknown, file?: string): Registry => {
  if (doc === null || doc === undefined) return EMPTY_REGISTRY;
  if (!isRecord(doc)) throw new RegistryError('the registry must be a map with clusters and instances', file);
  onlyKeys(doc, ['clusters', 'instances', 'strict'], 'registry', file);
  const clusters = new Map<string, ClusterEntry>();
  const rawClusters = doc.clusters ?? {};
  if (!isRecord(rawClusters)) throw new RegistryError('clusters must be a map of cluster names', file);
  for (const [name, value] of Object.entries(rawClusters)) {
    const entry = value ?? {};
    if (!isRecord(entry)) throw new RegistryError(`clusters.${name} must be a map`, file);
    onlyKeys(entry, ['environment', 'region', 'team', 'labels'], `clusters.${name}`, file);
    const labels = stringRecord(entry.labels, `clusters.${name}.labels`, file);
    for (const key of ['region', 'team'] as const) {
      if (entry[key] !== undefined) labels[key] = String(entry[key]);
    }
    const environment = entry.environment === undefined ? '' : String(entry.environment);
    if (environment !== '') labels.environment = environment;
    clusters.set(name, { name, environment, labels });
  }
  const instances = new Map<string, InstanceEntry>();
  const rawInstances = doc.instances ?? {};
  if (!isRecord(rawInstances)) throw new RegistryError('instances must be a map of instance ids', file);
  for (const [name, value] of Object.entries(rawInstances)) {
    if (!isToken(name)) {
      throw new RegistryError(`instances.${name}: instance ids use 1-64 characters of A-Z a-z 0-9 _ -`, file);
    }
    const entry = value ?? {};
    if (!isRecord(entry)) throw new RegistryError(`instances.${name} must be a map`, file);
    onlyKeys(entry, ['architecture', 'clusters', 'sources'], `instances.${name}`, file);
    const architecture = entry.architecture === undefined ? 'unknown' : String(entry.architecture);
    if (!ARCHITECTURES.includes(architecture)) {
      throw new RegistryError(
        `instances.${name}.architecture is ${JSON.stringify(architecture)}; allowed: ${ARCHITECTURES.join(', ')}`,
        file,
      );
    }
    const destinations = new Map<string, string>();
    const rawDestinations = entry.clusters;
    if (Array.isArray(rawDestinations)) {
      for (const d of rawDestinations) destinations.set(String(d), String(d));
    } else {
      for (const [destination, cluster] of Object.entries(
        stringRecord(rawDestinations, `instances.${name}.clusters`, file),
      )) {
        destinations.set(destination, cluster);
      }
    }
    for (const cluster of destinations.values()) {
      if (!clusters.has(cluster)) {
        throw new RegistryError(
          `instances.${name}.clusters names cluster ${JSON.stringify(cluster)}, which clusters does not define`,
          file,
        );
      }
    }
    const sources = sourcePrefixes(entry.sources, `instances.${name}.sources`, file);
    instances.set(name, { name, architecture, destinations, sources });
  }
  // Strict unless a file says otherwise: an agent's credentials must not speak for other clusters.
  const strict = doc.strict === undefined ? true : doc.strict === true;
  if (doc.strict !== undefined && typeof doc.strict !== 'boolean')
    throw new RegistryError('strict must be true or false', file);
  return { clusters, instances, strict };
};

/** Reads and validates a registry YAML (or JSON) file. */
export const loadRegistry = async (file: string): Promise<Registry> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new RegistryError(
      `cannot read the registry: ${cause instanceof Error ? cause.message : String(cause)}`,
      file,
      cause,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    throw new RegistryError(
      `not valid YAML: ${cause instanceof Error ? cause.message : String(cause)}`,
      file,
      cause,
    );
  }
  return buildRegistry(doc, file);
};
