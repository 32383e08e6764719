import { MalformedJsonError, PayloadTooLargeError, ValidationError } from './errors.js';
import type { CDEvent } from './types.js';
import { type ValidatedEvent, validateEvent } from './validate.js';

/** Default upper bound of one serialized CDEvent: generous for real events, small enough to refuse abuse. */
export const DEFAULT_MAX_EVENT_BYTES = 1_048_576;

export interface ParseOptions {
  /**
   * Largest accepted input in bytes (UTF-8). Larger inputs fail with `PayloadTooLargeError`
   * before any parsing.
   * @default 1048576 (1 MiB, `DEFAULT_MAX_EVENT_BYTES`)
   */
  readonly maxBytes?: number;
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

/** `JSON.parse`, failing with `MalformedJsonError` (a shortened message) instead of a SyntaxError. */
export const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new MalformedJsonError(detail.length > 200 ? `${detail.slice(0, 200)}…` : detail, cause);
  }
};

/**
 * Parses and validates one CDEvent from JSON text or bytes, with full type and version information.
 * Throws a `ValidationError` subclass: `PayloadTooLargeError`, `MalformedJsonError`,
 * `UnknownEventTypeError`, `UnknownTypeVersionError`, or `ValidationError` itself for schema issues.
 */
export const parseDetailed = (input: string | Uint8Array, options: ParseOptions = {}): ValidatedEvent =>
  validateEvent(parseJson(decodeText(input, options.maxBytes ?? DEFAULT_MAX_EVENT_BYTES)));

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
