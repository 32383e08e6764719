import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SpecVersion } from '@argus/cdevents';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/** The official CDEvents schemas and examples, beside the repository in ../shared (dev and CI). */
export const SPEC_DIR = resolve(
  fileURLToPath(new URL('../../', import.meta.url)),
  '..',
  'shared',
  'cdevents-spec',
);
export const SPEC_PRESENT = existsSync(join(SPEC_DIR, 'v0.5.1', 'schemas'));
if (!SPEC_PRESENT) {
  console.warn(`conformance: ${SPEC_DIR} is absent; the CDEvents conformance tests are skipped`);
}

export const VERSIONS: readonly SpecVersion[] = ['0.4.1', '0.5.1'];

export type Json = Record<string, unknown>;

const readJson = (file: string): Json => JSON.parse(readFileSync(file, 'utf8')) as Json;

export interface Example {
  readonly version: SpecVersion;
  readonly name: string;
  readonly file: string;
  readonly json: Json;
}

/** Every example of a version, the custom one included. */
export const examples = (version: SpecVersion): Example[] => {
  if (!SPEC_PRESENT) return [];
  const dir = join(SPEC_DIR, `v${version}`, 'examples');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(dir, f));
  files.push(join(dir, 'custom', 'conformance.json'));
  return files.map((file) => ({
    version,
    name: file.slice(dir.length + 1),
    file,
    json: readJson(file),
  }));
};

/** The official schema of each type string (mapped by the `context.type` enum, as the spec README says). */
export const officialSchemas = (version: SpecVersion): Map<string, Json> => {
  const schemas = new Map<string, Json>();
  if (!SPEC_PRESENT) return schemas;
  const dir = join(SPEC_DIR, `v${version}`, 'schemas');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const schema = readJson(join(dir, f));
    const context = (schema.properties as Json).context as { properties: { type: { enum?: string[] } } };
    for (const type of context.properties.type.enum ?? []) schemas.set(type, schema);
  }
  schemas.set('custom', readJson(join(dir, 'custom', 'schema.json')));
  return schemas;
};

export const linkSchemas = (version: SpecVersion): Map<string, Json> => {
  // describe.skipIf still runs the suite's body while collecting: nothing may be read when absent.
  if (!SPEC_PRESENT) return new Map();
  const dir = join(SPEC_DIR, `v${version}`, 'schemas', 'links');
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => [f.replace(/\.json$/, ''), readJson(join(dir, f))]),
  );
};

type AddFormats = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;

/** Ajv 2020 with ajv-formats, the link schemas added first: how upstream validates its examples. */
export const officialValidator = (version: SpecVersion) => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const [name, schema] of linkSchemas(version)) if (name.startsWith('embedded')) ajv.addSchema(schema);
  const compiled = new Map<string, ReturnType<Ajv2020['compile']>>();
  const schemas = officialSchemas(version);
  return (type: string, value: unknown): boolean => {
    const key = type.startsWith('dev.cdeventsx.') ? 'custom' : type;
    let validate = compiled.get(key);
    if (validate === undefined) {
      const schema = schemas.get(key);
      if (schema === undefined) return false;
      validate = ajv.compile(schema);
      compiled.set(key, validate);
    }
    return validate(value) === true;
  };
};
