import { UnknownEventTypeError, ValidationError } from './errors.js';
import { type CustomEventTypeInfo, classifyEventType, type EventTypeInfo } from './registry.js';
import { compile, describeType, isPlainObject, PathStack, show, type Validator } from './schema/compile.js';
import {
  customData,
  links,
  nonEmpty,
  type ObjectNode,
  object,
  oneOf,
  optional,
  type Property,
  required,
  str,
  uri,
  uriRef,
} from './schema/nodes.js';
import { CATALOG, type EventKey, type SpecVersion } from './spec/catalog.js';
import type { CDEvent } from './types.js';

/** Which spec line an event belongs to, and how its context names the spec version. */
const SPEC_LINES = {
  '0.4.1': { field: 'version', other: 'specversion', pattern: /^0\.4\.\d+$/, family: '0.4.x' },
  '0.5.1': { field: 'specversion', other: 'version', pattern: /^0\.5\.\d+$/, family: '0.5.x' },
} as const;

const contextNode = (
  specVersion: SpecVersion,
  type: Property,
  source: Property = required(uriRef({ minLength: 1 })),
): ObjectNode =>
  object({
    [SPEC_LINES[specVersion].field]: required(nonEmpty()),
    id: required(nonEmpty()),
    source,
    type,
    timestamp: required(str({ format: 'date-time' })),
    schemaUri: optional(uri({ minLength: 1 })),
    chainId: optional(nonEmpty()),
    links: optional(links()),
  });

const eventNode = (context: ObjectNode, subject: ObjectNode): ObjectNode =>
  object({
    context: required(context),
    subject: required(subject),
    customData: optional(customData()),
    customDataContentType: optional(str()),
  });

/** The whole-event schema of a known type in one spec version. */
export const knownEventSchema = (key: EventKey, specVersion: SpecVersion): ObjectNode => {
  const definition: (typeof CATALOG)[EventKey] = CATALOG[key];
  const { typeVersion, content } = definition.versions[specVersion];
  const subjectType = oneOf([definition.subjectType], 1);
  const optionalTypeIn: readonly SpecVersion[] =
    'optionalSubjectTypeIn' in definition ? definition.optionalSubjectTypeIn : [];
  const subjectProperties: Record<string, Property> = {
    id: required(nonEmpty()),
    source: optional(definition.subjectSource === 'string' ? str() : uriRef({ minLength: 1 })),
  };
  if (specVersion === '0.4.1') subjectProperties.type = required(subjectType);
  else if (optionalTypeIn.includes(specVersion)) subjectProperties.type = optional(subjectType);
  subjectProperties.content = required(content);
  return eventNode(
    contextNode(
      specVersion,
      required(oneOf([`dev.cdevents.${key}.${typeVersion}`])),
      // The test* subjects leave both sources plain strings in the spec (no URI format).
      required(definition.subjectSource === 'string' ? nonEmpty() : uriRef({ minLength: 1 })),
    ),
    object(subjectProperties),
  );
};

/** The whole-event schema of custom events in one spec version. */
export const customEventSchema = (specVersion: SpecVersion): ObjectNode => {
  const subjectProperties: Record<string, Property> = {
    id: required(nonEmpty()),
    source: optional(uriRef({ minLength: 1 })),
  };
  if (specVersion === '0.4.1')
    subjectProperties.type = required(str({ pattern: '^[a-zA-Z0-9]+-[a-zA-Z]+$' }));
  subjectProperties.content = required({ kind: 'any-object' });
  return eventNode(
    contextNode(
      specVersion,
      required(
        str({ pattern: '^dev\\.cdeventsx\\.[a-zA-Z0-9]+-[a-zA-Z]+\\.[a-zA-Z]+\\.[0-9]\\.[0-9]\\.[0-9]$' }),
      ),
    ),
    object(subjectProperties),
  );
};

