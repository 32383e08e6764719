/**
 * A small schema language: each node describes one JSON value, carries its TypeScript type for
 * inference, and is compiled once into a validator (see compile.ts) or rendered as JSON Schema
 * (see json-schema.ts). It covers exactly what the CDEvents schemas use, nothing more.
 */

export type StringFormat = 'uri' | 'uri-reference' | 'date-time';

export interface StringNode<T extends string = string> {
  readonly kind: 'string';
  readonly minLength?: number;
  readonly format?: StringFormat;
  /** Closed set of values; absent means any string. */
  readonly enum?: readonly T[];
  /** Values suggested by the spec (an `anyOf` of an enum and a plain string): documented, not enforced. */
  readonly suggested?: readonly string[];
  /** Optional `pattern` (regular expression source). */
  readonly pattern?: string;
  readonly description?: string;
  /** Phantom field for inference only. */
  readonly _type?: T;
}

export interface ArrayNode<T = unknown> {
  readonly kind: 'array';
  readonly items: SchemaNode;
  readonly _type?: T;
}

export interface Property<N extends SchemaNode = SchemaNode, R extends boolean = boolean> {
  readonly node: N;
  readonly required: R;
}

export type Properties = Readonly<Record<string, Property>>;

export interface ObjectNode<P extends Properties = Properties> {
  readonly kind: 'object';
  readonly properties: P;
  /** `true` lets unknown keys through (the spec leaves a few objects open). */
  readonly additionalProperties: boolean;
}

/** Any JSON object, open, with no declared properties (`customData`, custom event content). */
export interface AnyObjectNode {
  readonly kind: 'any-object';
  readonly _type?: Record<string, unknown>;
}

/** `customData`: an object, or a base64 string. */
export interface CustomDataNode {
  readonly kind: 'custom-data';
  readonly _type?: Record<string, unknown> | string;
}

/** An array of embedded links (`links/embeddedlinksarray`). */
export interface LinksNode {
  readonly kind: 'links';
  readonly _type?: EmbeddedLink[];
}

export type SchemaNode = StringNode | ArrayNode | ObjectNode | AnyObjectNode | CustomDataNode | LinksNode;

export interface LinkContextRef {
  contextId: string;
  [key: string]: unknown;
}

export interface EmbeddedLinkEnd {
  linkType: 'END';
  from?: LinkContextRef;
  tags?: Record<string, unknown>;
}
export interface EmbeddedLinkPath {
  linkType: 'PATH';
  from: LinkContextRef;
  tags?: Record<string, unknown>;
}
export interface EmbeddedLinkRelation {
  linkType: 'RELATION';
  linkKind: string;
  target: Partial<LinkContextRef>;
  tags?: Record<string, unknown>;
}
/** A link embedded in `context.links` (CDEvents links spec). */
export type EmbeddedLink = EmbeddedLinkEnd | EmbeddedLinkPath | EmbeddedLinkRelation;

// ---------------------------------------------------------------------------------------------
// Inference

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type RequiredKeys<P extends Properties> = {
  [K in keyof P]: P[K]['required'] extends true ? K : never;
}[keyof P];
type OptionalKeys<P extends Properties> = Exclude<keyof P, RequiredKeys<P>>;

export type InferObject<P extends Properties> = Simplify<
  { -readonly [K in RequiredKeys<P>]: Infer<P[K]['node']> } & {
    -readonly [K in OptionalKeys<P>]?: Infer<P[K]['node']>;
  }
>;

/** The TypeScript type of the JSON values a node accepts. */
export type Infer<N> =
  N extends StringNode<infer T>
    ? T
    : N extends ArrayNode<infer T>
      ? T
      : N extends ObjectNode<infer P>
        ? InferObject<P>
        : N extends { readonly _type?: infer T }
          ? T
          : never;

// ---------------------------------------------------------------------------------------------
// Builders

interface StringOptions {
  minLength?: number;
  format?: StringFormat;
  pattern?: string;
  description?: string;
}

export const str = (options: StringOptions = {}): StringNode<string> => ({ kind: 'string', ...options });

/** A non-empty string, the spec's most common field shape. */
export const nonEmpty = (): StringNode<string> => str({ minLength: 1 });

export const uri = (options: Omit<StringOptions, 'format'> = {}): StringNode<string> =>
  str({ ...options, format: 'uri' });

export const uriRef = (options: Omit<StringOptions, 'format'> = {}): StringNode<string> =>
  str({ ...options, format: 'uri-reference' });

export const oneOf = <const T extends string>(values: readonly T[], minLength?: number): StringNode<T> =>
  minLength === undefined ? { kind: 'string', enum: values } : { kind: 'string', enum: values, minLength };

/**
 * An enum the spec leaves open (`anyOf: [{enum}, {type: string}]`): the values are suggestions,
 * any string is valid. The type keeps autocompletion for the suggested values.
 */
export const suggested = <const T extends string>(
  values: readonly T[],
  minLength?: number,
): StringNode<T | (string & {})> =>
  minLength === undefined
    ? { kind: 'string', suggested: values }
    : { kind: 'string', suggested: values, minLength };

export const array = <N extends SchemaNode>(items: N): ArrayNode<Infer<N>[]> => ({ kind: 'array', items });

export const required = <N extends SchemaNode>(node: N): Property<N, true> => ({ node, required: true });
export const optional = <N extends SchemaNode>(node: N): Property<N, false> => ({ node, required: false });

/** A closed object (`additionalProperties: false`), as almost every CDEvents object is. */
export const object = <const P extends Properties>(properties: P): ObjectNode<P> => ({
  kind: 'object',
  properties,
  additionalProperties: false,
});

/** An object that tolerates unknown keys. */
export const openObject = <const P extends Properties>(properties: P): ObjectNode<P> => ({
  kind: 'object',
  properties,
  additionalProperties: true,
});

export const anyObject = (): AnyObjectNode => ({ kind: 'any-object' });
export const customData = (): CustomDataNode => ({ kind: 'custom-data' });
export const links = (): LinksNode => ({ kind: 'links' });
