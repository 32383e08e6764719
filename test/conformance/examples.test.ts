import {
  type CDEvent,
  convert,
  createCustomEvent,
  createEvent,
  EVENT_KEYS,
  eventSchema,
  parseDetailed,
  type SpecVersion,
  serialize,
  typeString,
} from '@argus/cdevents';
import { describe, expect, test } from 'vitest';
import { examples, type Json, officialValidator, SPEC_PRESENT, VERSIONS } from './spec.js';

describe.skipIf(!SPEC_PRESENT).each(VERSIONS)('CDEvents v%s official examples', (version) => {
  const all = examples(version);
  const official = officialValidator(version);
  const other: SpecVersion = version === '0.5.1' ? '0.4.1' : '0.5.1';
  const otherOfficial = officialValidator(other);

  test('there is one example per event type, and the custom one', () => {
    expect(all).toHaveLength(EVENT_KEYS.length + 1);
    expect(new Set(all.map((e) => (e.json.context as Json).type)).size).toBe(EVENT_KEYS.length + 1);
  });

  test.each(all.map((e) => [e.name, e] as const))(
    '%s parses, validates and round-trips to equal JSON',
    (_, example) => {
      const text = JSON.stringify(example.json);
      const { event, specVersion, info } = parseDetailed(text);
      expect(specVersion).toBe(version);
      expect(info.type).toBe((example.json.context as Json).type);
      expect(JSON.parse(serialize(event))).toEqual(example.json);
      expect(official(info.type, example.json)).toBe(true);
    },
  );

  test.each(all.map((e) => [e.name, e] as const))(
    '%s is rebuilt by our builder into an event the official schema accepts',
    (_, example) => {
      const context = example.json.context as Json;
      const subject = example.json.subject as Json;
      const init = {
        id: context.id as string,
        source: context.source as string,
        timestamp: context.timestamp as string,
        specVersion: version,
        ...(context.chainId === undefined ? {} : { chainId: context.chainId as string }),
        ...(context.schemaUri === undefined ? {} : { schemaUri: context.schemaUri as string }),
        ...(context.links === undefined ? {} : { links: context.links as never }),
        ...(example.json.customData === undefined ? {} : { customData: example.json.customData as Json }),
        ...(example.json.customDataContentType === undefined
          ? {}
          : { customDataContentType: example.json.customDataContentType as string }),
      };
      const subjectInit = {
        id: subject.id as string,
        ...(subject.source === undefined ? {} : { source: subject.source as string }),
        content: subject.content as never,
      };
      const type = context.type as string;
      const built = (
        type.startsWith('dev.cdeventsx.')
          ? createCustomEvent({ ...init, type: type as `dev.cdeventsx.${string}`, subject: subjectInit })
          : createEvent({
              ...init,
              type: EVENT_KEYS.find((k) => typeString(k, version) === type) ?? EVENT_KEYS[0]!,
              subject: subjectInit,
            })
      ) as CDEvent;
      expect(official(type, built)).toBe(true);
      expect(JSON.parse(serialize(built))).toEqual(example.json);
    },
  );

  test.each(all.map((e) => [e.name, e] as const))(
    `%s converts to v${other} and back without loss`,
    (_, example) => {
      const event = parseDetailed(JSON.stringify(example.json)).event;
      const converted = convert(event, other);
      expect(otherOfficial(converted.context.type, converted)).toBe(true);
      expect(convert(converted, version)).toEqual(example.json);
    },
  );

  test('every type has a schema we can render', () => {
    for (const key of EVENT_KEYS) expect(eventSchema(typeString(key, version)).kind).toBe('object');
  });
});
