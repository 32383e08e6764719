import {
  EMBEDDED_LINKS_SCHEMA,
  EVENT_KEYS,
  eventSchema,
  type JsonSchema,
  toJsonSchema,
  typeString,
} from '@argus/cdevents';
import { describe, expect, test } from 'vitest';
import { type Json, linkSchemas, officialSchemas, SPEC_PRESENT, VERSIONS } from './spec.js';

const DROPPED = new Set(['$schema', '$id', 'description', 'default', 'example']);
const LINKS_REF = { $ref: 'links/embeddedlinksarray' };

/** Annotations dropped, `required` sorted (empty dropped), the links $ref replaced: what remains is what validates. */
const normalise = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value !== 'object' || value === null) return value;
  if (JSON.stringify(value) === JSON.stringify(LINKS_REF)) return 'LINKS';
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (DROPPED.has(k)) continue;
    // `required: []` and no `required` mean the same.
    if (k === 'required' && Array.isArray(v) && v.length === 0) continue;
    out[k] = k === 'required' && Array.isArray(v) ? [...(v as string[])].sort() : normalise(v);
  }
  return out;
};

const replaceLinks = (schema: JsonSchema): unknown =>
  JSON.parse(JSON.stringify(schema).replaceAll(JSON.stringify(EMBEDDED_LINKS_SCHEMA), '"LINKS"'));

describe.skipIf(!SPEC_PRESENT).each(VERSIONS)('our v%s schemas are the official ones', (version) => {
  const official = officialSchemas(version);

  test.each(EVENT_KEYS.map((k) => [typeString(k, version)]))('%s', (type) => {
    const ours = replaceLinks(toJsonSchema(eventSchema(type)));
    expect(normalise(ours)).toEqual(normalise(official.get(type)));
  });

  test('custom events', () => {
    const ours = replaceLinks(toJsonSchema(eventSchema('dev.cdeventsx.a-b.c.0.1.0', version)));
    expect(normalise(ours)).toEqual(normalise(official.get('custom')));
  });

  test('embedded links', () => {
    const links = linkSchemas(version);
    const resolveRef = (name: string) => normalise({ ...(links.get(name) as Json), type: 'object' });
    const officialLinks = {
      type: 'array',
      items: { anyOf: ['embeddedlinkend', 'embeddedlinkpath', 'embeddedlinkrelation'].map(resolveRef) },
    };
    expect(normalise(EMBEDDED_LINKS_SCHEMA)).toEqual(officialLinks);
  });
});
