import { describe, expect, test } from 'vitest';
import {
  createEvent,
  fromHttp,
  fromNats,
  isCDEvent,
  MalformedJsonError,
  NestingTooDeepError,
  NumberOutOfRangeError,
  PayloadTooLargeError,
  parse,
  parseDetailed,
  safeParse,
  serialize,
  UnknownEventTypeError,
  UnknownTypeVersionError,
  ValidationError,
  validate,
} from '../src/index.js';
import { DEFAULT_MAX_JSON_DEPTH } from '../src/parse.js';

const valid = () =>
  JSON.parse(
    JSON.stringify(
      createEvent({
        type: 'service.deployed',
        id: 'e1',
        source: '/argocd/prod/podinfo',
        timestamp: '2026-11-24T10:00:00Z',
        subject: { id: 'podinfo', content: { environment: { id: 'prod' }, artifactId: 'pkg:oci/podinfo' } },
      }),
    ),
  ) as Record<string, Record<string, unknown> & { content?: Record<string, unknown> }>;

const failure = (input: string | Uint8Array, options = {}): ValidationError => {
  const result = safeParse(input, options);
  if (result.ok) throw new Error('expected a failure');
  return result.error;
};

describe('parse', () => {
  test('returns the typed event with its type info and spec version', () => {
    const text = JSON.stringify(valid());
    const { event, info, specVersion } = parseDetailed(text);
    expect(event.context.id).toBe('e1');
    expect(specVersion).toBe('0.5.1');
    expect(info).toMatchObject({
      custom: false,
      key: 'service.deployed',
      typeVersion: '0.3.0',
      subjectType: 'service',
    });
    expect(parse(new TextEncoder().encode(text))).toEqual(event);
  });

  test('too large input is refused before parsing', () => {
    const error = failure(`{"a":"${'x'.repeat(200)}"}`, { maxBytes: 100 });
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error.reason).toBe('too-large');
    expect((error as PayloadTooLargeError).limit).toBe(100);
    // multi-byte characters count as bytes, not as UTF-16 units
    expect(failure(`"${'é'.repeat(60)}"`, { maxBytes: 100 })).toBeInstanceOf(PayloadTooLargeError);
  });

  test('malformed JSON and non-UTF-8 bytes are malformed-json', () => {
    const error = failure('{"context": {');
    expect(error).toBeInstanceOf(MalformedJsonError);
    expect(error.reason).toBe('malformed-json');
    expect(error.issues[0]?.path).toBe('(root)');
    expect(failure(new Uint8Array([0x7b, 0xff, 0x7d])).message).toContain('not valid UTF-8');
  });

  test('a number beyond the range of a double is refused with its path, not read as Infinity', () => {
    const withNumber = (literal: string) =>
      JSON.stringify({ ...valid(), customData: { a: [0, { b: 1 }] } }).replace('{"b":1}', `{"b":${literal}}`);
    for (const literal of ['1e999', '-1E+400', '0.5e309', '9'.repeat(400)]) {
      const error = failure(withNumber(literal));
      expect(error).toBeInstanceOf(NumberOutOfRangeError);
      expect(error.reason).toBe('number-out-of-range');
      expect(error.issues).toEqual([
        { path: 'customData.a[1].b', message: expect.stringContaining('Infinity') },
      ]);
    }
    // Large but finite numbers, and ones that only look large, still parse and round-trip.
    for (const literal of ['1.7976931348623157e308', '1e-999', '0.0001e310', '9'.repeat(300)]) {
      const event = parse(withNumber(literal));
      expect(parse(serialize(event))).toEqual(event);
    }
    expect(failure('1e999')).toBeInstanceOf(NumberOutOfRangeError);
    // The pattern inside a string is no number.
    expect(parse(withNumber('"1e999"'))).toBeDefined();
  });

  test('something that is not an event says what is missing', () => {
    expect(failure('[]').issues).toEqual([
      { path: '(root)', message: 'must be a CDEvent object, got an array' },
    ]);
    expect(failure('{}').issues).toEqual([{ path: 'context', message: 'is required' }]);
    expect(failure('{"context":{"type":7}}').issues).toEqual([
      { path: 'context.type', message: 'must be a string, got number 7' },
    ]);
    expect(failure('{}').reason).toBe('not-an-event');
  });

  test('an unknown type and an unknown version of a known type are told apart', () => {
    const e = valid();
    (e.context as Record<string, unknown>).type = 'dev.cdevents.service.exploded.0.3.0';
    const unknown = failure(JSON.stringify(e));
    expect(unknown).toBeInstanceOf(UnknownEventTypeError);
    expect(unknown.reason).toBe('unknown-type');
    (e.context as Record<string, unknown>).type = 'dev.cdevents.service.deployed.0.9.0';
    const version = failure(JSON.stringify(e));
    expect(version).toBeInstanceOf(UnknownTypeVersionError);
    expect((version as UnknownTypeVersionError).knownVersions).toEqual([
      '0.2.0 (spec 0.4.1)',
      '0.3.0 (spec 0.5.1)',
    ]);
    (e.context as Record<string, unknown>).type = 'com.example.other';
    expect(failure(JSON.stringify(e)).reason).toBe('unknown-type');
  });

  test('the spec version field and value must match the type version', () => {
    const e = valid();
    const context = e.context as Record<string, unknown>;
    context.version = context.specversion;
    delete context.specversion;
    const wrongField = failure(JSON.stringify(e));
    expect(wrongField.reason).toBe('spec-version');
    expect(wrongField.issues[0]?.path).toBe('context.specversion');
    expect(wrongField.issues[0]?.message).toContain('names the field "specversion", not "version"');
    const e2 = valid();
    (e2.context as Record<string, unknown>).specversion = '0.4.1';
    expect(failure(JSON.stringify(e2)).issues[0]?.message).toContain('expected 0.5.x');
  });

  test('schema issues list every problem with a readable path', () => {
    const e = valid();
    const content = (e.subject as { content: Record<string, unknown> }).content;
    delete content.artifactId;
    (content.environment as Record<string, unknown>).id = '';
    content.colour = 'red';
    (e.context as Record<string, unknown>).timestamp = '2026-02-30T10:00:00Z';
    (e.context as Record<string, unknown>).source = 'not a uri ref';
    const error = failure(JSON.stringify(e));
    expect(error.reason).toBe('schema');
    expect(error.eventType).toBe('dev.cdevents.service.deployed.0.3.0');
    expect(error.issues).toEqual(
      expect.arrayContaining([
        { path: 'subject.content.artifactId', message: 'is required' },
        { path: 'subject.content.environment.id', message: 'must not be empty' },
        { path: 'subject.content.colour', message: 'is not allowed here (allowed: environment, artifactId)' },
        expect.objectContaining({ path: 'context.timestamp' }),
        expect.objectContaining({ path: 'context.source' }),
      ]),
    );
    expect(error.message).toMatch(/^invalid CDEvent dev\.cdevents\.service\.deployed\.0\.3\.0: /);
  });

  test('links are validated by kind', () => {
    const e = valid();
    (e.context as Record<string, unknown>).links = [
      { linkType: 'RELATION', linkKind: 'TRIGGER', target: { contextId: 'x' } },
      { linkType: 'PATH' },
      { linkType: 'SIDEWAYS' },
    ];
    const error = failure(JSON.stringify(e));
    expect(error.issues).toEqual([
      { path: 'context.links[1].from', message: 'is required' },
      { path: 'context.links[2].linkType', message: 'must be one of END, PATH, RELATION; got "SIDEWAYS"' },
    ]);
  });

  test('hostile input costs bounded work: issues stop at 50, deep nesting is refused', () => {
    const e = valid();
    const content = (e.subject as { content: Record<string, unknown> }).content;
    for (let i = 0; i < 500; i++) content[`k${i}`] = i;
    expect(failure(JSON.stringify(e)).issues.length).toBe(50);
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    expect(failure(deep).reason).toBe('too-deep');
  });

  test('nesting deeper than maxDepth is refused before parsing, so nothing recursive overflows later', () => {
    const withCustomData = (levels: number) =>
      JSON.stringify({ ...valid(), customData: { d: 0 } }).replace(
        '{"d":0}',
        `{"d":${'['.repeat(levels - 2)}${']'.repeat(levels - 2)}}`,
      );
    // 100k levels: JSON.parse alone survives them, JSON.stringify of the result does not.
    const started = performance.now();
    const error = failure(withCustomData(100_000));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(NestingTooDeepError);
    expect(error.reason).toBe('too-deep');
    expect((error as NestingTooDeepError).limit).toBe(DEFAULT_MAX_JSON_DEPTH);
    expect(error.message).toContain(`deeper than ${DEFAULT_MAX_JSON_DEPTH} levels`);
    // The event object is level 1, customData level 2: exactly the limit passes and serializes.
    const atLimit = parse(withCustomData(DEFAULT_MAX_JSON_DEPTH));
    expect(JSON.parse(serialize(atLimit))).toEqual(atLimit);
    expect(failure(withCustomData(DEFAULT_MAX_JSON_DEPTH + 1)).reason).toBe('too-deep');
    expect(failure(withCustomData(10), { maxDepth: 9 }).reason).toBe('too-deep');
    // Brackets inside strings (and escaped quotes before them) are not nesting.
    const tricky = `\\"${'['.repeat(1000)}`;
    const e = { ...valid(), subject: { ...valid().subject, id: tricky } };
    expect(parse(JSON.stringify(e)).subject.id).toBe(tricky);
  });

  test('envelopes allow their own level above the limit, not more: structured NATS and HTTP, batches', () => {
    const deepEvent = { ...valid(), customData: { d: JSON.parse(`${'['.repeat(200)}${']'.repeat(200)}`) } };
    const envelope = JSON.stringify({ specversion: '1.0', type: 'x', data: deepEvent });
    const nats = () => fromNats({ data: new TextEncoder().encode(envelope) });
    expect(nats).toThrow(NestingTooDeepError);
    const structured = { 'content-type': 'application/cloudevents+json' };
    expect(() => fromHttp({ headers: structured, body: envelope })).toThrow(NestingTooDeepError);
    const batch = { 'content-type': 'application/cloudevents-batch+json' };
    expect(() => fromHttp({ headers: batch, body: `[${envelope}]` })).toThrow(NestingTooDeepError);
    const ok = { ...valid(), customData: { d: [[1]] } };
    const okEnvelope = JSON.stringify({ specversion: '1.0', data: ok });
    expect(fromNats({ data: new TextEncoder().encode(okEnvelope) }, { maxDepth: 4 }).mode).toBe('structured');
    expect(fromHttp({ headers: batch, body: `[${okEnvelope}]` }, { maxDepth: 4 })).toHaveLength(1);
    expect(() => fromHttp({ headers: batch, body: `[${okEnvelope}]` }, { maxDepth: 3 })).toThrow(
      NestingTooDeepError,
    );
  });

  test('validate and isCDEvent work on parsed values', () => {
    expect(validate(valid()).context.id).toBe('e1');
    expect(isCDEvent(valid())).toBe(true);
    expect(isCDEvent({ context: {} })).toBe(false);
    expect(() => validate(null)).toThrow(ValidationError);
  });
});
