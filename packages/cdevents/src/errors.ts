import type { ValidationIssue } from './schema/compile.js';

/** Base class of every error this package throws. */
export class CDEventsError extends Error {
  override name = 'CDEventsError';
}

/** Why an input is not a valid CDEvent: a literal callers (and dead-letter records) can branch on. */
export type ValidationReason =
  | 'too-large'
  | 'malformed-json'
  | 'too-deep'
  | 'number-out-of-range'
  | 'not-an-event'
  | 'unknown-type'
  | 'unknown-type-version'
  | 'spec-version'
  | 'schema';

const summarise = (issues: readonly ValidationIssue[]): string =>
  issues
    .slice(0, 5)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ') + (issues.length > 5 ? `; and ${issues.length - 5} more` : '');

/**
 * The input is not a valid CDEvent. `issues` lists every problem found, as `{ path, message }`;
 * subclasses say which kind of problem it is.
 */
export class ValidationError extends CDEventsError {
  override name = 'ValidationError';
  readonly reason: ValidationReason;
  readonly issues: readonly ValidationIssue[];
  /** `context.type` of the input, when it had one. */
  readonly eventType: string | undefined;

  constructor(
    reason: ValidationReason,
    issues: readonly ValidationIssue[],
    options: { eventType?: string | undefined; cause?: unknown; message?: string } = {},
  ) {
    const subject =
      options.eventType === undefined ? 'invalid CDEvent' : `invalid CDEvent ${options.eventType}`;
    super(options.message ?? `${subject}: ${summarise(issues)}`, { cause: options.cause });
    this.reason = reason;
    this.issues = Object.freeze([...issues]);
    this.eventType = options.eventType;
  }
}

/** The bytes are larger than the configured limit; nothing was parsed. */
export class PayloadTooLargeError extends ValidationError {
  override name = 'PayloadTooLargeError';
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super('too-large', [{ path: '(root)', message: `is ${size} bytes; the limit is ${limit} bytes` }], {
      message: `CDEvent of ${size} bytes exceeds the limit of ${limit} bytes`,
    });
    this.size = size;
    this.limit = limit;
  }
}

/** The bytes are not JSON (or not UTF-8). */
export class MalformedJsonError extends ValidationError {
  override name = 'MalformedJsonError';
  constructor(detail: string, cause?: unknown) {
    super('malformed-json', [{ path: '(root)', message: detail }], {
      cause,
      message: `not a CDEvent: malformed JSON (${detail})`,
    });
  }
}

/**
 * The JSON nests arrays and objects deeper than the limit. Refused before parsing: whatever later
 * walks the value recursively (`JSON.stringify`, a store, a consumer) would overflow its stack.
 */
export class NestingTooDeepError extends ValidationError {
  override name = 'NestingTooDeepError';
  readonly limit: number;
  constructor(limit: number, offset: number) {
    super(
      'too-deep',
      [{ path: '(root)', message: `nests deeper than ${limit} levels at character ${offset}` }],
      {
        message: `not a CDEvent: JSON nests arrays and objects deeper than ${limit} levels (at character ${offset})`,
      },
    );
    this.limit = limit;
  }
}

/**
 * A JSON number is beyond the range of a 64-bit float (e.g. `1e999`): `JSON.parse` reads it as
 * `Infinity`, which no JSON can carry, so the event would silently change (`null`) when serialized
 * again. I-JSON (RFC 7493, 2.2) asks for numbers within IEEE 754 double range.
 */
export class NumberOutOfRangeError extends ValidationError {
  override name = 'NumberOutOfRangeError';
  constructor(path: string) {
    super(
      'number-out-of-range',
      [{ path, message: 'is a number beyond the range of a 64-bit float (it would read as Infinity)' }],
      {
        message: `not a CDEvent: the number at ${path} is beyond the range of a 64-bit float (it would read as Infinity; RFC 7493)`,
      },
    );
  }
}

/** `context.type` names no CDEvents event type this package knows (nor a `dev.cdeventsx.` custom type). */
export class UnknownEventTypeError extends ValidationError {
  override name = 'UnknownEventTypeError';
  constructor(eventType: string, detail: string) {
    super('unknown-type', [{ path: 'context.type', message: detail }], {
      eventType,
      message: `unknown CDEvent type ${JSON.stringify(eventType)}: ${detail}`,
    });
  }
}

/** A known event type in a version no supported spec release defines (e.g. `service.deployed.0.9.0`). */
export class UnknownTypeVersionError extends ValidationError {
  override name = 'UnknownTypeVersionError';
  readonly knownVersions: readonly string[];
  constructor(eventType: string, knownVersions: readonly string[]) {
    const detail = `version not supported; known versions: ${knownVersions.join(', ')}`;
    super('unknown-type-version', [{ path: 'context.type', message: detail }], {
      eventType,
      message: `unsupported version of CDEvent type ${JSON.stringify(eventType)}: known versions are ${knownVersions.join(', ')}`,
    });
    this.knownVersions = knownVersions;
  }
}

/** A conversion between spec versions would lose or invent information. */
export class ConversionError extends CDEventsError {
  override name = 'ConversionError';
  readonly eventType: string;
  readonly target: string;
  readonly issues: readonly ValidationIssue[];
  constructor(eventType: string, target: string, issues: readonly ValidationIssue[], cause?: unknown) {
    super(`cannot convert ${eventType} to CDEvents ${target} without loss: ${summarise(issues)}`, { cause });
    this.eventType = eventType;
    this.target = target;
    this.issues = Object.freeze([...issues]);
  }
}

/** A transport message (HTTP request, NATS message) is not a well-formed CloudEvent carrying a CDEvent. */
export class BindingError extends CDEventsError {
  override name = 'BindingError';
  readonly reason: 'missing-attribute' | 'attribute-mismatch' | 'content-type' | 'malformed';
  readonly attribute: string | undefined;
  constructor(
    reason: BindingError['reason'],
    message: string,
    options: { attribute?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.reason = reason;
    this.attribute = options.attribute;
  }
}
