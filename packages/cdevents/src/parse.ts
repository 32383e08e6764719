import {
  MalformedJsonError,
  NestingTooDeepError,
  NumberOutOfRangeError,
  PayloadTooLargeError,
  ValidationError,
} from './errors.js';
import type { CDEvent } from './types.js';
import { type ValidatedEvent, validateEvent } from './validate.js';

/** Default upper bound of one serialized CDEvent: generous for real events, small enough to refuse abuse. */
export const DEFAULT_MAX_EVENT_BYTES = 1_048_576;

/**
 * Default deepest nesting of arrays and objects: real events nest about ten levels; serde_json's
 * limit. Far below what `JSON.stringify` and other recursive walkers survive.
 */
export const DEFAULT_MAX_JSON_DEPTH = 128;

export interface ParseOptions {
  /**
   * Largest accepted input in bytes (UTF-8). Larger inputs fail with `PayloadTooLargeError`
   * before any parsing.
   * @default 1048576 (1 MiB, `DEFAULT_MAX_EVENT_BYTES`)
   */
  readonly maxBytes?: number;
  /**
   * Deepest accepted nesting of JSON arrays and objects (the event object itself is level 1).
   * Deeper inputs fail with `NestingTooDeepError` before parsing.
   * @default 128 (`DEFAULT_MAX_JSON_DEPTH`)
   */
  readonly maxDepth?: number;
}

export type ParseResult =
  | ({ readonly ok: true } & ValidatedEvent)
  | { readonly ok: false; readonly error: ValidationError };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** UTF-8 text of the input, refusing more than `maxBytes` bytes and invalid UTF-8. */
export const decodeText = (input: string | Uint8Array, maxBytes: number): string => {
  if (typeof input === 'string') {
    // Cheap bound first: a UTF-8 string is at least as many bytes as UTF-16 code units.
    if (input.length > maxBytes) throw new PayloadTooLargeError(Buffer.byteLength(input, 'utf8'), maxBytes);
    if (input.length * 3 > maxBytes) {
      const size = Buffer.byteLength(input, 'utf8');
      if (size > maxBytes) throw new PayloadTooLargeError(size, maxBytes);
    }
    return input;
  }
  if (input.byteLength > maxBytes) throw new PayloadTooLargeError(input.byteLength, maxBytes);
  try {
    return utf8.decode(input);
  } catch (cause) {
    throw new MalformedJsonError('the bytes are not valid UTF-8', cause);
  }
};

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether `text` holds more than `limit` opening brackets and braces (strings included): cheap, via indexOf. */
const moreOpeningsThan = (text: string, limit: number): boolean => {
  let count = 0;
  for (const open of ['{', '[']) {
    for (let i = text.indexOf(open); i !== -1; i = text.indexOf(open, i + 1)) {
      if (++count > limit) return true;
    }
  }
  return false;
};

/** Throws `NestingTooDeepError` when arrays and objects outside strings nest deeper than `limit`. */
export const checkDepth = (text: string, limit: number): void => {
  // Nesting cannot exceed the number of openings: most events skip the exact scan.
  if (!moreOpeningsThan(text, limit)) return;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > limit) throw new NestingTooDeepError(limit, i);
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
};

// A JSON number overflows a double only with an exponent of three digits or more, or with more than
// 308 digits before its point: one cheap scan for either (16 digits stand in for 309) lets nearly every
// event skip the walk of its parsed value. Spelled out, not `\d{3}`: V8 runs the quantified form ~4x slower.
const MAY_HOLD_OVERFLOWING_NUMBER = new RegExp(String.raw`\d(?:[eE]\+?\d\d\d|${String.raw`\d`.repeat(15)})`);

/** Path of the first number in `value` that is not finite, or `undefined`. Depth is already bounded. */
const nonFiniteNumberPath = (value: unknown, path: string): string | undefined => {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nonFiniteNumberPath(value[i], `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const found = nonFiniteNumberPath(item, path === '' ? key : `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
};

/**
 * `JSON.parse` of at most `maxDepth` levels of nesting, failing with `MalformedJsonError` (a
 * shortened message) instead of a SyntaxError, `NestingTooDeepError`, or `NumberOutOfRangeError`.
 */
export const parseJson = (text: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown => {
  checkDepth(text, maxDepth);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new MalformedJsonError(detail.length > 200 ? `${detail.slice(0, 200)}…` : detail, cause);
  }
  if (MAY_HOLD_OVERFLOWING_NUMBER.test(text)) {
    const path = nonFiniteNumberPath(value, '');
    if (path !== undefined) throw new NumberOutOfRangeError(path === '' ? '(root)' : path);
  }
  return value;
};

/**
 * Parses and validates one CDEvent from JSON text or bytes, with full type and version information.
 * Throws a `ValidationError` subclass: `PayloadTooLargeError`, `MalformedJsonError`, `NestingTooDeepError`,
 * `NumberOutOfRangeError`, `UnknownEventTypeError`, `UnknownTypeVersionError`, or `ValidationError` itself
 * for schema issues.
 */
export const parseDetailed = (input: string | Uint8Array, options: ParseOptions = {}): ValidatedEvent =>
  validateEvent(
    parseJson(
      decodeText(input, options.maxBytes ?? DEFAULT_MAX_EVENT_BYTES),
      options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH,
    ),
  );

/** Parses and validates one CDEvent; throws a `ValidationError` listing `{ path, message }` issues. */
export const parse = (input: string | Uint8Array, options: ParseOptions = {}): CDEvent =>
  parseDetailed(input, options).event;

/** Like `parse`, but returns `{ ok: false, error }` instead of throwing for invalid input. */
export const safeParse = (input: string | Uint8Array, options: ParseOptions = {}): ParseResult => {
  try {
    return { ok: true, ...parseDetailed(input, options) };
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, error };
    throw error;
  }
};

/** Validates an already-parsed value; throws a `ValidationError`. */
export const validate = (value: unknown): CDEvent => validateEvent(value).event;

/** `true` when the value is a valid CDEvent of a supported type and spec version. */
export const isCDEvent = (value: unknown): value is CDEvent => {
  try {
    validateEvent(value);
    return true;
  } catch (error) {
    if (error instanceof ValidationError) return false;
    throw error;
  }
};