// Compiled on first use of each type, then kept: a process that sees five types compiles five.
const validators = new Map<string, Validator>();
const validatorFor = (cacheKey: string, build: () => ObjectNode): Validator => {
  let validator = validators.get(cacheKey);
  if (validator === undefined) {
    validator = compile(build());
    validators.set(cacheKey, validator);
  }
  return validator;
};

/**
 * The whole-event schema for a type string. Custom types follow the spec version given
 * (their type string does not say).
 */
export const eventSchema = (type: string, customSpecVersion: SpecVersion = '0.5.1'): ObjectNode => {
  const info = classifyEventType(type);
  return info.custom ? customEventSchema(customSpecVersion) : knownEventSchema(info.key, info.specVersion);
};

/** The outcome of validating a value as a CDEvent. */
export interface ValidatedEvent {
  readonly event: CDEvent;
  readonly info: EventTypeInfo | CustomEventTypeInfo;
  readonly specVersion: SpecVersion;
}

const notAnEvent = (path: string, message: string): ValidationError =>
  new ValidationError('not-an-event', [{ path, message }]);

const specVersionOf = (
  context: Record<string, unknown>,
  info: EventTypeInfo | CustomEventTypeInfo,
): SpecVersion => {
  if (info.custom) {
    // Custom types carry no version of the spec: the context's field name says which line it follows.
    if (Object.hasOwn(context, 'specversion')) return '0.5.1';
    if (Object.hasOwn(context, 'version')) return '0.4.1';
    throw new ValidationError(
      'spec-version',
      [{ path: 'context.specversion', message: 'is required (CDEvents 0.4.x calls it context.version)' }],
      { eventType: info.type },
    );
  }
  return info.specVersion;
};

const checkSpecVersionField = (context: Record<string, unknown>, specVersion: SpecVersion, type: string) => {
  const line = SPEC_LINES[specVersion];
  const value = context[line.field];
  if (value === undefined && Object.hasOwn(context, line.other)) {
    throw new ValidationError(
      'spec-version',
      [
        {
          path: `context.${line.field}`,
          message: `is required: ${type} is a CDEvents ${line.family} type, and ${line.family} names the field "${line.field}", not "${line.other}"`,
        },
      ],
      { eventType: type },
    );
  }
  if (typeof value === 'string' && value !== '' && !line.pattern.test(value)) {
    throw new ValidationError(
      'spec-version',
      [
        {
          path: `context.${line.field}`,
          message: `is ${show(value)}, but ${type} is defined by CDEvents ${specVersion}: expected ${line.family}`,
        },
      ],
      { eventType: type },
    );
  }
};

/**
 * Validates a parsed JSON value as a CDEvent of any supported type and spec version.
 * Throws a `ValidationError` (or a subclass) listing every issue found.
 */
export const validateEvent = (value: unknown): ValidatedEvent => {
  if (!isPlainObject(value))
    throw notAnEvent('(root)', `must be a CDEvent object, got ${describeType(value)}`);
  const context = value.context;
  if (!isPlainObject(context)) {
    throw notAnEvent(
      'context',
      context === undefined ? 'is required' : `must be an object, got ${describeType(context)}`,
    );
  }
  const type = context.type;
  if (typeof type !== 'string') {
    throw notAnEvent(
      'context.type',
      type === undefined ? 'is required' : `must be a string, got ${describeType(type)}`,
    );
  }
  if (type.length > 256)
    throw new UnknownEventTypeError(`${type.slice(0, 64)}…`, 'type strings are at most 256 characters');
  const info = classifyEventType(type);
  const specVersion = specVersionOf(context, info);
  checkSpecVersionField(context, specVersion, type);
  const validator = info.custom
    ? validatorFor(`custom@${specVersion}`, () => customEventSchema(specVersion))
    : validatorFor(info.type, () => knownEventSchema(info.key, specVersion));
  const at = new PathStack();
  validator(value, at);
  if (at.issues.length > 0) throw new ValidationError('schema', at.issues, { eventType: type });
  return { event: value as unknown as CDEvent, info, specVersion };
};
