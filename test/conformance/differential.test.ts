import { isCDEvent } from '@argus/cdevents';
import { describe, expect, test } from 'vitest';
import { examples, type Json, officialValidator, SPEC_PRESENT, VERSIONS } from './spec.js';

type Path = (string | number)[];

/** Every path to a value inside a JSON document, objects and arrays included. */
const paths = (value: unknown, prefix: Path = []): Path[] => {
  if (typeof value !== 'object' || value === null) return [prefix];
  const children = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...children.flatMap(([k, v]) => paths(v, [...prefix, k]))];
};

const at = (root: unknown, path: Path): unknown =>
  path.reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], root);

const mutate = (
  doc: Json,
  path: Path,
  change: (parent: Record<string | number, unknown>, key: string | number) => void,
): Json => {
  const copy = structuredClone(doc);
  const parent = at(copy, path.slice(0, -1)) as Record<string | number, unknown>;
  change(parent, path.at(-1) as string | number);
  return copy;
};

const REPLACEMENTS: unknown[] = ['', 42, null, true, 'not a uri::', '2026-13-01T00:00:00Z', [], {}, 'x y'];

/**
 * Where we are deliberately stricter than the official schemas: the spec version value must match
 * the type's spec line, and date-times need an RFC 3339 offset (`Z` or `±hh:mm`).
 */
const intentionallyStricter = (path: Path, replacement: unknown): boolean => {
  const last = path.at(-1);
  return (
    (last === 'specversion' || last === 'version') &&
    path.length === 2 &&
    typeof replacement === 'string' &&
    replacement !== ''
  );
};

describe.skipIf(!SPEC_PRESENT).each(VERSIONS)(
  'v%s: our validator agrees with the official schemas',
  (version) => {
    const official = officialValidator(version);
    const cases: [string, Json][] = [];
    for (const example of examples(version)) {
      for (const path of paths(example.json)) {
        if (path.length === 0) continue;
        cases.push([
          `${example.name} delete ${path.join('.')}`,
          mutate(example.json, path, (p, k) => {
            delete p[k];
          }),
        ]);
        for (const replacement of REPLACEMENTS) {
          if (intentionallyStricter(path, replacement)) continue;
          cases.push([
            `${example.name} ${path.join('.')}=${JSON.stringify(replacement)}`,
            mutate(example.json, path, (p, k) => {
              p[k] = replacement;
            }),
          ]);
        }
        if (
          typeof at(example.json, path) === 'object' &&
          at(example.json, path) !== null &&
          !Array.isArray(at(example.json, path))
        ) {
          cases.push([
            `${example.name} ${path.join('.')}+extra`,
            mutate(example.json, [...path, 'zz'], (p, k) => {
              p[k] = 'x';
            }),
          ]);
        }
      }
      cases.push([`${example.name} as-is`, example.json]);
    }

    test(`${cases.length} mutations of the official examples`, () => {
      const disagreements: string[] = [];
      for (const [name, doc] of cases) {
        const type =
          typeof (doc.context as Json | undefined)?.type === 'string'
            ? ((doc.context as Json).type as string)
            : '';
        const theirs = type !== '' && official(type, doc);
        const ours = isCDEvent(doc);
        if (theirs !== ours) disagreements.push(`${name}: official ${theirs}, ours ${ours}`);
      }
      expect(disagreements).toEqual([]);
      expect(cases.length).toBeGreaterThan(3000);
    });
  },
);
