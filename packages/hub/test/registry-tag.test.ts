import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildRegistry, loadRegistry, RegistryError, RejectedMessage, tagEvent } from '../src/index.js';
import { RecentIdentities } from '../src/pipeline/dedupe.js';
import { EMPTY_REGISTRY } from '../src/registry.js';

const registry = buildRegistry({
  strict: true,
  clusters: {
    'prod-eu': { environment: 'production', region: 'eu-west-1', team: 'payments' },
    'stage-eu': { environment: 'staging' },
  },
  instances: {
    'argo-hub': {
      architecture: 'hub-and-spoke',
      clusters: { 'in-cluster': 'stage-eu', 'https://prod.example:6443': 'prod-eu' },
    },
    'argo-prod': { architecture: 'distributed', clusters: ['prod-eu'] },
  },
});

const SRC = '/argocd/prod-eu/payments/payments';

describe('registry', () => {
  test('maps destinations to clusters with their labels', () => {
    expect(tagEvent(registry, 'argo-hub', 'https://prod.example:6443', SRC)).toEqual({
      instance: 'argo-hub',
      cluster: 'prod-eu',
      environment: 'production',
      labels: { region: 'eu-west-1', team: 'payments', environment: 'production' },
    });
  });

  test('an instance with one cluster needs no destination header', () => {
    expect(tagEvent(registry, 'argo-prod', undefined, SRC)).toMatchObject({ cluster: 'prod-eu' });
  });

  test('strict: a destination the registry does not list for the instance is refused', () => {
    const result = tagEvent(registry, 'argo-prod', 'stage-eu', SRC);
    expect(result).toBeInstanceOf(RejectedMessage);
    expect((result as RejectedMessage).reason).toBe('cluster-not-allowed');
  });

  test('without a registry the reported destination is kept as is, and no destination means no cluster', () => {
    expect(tagEvent(EMPTY_REGISTRY, 'ci', undefined, '/ci/jenkins')).toEqual({
      instance: 'ci',
      cluster: '',
      environment: '',
      labels: {},
    });
    expect(tagEvent(EMPTY_REGISTRY, 'a', 'dev', '/argocd/dev/a/b')).toMatchObject({ cluster: 'dev' });
  });

  test('an agent sends the cluster name it resolved: a cluster its destinations map to is its own', () => {
    expect(tagEvent(registry, 'argo-hub', 'prod-eu', SRC)).toMatchObject({ cluster: 'prod-eu' });
    expect(tagEvent(registry, 'argo-hub', 'stage-eu', '/argocd/stage-eu/a/b')).toMatchObject({
      cluster: 'stage-eu',
      environment: 'staging',
    });
  });

  test('a registry file is strict unless it says otherwise', () => {
    expect(buildRegistry({ clusters: {} }).strict).toBe(true);
    expect(buildRegistry({ strict: false }).strict).toBe(false);
    expect(EMPTY_REGISTRY.strict).toBe(false);
  });

  test('sources: only the instances that own a cluster may publish /argocd/<cluster>/ sources', () => {
    // Finding 3 (b): argo-hub forging a source of prod-eu is fine (it owns prod-eu); stage-eu's
    // owner may not publish a prod-eu source, whatever header it sends.
    const shared = buildRegistry({
      clusters: { 'prod-eu': {}, 'prod-us': {}, spoke: {} },
      instances: {
        'argo-eu': { clusters: ['prod-eu'] },
        'argo-us': { clusters: ['prod-us'] },
        // A principal and its spoke both own the spoke's cluster.
        principal: { clusters: ['spoke', 'prod-eu'] },
        'spoke-agent': { clusters: { 'in-cluster': 'spoke' } },
      },
    });
    const forged = tagEvent(shared, 'argo-eu', 'prod-eu', '/argocd/prod-us/payments/payments');
    expect(forged).toBeInstanceOf(RejectedMessage);
    expect((forged as RejectedMessage).reason).toBe('source-not-owned');
    expect((forged as RejectedMessage).message).toMatch(/cluster "prod-us"/);
    // URI-encoded segments are decoded before the check.
    expect(tagEvent(shared, 'argo-eu', 'prod-eu', '/argocd/prod%2Dus/a/b')).toBeInstanceOf(RejectedMessage);
    expect(tagEvent(shared, 'principal', 'spoke', '/argocd/spoke/a/b')).toMatchObject({ cluster: 'spoke' });
    expect(tagEvent(shared, 'spoke-agent', 'spoke', '/argocd/spoke/a/b')).toMatchObject({ cluster: 'spoke' });
    // Strict: a registered agent's non-Argo CD sources must be listed; an unlisted producer (CI) may
    // use any source that nobody owns, but no cluster and no /argocd/ source.
    expect(tagEvent(shared, 'argo-eu', 'prod-eu', '/ci/jenkins')).toBeInstanceOf(RejectedMessage);
    expect(tagEvent(shared, 'ci', undefined, '/ci/jenkins')).toMatchObject({ cluster: '' });
    expect(tagEvent(shared, 'ci', undefined, '/argocd/prod-us/a/b')).toBeInstanceOf(RejectedMessage);
    const header = tagEvent(shared, 'ci', 'prod-us', '/ci/jenkins');
    expect((header as RejectedMessage).reason).toBe('cluster-not-allowed');
  });

  test('not strict: unclaimed destinations and sources pass, clusters the registry gives others do not', () => {
    const lax = buildRegistry({
      strict: false,
      clusters: { 'prod-us': { environment: 'production' }, 'dev-eu': {} },
      instances: { 'argo-eu': { clusters: ['dev-eu'] }, 'argo-us': { clusters: ['prod-us'] } },
    });
    expect(tagEvent(lax, 'argo-eu', 'scratch', '/argocd/scratch/a/b')).toMatchObject({
      cluster: 'scratch',
      environment: '',
    });
    // Finding 6: with the shipped non-strict registry argo-eu could speak for prod-us.
    const spoof = tagEvent(lax, 'argo-eu', 'prod-us', '/argocd/scratch/a/b');
    expect((spoof as RejectedMessage).reason).toBe('cluster-not-allowed');
    const source = tagEvent(lax, 'argo-eu', 'scratch', '/argocd/prod-us/a/b');
    expect((source as RejectedMessage).reason).toBe('source-not-owned');
    expect((tagEvent(lax, 'unlisted', 'prod-us', '/x') as RejectedMessage).reason).toBe(
      'cluster-not-allowed',
    );
  });

  test('listed source prefixes belong to their instances alone', () => {
    const withSources = buildRegistry({
      clusters: { 'prod-eu': {} },
      instances: { 'argo-eu': { clusters: ['prod-eu'], sources: ['/tekton/eu/'] } },
    });
    expect(tagEvent(withSources, 'argo-eu', undefined, '/tekton/eu/run-1')).toMatchObject({
      cluster: 'prod-eu',
    });
    const taken = tagEvent(withSources, 'ci', undefined, '/tekton/eu/run-1');
    expect((taken as RejectedMessage).reason).toBe('source-not-owned');
    expect(() => buildRegistry({ instances: { a: { sources: ['/argocd/x/'] } } })).toThrow(
      /list the cluster instead/,
    );
    expect(() => buildRegistry({ instances: { a: { sources: 'nope' } } })).toThrow(/list of source prefixes/);
  });

  test('malformed registries name the offending key', () => {
    expect(() => buildRegistry({ clusters: { a: { colour: 'red' } } })).toThrow(
      /unknown key clusters\.a\.colour/,
    );
    expect(() => buildRegistry({ instances: { 'a.b': {} } })).toThrow(RegistryError);
    expect(() => buildRegistry({ instances: { a: { clusters: ['nope'] } } })).toThrow(/cluster "nope"/);
    expect(() => buildRegistry({ instances: { a: { architecture: 'mesh' } } })).toThrow(
      /allowed: hub-and-spoke/,
    );
  });

  test('loadRegistry reads YAML and reports unreadable files with their path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'argus-reg-'));
    const file = join(dir, 'registry.yaml');
    await writeFile(
      file,
      'clusters:\n  dev: { environment: development }\ninstances:\n  argo-dev:\n    clusters: [dev]\n',
    );
    const loaded = await loadRegistry(file);
    expect(loaded.instances.get('argo-dev')?.destinations.get('dev')).toBe('dev');
    await expect(loadRegistry(join(dir, 'missing.yaml'))).rejects.toThrow(/missing\.yaml: cannot read/);
    await writeFile(file, 'clusters: [unclosed');
    await expect(loadRegistry(file)).rejects.toThrow(/not valid YAML/);
  });
});

describe('RecentIdentities', () => {
  test('remembers up to its capacity and forgets the oldest first', () => {
    const recent = new RecentIdentities(2);
    recent.add('a');
    recent.add('b');
    recent.add('a');
    recent.add('c');
    expect(recent.has('a')).toBe(false);
    expect(recent.has('b')).toBe(true);
    expect(recent.has('c')).toBe(true);
    expect(recent.size).toBe(2);
  });

  test('keeps exactly the newest identities as it goes round and round', () => {
    const recent = new RecentIdentities(3);
    for (let i = 0; i < 20; i++) {
      recent.add(`id-${i}`);
      // A repeat of one it holds changes nothing: neither the set nor which goes next.
      if (i > 0) recent.add(`id-${i - 1}`);
      const kept = Array.from({ length: 20 }, (_, k) => `id-${k}`).filter((id) => recent.has(id));
      expect(kept).toEqual(
        Array.from({ length: Math.min(3, i + 1) }, (_, k) => `id-${i - Math.min(3, i + 1) + 1 + k}`),
      );
      expect(recent.size).toBe(Math.min(3, i + 1));
    }
  });
});
