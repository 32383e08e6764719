/**
 * The registry examples of the docs (docs/registry.md, docs/tenancy.md) load with the hub's own loader,
 * as the ConfigMap of deploy/k8s does, and mean what the docs say.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRegistry, RegistryError } from '@argus/hub';
import { afterAll, describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'argus-registry-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first ```yaml block of a Markdown file that has a `clusters:` key, written to a file. */
const exampleFile = (doc: string): string => {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  const block = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? '')
    .find((b) => /^clusters:/m.test(b));
  if (block === undefined) throw new Error(`${doc} has no registry example`);
  const file = join(dir, `${doc.replaceAll('/', '_')}.yaml`);
  writeFileSync(file, block);
  return file;
};

describe('registry examples in the docs', () => {
  test('docs/registry.md: the example loads and every documented key takes effect', async () => {
    const registry = await loadRegistry(exampleFile('docs/registry.md'));
    expect(registry.strict).toBe(true);
    expect([...registry.clusters.keys()]).toEqual(['prod-eu', 'prod-us', 'cluster-b', 'staging']);
    expect(registry.clusters.get('prod-eu')?.labels).toEqual({
      region: 'eu-west-1',
      team: 'platform',
      environment: 'production',
    });
    expect(registry.clusters.get('prod-us')?.labels['cost-center']).toBe('4711');
    const eu = registry.instances.get('argo-eu');
    expect(eu?.architecture).toBe('hub-and-spoke');
    expect(eu?.destinations.get('https://kubernetes.default.svc')).toBe('prod-eu');
    expect([...(registry.instances.get('argo-us')?.destinations ?? [])]).toEqual([['prod-us', 'prod-us']]);
    expect(registry.instances.get('argo-b')?.destinations.get('in-cluster')).toBe('cluster-b');
    expect(registry.instances.get('tekton-bridge')).toMatchObject({
      architecture: 'unknown',
      sources: ['/tekton/eu/'],
    });
  });

  test('docs/tenancy.md: its example loads too', async () => {
    const registry = await loadRegistry(exampleFile('docs/tenancy.md'));
    expect(registry.instances.size).toBeGreaterThan(0);
  });

  test('what docs/registry.md says is refused is refused, naming the key', async () => {
    const file = join(dir, 'bad.yaml');
    for (const [text, message] of [
      ['clusters: { a: { colour: red } }', /unknown key clusters\.a\.colour; allowed/],
      ['clusters: {}\ninstances: { "bad id": {} }', /instance ids use/],
      ['clusters: {}\ninstances: { x: { architecture: mesh } }', /architecture is "mesh"; allowed/],
      ['clusters: {}\ninstances: { x: { clusters: [nowhere] } }', /which clusters does not define/],
    ] as const) {
      writeFileSync(file, text);
      const error = await loadRegistry(file).catch((e: unknown) => e);
      expect(error, text).toBeInstanceOf(RegistryError);
      expect(String(error), text).toMatch(message);
    }
  });
});
