import { FORMAT_CHECKS, FORMAT_DESCRIPTIONS } from './formats.js';
import type { ObjectNode, SchemaNode, StringNode } from './nodes.js';

/** One thing wrong with a value: where (`context.links[0].linkType`) and what. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** Stops collecting after this many issues: a hostile payload must not cost unbounded work. */
export const MAX_ISSUES = 50;

/** The current location inside the value, as a stack, turned into text only when an issue is found. */
export class PathStack {
  readonly #segments: (string | number)[] = [];
  readonly issues: ValidationIssue[] = [];

  push(segment: string | number): void {
    this.#segments.push(segment);
  }

  pop(): void {
    this.#segments.pop();
  }

  get full(): boolean {
    return this.issues.length >= MAX_ISSUES;
  }

  report(message: string, extra?: string | number): void {
    if (this.full) return;
    let path = '';
    const all = extra === undefined ? this.#segments : [...this.#segments, extra];
    for (const s of all) path += typeof s === 'number' ? `[${s}]` : path === '' ? s : `.${s}`;
    this.issues.push({ path: path === '' ? '(root)' : path, message });
  }
}

export type Validator = (value: unknown, at: PathStack) => void;

const MAX_SHOWN_VALUE = 80;

/** Quotes an offending value for a message, shortened so a huge payload cannot flood a log line. */
export const show = (value: unknown): string => {
  const text = typeof value === 'string' ? JSON.stringify(value) : describeType(value);
  return text.length > MAX_SHOWN_VALUE ? `${text.slice(0, MAX_SHOWN_VALUE)}…` : text;
};

export const describeType = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  return `${typeof value} ${String(value)}`;
};

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const compileString = (node: StringNode): Validator => {
  const { minLength = 0, format, pattern } = node;
  const allowed = node.enum === undefined ? undefined : new Set<string>(node.enum);
  const formatCheck = format === undefined ? undefined : FORMAT_CHECKS[format];
  const regex = pattern === undefined ? undefined : new RegExp(pattern, 'u');
  return (value, at) => {
    if (typeof value !== 'string') {
      at.report(`must be a string, got ${describeType(value)}`);
      return;
    }
    if (value.length < minLength) {
      at.report(minLength === 1 ? 'must not be empty' : `must have at least ${minLength} characters`);
      return;
    }
    if (allowed !== undefined && !allowed.has(value)) {
      at.report(`must be one of ${[...allowed].join(', ')}; got ${show(value)}`);
      return;
    }
    if (formatCheck !== undefined && format !== undefined && !formatCheck(value)) {
      at.report(`must be ${FORMAT_DESCRIPTIONS[format]}; got ${show(value)}`);
      return;
    }
    if (regex !== undefined && !regex.test(value)) at.report(`must match /${pattern}/; got ${show(value)}`);
  };
};

const compileObject = (node: ObjectNode): Validator => {
  const entries = Object.entries(node.properties).map(
    ([key, property]) => [key, property.required, compile(property.node)] as const,
  );
  const known = new Set(Object.keys(node.properties));
  const closed = !node.additionalProperties;
  const knownList = [...known].join(', ');
  return (value, at) => {
    if (!isPlainObject(value)) {
      at.report(`must be an object, got ${describeType(value)}`);
      return;
    }
    for (const [key, isRequired, validate] of entries) {
      const child = value[key];
      if (child === undefined) {
        if (isRequired && !Object.hasOwn(value, key)) at.report('is required', key);
        else if (Object.hasOwn(value, key)) at.report('must not be undefined', key);
        continue;
      }
      at.push(key);
      validate(child, at);
      at.pop();
      if (at.full) return;
    }
    if (closed) {
      for (const key in value) {
        if (!known.has(key)) {
          at.report(
            known.size === 0 ? 'is not allowed here' : `is not allowed here (allowed: ${knownList})`,
            key,
          );
        }
      }
    }
  };
};

const LINK_TYPES = ['END', 'PATH', 'RELATION'] as const;

const contextRef = (isRequired: boolean) =>
  ({
    kind: 'object',
    properties: { contextId: { node: { kind: 'string', minLength: 1 }, required: isRequired } },
    additionalProperties: true,
  }) as const satisfies ObjectNode;

const tags = { kind: 'any-object' } as const;

/** The three embedded link shapes of `links/embeddedlinksarray`, chosen by `linkType`. */
const linkNodes = (): Record<(typeof LINK_TYPES)[number], ObjectNode> => ({
  END: {
    kind: 'object',
    additionalProperties: false,
    properties: {
      linkType: { node: { kind: 'string', enum: ['END'] }, required: true },
      from: { node: contextRef(true), required: false },
      tags: { node: tags, required: false },
    },
  },
  PATH: {
    kind: 'object',
    additionalProperties: false,
    properties: {
      linkType: { node: { kind: 'string', enum: ['PATH'] }, required: true },
      from: { node: contextRef(true), required: true },
      tags: { node: tags, required: false },
    },
  },
  RELATION: {
    kind: 'object',
    additionalProperties: false,
    properties: {
      linkType: { node: { kind: 'string', enum: ['RELATION'] }, required: true },
      linkKind: { node: { kind: 'string', minLength: 1 }, required: true },
      target: { node: contextRef(false), required: true },
      tags: { node: tags, required: false },
    },
  },
});

let linkValidators: Record<(typeof LINK_TYPES)[number], Validator> | undefined;

const validateLinks: Validator = (value, at) => {
  if (!Array.isArray(value)) {
    at.report(`must be an array of links, got ${describeType(value)}`);
    return;
  }
  for (let i = 0; i < value.length && !at.full; i++) {
    const link: unknown = value[i];
    at.push(i);
    const linkType = isPlainObject(link) ? link.linkType : undefined;
    if (!isPlainObject(link)) at.report(`must be a link object, got ${describeType(link)}`);
    else if (typeof linkType === 'string' && (LINK_TYPES as readonly string[]).includes(linkType)) {
      linkValidators ??= {
        END: compileObject(linkNodes().END),
        PATH: compileObject(linkNodes().PATH),
        RELATION: compileObject(linkNodes().RELATION),
      };
      linkValidators[linkType as (typeof LINK_TYPES)[number]](link, at);
    } else {
      at.report(`must be one of ${LINK_TYPES.join(', ')}; got ${show(linkType)}`, 'linkType');
    }
    at.pop();
  }
};

const validateCustomData: Validator = (value, at) => {
  // The spec's `contentEncoding: base64` is an annotation in JSON Schema 2020-12, not an assertion:
  // like the official schemas, any string is accepted.
  if (isPlainObject(value) || typeof value === 'string') return;
  at.report(`must be an object or a (base64) string, got ${describeType(value)}`);
};

const validateAnyObject: Validator = (value, at) => {
  if (!isPlainObject(value)) at.report(`must be an object, got ${describeType(value)}`);
};

/** Compiles a node into a validator. Compile once, at load or first use; never per event. */
export function compile(node: SchemaNode): Validator {
  switch (node.kind) {
    case 'string':
      return compileString(node);
    case 'object':
      return compileObject(node);
    case 'array': {
      const item = compile(node.items);
      return (value, at) => {
        if (!Array.isArray(value)) {
          at.report(`must be an array, got ${describeType(value)}`);
          return;
        }
        for (let i = 0; i < value.length && !at.full; i++) {
          at.push(i);
          item(value[i], at);
          at.pop();
        }
      };
    }
    case 'any-object':
      return validateAnyObject;
    case 'custom-data':
      return validateCustomData;
    case 'links':
      return validateLinks;
  }
}
