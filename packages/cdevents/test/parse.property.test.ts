/**
 * Properties of the parser on generated input: arbitrary bytes, text and JSON never make it throw
 * anything but its documented errors nor take long; valid events built from arbitrary valid inputs
 * survive serialize -> parse unchanged; breaking one required field is refused at that field's path.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  BindingError,
  type CDEvent,
  createCustomEvent,
  createEvent,
  DEFAULT_MAX_EVENT_BYTES,
  eventSchema,
  fromHttp,
  fromNats,
  parse,
  type SpecVersion,
  safeParse,
  serialize,
  ValidationError,
} from '../src/index.js';
import { DEFAULT_MAX_JSON_DEPTH } from '../src/parse.js';

/** What a single parse of at most 1 MiB may take, on a loaded two-core machine. */
const BUDGET_MS = 250;
const encoder = new TextEncoder();

/** Runs `fn`, failing when it takes longer than the budget; returns its result. */
const quick = <T>(fn: () => T): T => {
  const started = performance.now();
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: fn() };
  } catch (error) {
    outcome = { error };
  }
  const took = performance.now() - started;
  if (took > BUDGET_MS) throw new Error(`took ${took.toFixed(0)} ms, the budget is ${BUDGET_MS} ms`);
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
};

/** Every way in that reads bytes: each may only throw ValidationError (parse) or also BindingError (bindings). */
const readers: readonly [string, (bytes: Uint8Array) => unknown, boolean][] = [
  ['parse', (b) => parse(b), false],
  ['fromNats', (b) => fromNats({ data: b }), true],
  [
    'fromNats structured',
    (b) => fromNats({ data: b, headers: { 'content-type': 'application/cloudevents+json' } }),
    true,
  ],
  ['fromNats binary', (b) => fromNats({ data: b, headers: { 'ce-specversion': '1.0' } }), true],
  ['fromHttp', (b) => fromHttp({ headers: { 'content-type': 'application/json' }, body: b }), true],
  [
    'fromHttp structured',
    (b) => fromHttp({ headers: { 'content-type': 'application/cloudevents+json' }, body: b }),
    true,
  ],
  [
    'fromHttp batch',
    (b) => fromHttp({ headers: { 'content-type': 'application/cloudevents-batch+json' }, body: b }),
    true,
  ],
];

/** Feeds the bytes to every reader: only documented errors, quickly; `safeParse` never throws. */
const judgedSafely = (bytes: Uint8Array): ReturnType<typeof safeParse> => {
  const result = quick(() => safeParse(bytes));
  if (!result.ok) {
    expect(result.error).toBeInstanceOf(ValidationError);
    expect(result.error.issues.length).toBeGreaterThan(0);
  }
  for (const [name, read, binding] of readers) {
    try {
      quick(() => read(bytes));
    } catch (error) {
      const documented = error instanceof ValidationError || (binding && error instanceof BindingError);
      if (!documented) throw new Error(`${name} threw an undocumented ${String(error)}`, { cause: error });
    }
  }
  return result;
};

/**
 * The value with every -0 made 0: an edit can make `-0` (or an underflow like `-1e-999`), which JSON
 * writes as `0`; the same JSON number, so not a change a round trip must keep.
 */
const zeroSigned = <T>(value: T): T => {
  if (Object.is(value, -0)) return 0 as T;
  if (Array.isArray(value)) return value.map(zeroSigned) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, zeroSigned(v)])) as T;
  }
  return value;
};

// --- valid events from arbitrary valid inputs ----------------------------------------------

