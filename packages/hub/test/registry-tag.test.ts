import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  buildRegistry,
  EMPTY_REGISTRY,
  loadRegistry,
  RecentIdentities,
  RegistryError,
  RejectedMessage,
  tagEvent,
} from '../src/index.js';

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

describe('registry', () => {
  test('maps destinations to clusters with their labels', () => {
    expect(tagEvent(registry, 'argo-hub', 'https://prod.example:6443')).toEqual({
      instance: 'argo-hub',
      cluster: 'prod-eu',
      environment: 'production',
      labels: { region: 'eu-west-1', team: 'payments', environment: 'production' },
    });
  });

  test('an instance with one cluster needs no destination header', () => {
    expect(tagEvent(registry, 'argo-prod', undefined)).toMatchObject({ cluster: 'prod-eu' });
  });

  test('strict: a destination the registry does not list for the instance is refused', () => {
    const result = tagEvent(registry, 'argo-prod', 'stage-eu');
    expect(result).toBeInstanceOf(RejectedMessage);
    expect((result as RejectedMessage).reason).toBe('cluster-not-allowed');
  });

  test('without a registry the reported destination is kept as is, and no destination means no cluster', () => {
    expect(tagEvent(EMPTY_REGISTRY, 'ci', undefined)).toEqual({
      instance: 'ci',
      cluster: '',
      environment: '',
      labels: {},
    });
    expect(tagEvent(EMPTY_REGISTRY, 'a', 'dev')).toMatchObject({ cluster: 'dev' });
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
});
