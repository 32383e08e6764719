import type { SchemaNode } from './nodes.js';

/** A JSON Schema (draft 2020-12) document or subschema. */
export type JsonSchema = { readonly [key: string]: unknown };

const contextRef = (isRequired: boolean): JsonSchema => ({
  type: 'object',
  properties: { contextId: { type: 'string', minLength: 1 } },
  ...(isRequired ? { required: ['contextId'] } : {}),
});

const tags: JsonSchema = { type: 'object', additionalProperties: true };

const link = (linkType: string, properties: Record<string, JsonSchema>, required: string[]): JsonSchema => ({
  type: 'object',
  properties: { linkType: { type: 'string', enum: [linkType] }, ...properties, tags },
  additionalProperties: false,
  required: ['linkType', ...required],
});

/** `links/embeddedlinksarray`, inlined so each rendered schema stands alone. */
export const EMBEDDED_LINKS_SCHEMA: JsonSchema = {
  type: 'array',
  items: {
    anyOf: [
      link('END', { from: contextRef(true) }, []),
      link('PATH', { from: contextRef(true) }, ['from']),
      link('RELATION', { linkKind: { type: 'string', minLength: 1 }, target: contextRef(false) }, [
        'linkKind',
        'target',
      ]),
    ],
  },
};

/** Renders a schema node as JSON Schema 2020-12, for tools that want the schema rather than our validator. */
export const toJsonSchema = (node: SchemaNode): JsonSchema => {
  switch (node.kind) {
    case 'string': {
      if (node.suggested !== undefined) {
        const open =
          node.minLength === undefined ? { type: 'string' } : { type: 'string', minLength: node.minLength };
        return { anyOf: [{ type: 'string', enum: [...node.suggested] }, open] };
      }
      const schema: Record<string, unknown> = { type: 'string' };
      if (node.minLength !== undefined) schema.minLength = node.minLength;
      if (node.format !== undefined) schema.format = node.format;
      if (node.enum !== undefined) schema.enum = [...node.enum];
      if (node.pattern !== undefined) schema.pattern = node.pattern;
      return schema;
    }
    case 'object': {
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const [key, property] of Object.entries(node.properties)) {
        properties[key] = toJsonSchema(property.node);
        if (property.required) required.push(key);
      }
      const schema: Record<string, unknown> = { type: 'object', properties };
      if (!node.additionalProperties) schema.additionalProperties = false;
      if (required.length > 0) schema.required = required;
      return schema;
    }
    case 'array':
      return { type: 'array', items: toJsonSchema(node.items) };
    case 'any-object':
      return { type: 'object', additionalProperties: true };
    case 'custom-data':
      return { oneOf: [{ type: 'object' }, { type: 'string', contentEncoding: 'base64' }] };
    case 'links':
      return EMBEDDED_LINKS_SCHEMA;
  }
};