const token = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,15}$/);
/** Ids and subject ids: any non-empty text, astral characters and lone surrogates included. */
const anyText = fc.string({
  minLength: 1,
  maxLength: 40,
  unit: fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  ),
});
/** Well-formed UTF-16 text only: what survives a round trip through UTF-8 bytes. */
const wellFormedText = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' });
const source = fc.oneof(
  fc.array(token, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`),
  fc.webUrl(),
  token.map((t) => `urn:argus:${t}`),
);
/** Instants ClickHouse and RFC 3339 both accept, as Dates or as text with an offset. */
const timestamp = fc.oneof(
  fc.date({
    min: new Date('1900-01-01T00:00:00Z'),
    max: new Date('2299-12-31T23:59:59Z'),
    noInvalidDate: true,
  }),
  fc
    .record({
      date: fc.date({
        min: new Date('1900-01-02T00:00:00Z'),
        max: new Date('2299-12-30T00:00:00Z'),
        noInvalidDate: true,
      }),
      offset: fc.constantFrom('+02:00', '-05:30', '+00:00', 'Z'),
    })
    .map(({ date, offset }) => date.toISOString().replace('Z', offset)),
);
const specVersion = fc.constantFrom<SpecVersion>('0.5.1', '0.4.1');
// Through JSON once: -0 has no JSON form (it reads back as 0), so it is no event's content.
const jsonObject = fc
  .dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 6 })
  .map((o) => JSON.parse(JSON.stringify(o)) as Record<string, unknown>);
const optionalExtras = fc.record(
  {
    chainId: anyText,
    customData: fc.oneof(jsonObject, fc.base64String({ minLength: 4, maxLength: 40 })),
    customDataContentType: fc.constantFrom('application/json', 'text/plain'),
  },
  { requiredKeys: [] },
);
const ref: fc.Arbitrary<{ id: string; source?: string }> = fc.oneof(
  fc.record({ id: anyText }),
  fc.record({ id: anyText, source }),
);

/** Builds events of several shapes, known and custom, in both spec versions. */
const validEvent = (text: fc.Arbitrary<string>): fc.Arbitrary<CDEvent> =>
  fc
    .record({
      kind: fc.constantFrom(
        'service.deployed',
        'change.merged',
        'incident.detected',
        'artifact.published',
        'custom',
      ),
      specVersion,
      id: text,
      source,
      timestamp,
      subjectId: text,
      environment: ref,
      artifactId: text,
      extras: optionalExtras,
      customContent: jsonObject,
    })
    .map((g): CDEvent => {
      const common = {
        id: g.id,
        source: g.source,
        timestamp: g.timestamp,
        specVersion: g.specVersion,
        ...g.extras,
      };
      switch (g.kind) {
        case 'service.deployed':
          return createEvent({
            ...common,
            type: 'service.deployed',
            subject: { id: g.subjectId, content: { environment: g.environment, artifactId: g.artifactId } },
          });
        case 'change.merged':
          return createEvent({
            ...common,
            type: 'change.merged',
            subject: { id: g.subjectId, content: { repository: g.environment } },
          });
        case 'incident.detected':
          return createEvent({
            ...common,
            type: 'incident.detected',
            subject: { id: g.subjectId, source: g.source, content: { environment: g.environment } },
          });
        case 'artifact.published':
          return createEvent({
            ...common,
            type: 'artifact.published',
            subject: { id: g.subjectId, content: {} },
          });
        default:
          return createCustomEvent({
            ...common,
            type: 'dev.cdeventsx.argus-probe.checked.0.1.0',
            subject: { id: g.subjectId, content: g.customContent },
          });
      }
    });

/** Paths of the required fields present in an event, with the schema kind expected there. */
const requiredPaths = (event: CDEvent): { path: string[]; kind: string }[] => {
  const out: { path: string[]; kind: string }[] = [];
  const specVersion: SpecVersion = 'specversion' in event.context ? '0.5.1' : '0.4.1';
  const walk = (node: ReturnType<typeof eventSchema>, value: Record<string, unknown>, path: string[]) => {
    for (const [key, property] of Object.entries(node.properties)) {
      if (!Object.hasOwn(value, key)) continue;
      if (property.required) out.push({ path: [...path, key], kind: property.node.kind });
      const child = value[key];
      if (property.node.kind === 'object' && typeof child === 'object' && child !== null) {
        walk(property.node, child as Record<string, unknown>, [...path, key]);
      }
    }
  };
  walk(eventSchema(event.context.type, specVersion), event as unknown as Record<string, unknown>, []);
  return out;
};

const wrongFor = (kind: string): fc.Arbitrary<unknown> =>
  kind === 'string'
    ? fc.oneof(
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.string(), { maxLength: 2 }),
        fc.constant({}),
      )
    : fc.oneof(
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.integer(), { maxLength: 2 }),
      );

const clone = (event: CDEvent): Record<string, unknown> =>
  JSON.parse(serialize(event)) as Record<string, unknown>;

/** The object holding the last segment of `path`, inside a cloned event. */
const parentOf = (root: Record<string, unknown>, path: readonly string[]): Record<string, unknown> =>
  path.slice(0, -1).reduce((at, key) => at[key] as Record<string, unknown>, root);

const namesPath = (issuePath: string, path: readonly string[]): boolean => {
  const dotted = path.join('.');
  return issuePath === dotted || issuePath.startsWith(`${dotted}.`) || issuePath.startsWith(`${dotted}[`);
};

describe('parse: properties', () => {
  test('arbitrary bytes are refused with a documented error, quickly; safeParse never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        judgedSafely(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  test('arbitrary edits of the bytes of a valid event: refused with a documented error, or still a valid event', () => {
    const edit = fc.oneof(
      fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
      fc.record({
        op: fc.constant('insert' as const),
        at: fc.nat(),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      }),
      fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(
        validEvent(wellFormedText),
        fc.array(edit, { minLength: 1, maxLength: 6 }),
        (event, edits) => {
          let bytes = [...encoder.encode(serialize(event))];
          for (const e of edits) {
            const at = e.at % (bytes.length + 1);
            if (e.op === 'set') bytes[at] = e.byte;
            else if (e.op === 'delete') bytes.splice(at, e.length);
            else if (e.op === 'insert') bytes.splice(at, 0, ...e.bytes);
            else bytes = bytes.slice(0, at);
          }
          const result = judgedSafely(Uint8Array.from(bytes));
          // Whatever still passes is a valid event that round-trips like any other.
          if (result.ok) expect(parse(serialize(result.event))).toEqual(zeroSigned(result.event));
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('arbitrary text and JSON values, alone or in place of any part of a valid event, are judged safely', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          judgedSafely(encoder.encode(text));
          expect(() => quick(() => safeParse(text))).not.toThrow();
        },
      ),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(
        validEvent(wellFormedText),
        fc.jsonValue({ maxDepth: 5 }),
        fc.nat(),
        (event, value, pick) => {
          // Every path in the event, down to the leaves: replace one with an arbitrary JSON value.
          const root = clone(event);
          const paths: string[][] = [];
          const walk = (v: unknown, path: string[]) => {
            if (typeof v !== 'object' || v === null) return;
            for (const key of Object.keys(v)) {
              paths.push([...path, key]);
              walk((v as Record<string, unknown>)[key], [...path, key]);
            }
          };
          walk(root, []);
          const path = paths[pick % paths.length] ?? ['context'];
          parentOf(root, path)[path.at(-1) ?? ''] = value;
          const result = judgedSafely(encoder.encode(JSON.stringify(root)));
          if (result.ok) expect(parse(serialize(result.event))).toEqual(zeroSigned(result.event));
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('nesting of any depth is judged quickly: at most the limit is accepted, deeper is too-deep', () => {
    const base = serialize(
      createEvent({ type: 'artifact.published', id: 'n', source: '/n', subject: { id: 'a', content: {} } }),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 200_000 })),
        fc.constantFrom('array', 'object'),
        (depth, shape) => {
          const nested =
            shape === 'array'
              ? `${'['.repeat(depth)}${']'.repeat(depth)}`
              : `${'{"k":'.repeat(depth)}0${'}'.repeat(depth)}`;
          // customData is level 2: its content nests `depth` levels more.
          const text = base.replace(/}$/, `,"customData":{"d":${nested}}}`);
          const bytes = encoder.encode(text);
          const result = judgedSafely(bytes);
          expect(result.ok).toBe(depth + 2 <= DEFAULT_MAX_JSON_DEPTH);
          // The size limit is checked first: the deepest inputs are also the largest.
          if (!result.ok) {
            expect(result.error.reason).toBe(
              bytes.length > DEFAULT_MAX_EVENT_BYTES ? 'too-large' : 'too-deep',
            );
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('valid events of arbitrary valid inputs, both spec versions: parse(serialize(e)) equals e', () => {
    fc.assert(
      fc.property(validEvent(anyText), (event) => {
        expect(quick(() => parse(serialize(event)))).toEqual(event);
      }),
      { numRuns: 1000 },
    );
    // Through UTF-8 bytes and the bindings too, for text UTF-8 can carry.
    fc.assert(
      fc.property(validEvent(wellFormedText), (event) => {
        const bytes = encoder.encode(serialize(event));
        expect(parse(bytes)).toEqual(event);
        expect(fromNats({ data: bytes }).event).toEqual(event);
        expect(fromHttp({ headers: { 'content-type': 'application/json' }, body: bytes })[0]?.event).toEqual(
          event,
        );
      }),
      { numRuns: 200 },
    );
  });

  test('deleting a required field or giving it the wrong type is refused with an issue at that path', () => {
    const mutation = validEvent(wellFormedText).chain((event) => {
      const paths = requiredPaths(event);
      return fc.record({
        event: fc.constant(event),
        target: fc.constantFrom(...paths).chain((target) =>
          fc.record({
            path: fc.constant(target.path),
            replacement: fc.option(wrongFor(target.kind), { nil: undefined }),
          }),
        ),
      });
    });
    fc.assert(
      fc.property(mutation, ({ event, target }) => {
        const root = clone(event);
        const parent = parentOf(root, target.path);
        const key = target.path.at(-1) ?? '';
        if (target.replacement === undefined) delete parent[key];
        else parent[key] = target.replacement;
        const result = safeParse(JSON.stringify(root));
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.error).toBeInstanceOf(ValidationError);
        // A custom 0.4.x event without context.version cannot say which spec line it follows: its
        // issue sits at context.specversion and names context.version in its message.
        const named = result.error.issues.some(
          (i) => namesPath(i.path, target.path) || i.message.includes(target.path.join('.')),
        );
        expect(named, `issues ${JSON.stringify(result.error.issues)} name ${target.path.join('.')}`).toBe(
          true,
        );
      }),
      { numRuns: 1000 },
    );
  });
});
