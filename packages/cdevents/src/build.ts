import { randomUUID } from 'node:crypto';
import { typeString } from './registry.js';
import { CATALOG, DEFAULT_SPEC_VERSION, type EventKey, type SpecVersion } from './spec/catalog.js';
import type {
  CDEvent,
  CustomCDEvent,
  CustomData,
  EmbeddedLink,
  EventsOf,
  SubjectContentOf,
} from './types.js';
import { validateEvent } from './validate.js';

interface ContextInit {
  /** A URI reference naming where the event happened. With `id`, the event's identity. */
  source: string;
  /** @default a random UUIDv4; pass `deterministicId(...)` to make repeats of one occurrence one event */
  id?: string;
  /** When the occurrence happened. @default now */
  timestamp?: string | Date;
  chainId?: string;
  schemaUri?: string;
  links?: EmbeddedLink[];
  customData?: CustomData;
  customDataContentType?: string;
}

/** What `createEvent` needs; required subject fields are required by the type. */
export interface EventInit<K extends EventKey, V extends SpecVersion> extends ContextInit {
  /** `<subject>.<predicate>`, e.g. `service.deployed`. */
  type: K;
  /** @default '0.5.1' */
  specVersion?: V;
  subject: { id: string; source?: string; content: SubjectContentOf<K, V> };
}

export interface CustomEventInit extends ContextInit {
  /** `dev.cdeventsx.<tool>-<subject>.<predicate>.<x>.<y>.<z>` */
  type: `dev.cdeventsx.${string}`;
  /** @default '0.5.1' */
  specVersion?: SpecVersion;
  subject: { id: string; source?: string; content: Record<string, unknown> };
}

const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
};

const timestampOf = (timestamp: string | Date | undefined): string =>
  timestamp === undefined
    ? new Date().toISOString()
    : typeof timestamp === 'string'
      ? timestamp
      : timestamp.toISOString();

const buildContext = (init: ContextInit & { specVersion?: SpecVersion }, type: string) => {
  const specVersion = init.specVersion ?? DEFAULT_SPEC_VERSION;
  const context: Record<string, unknown> = {};
  context[specVersion === '0.4.1' ? 'version' : 'specversion'] = specVersion;
  context.id = init.id ?? randomUUID();
  context.source = init.source;
  context.type = type;
  context.timestamp = timestampOf(init.timestamp);
  if (init.schemaUri !== undefined) context.schemaUri = init.schemaUri;
  if (init.chainId !== undefined) context.chainId = init.chainId;
  if (init.links !== undefined) context.links = structuredClone(init.links);
  return context;
};

const assemble = (
  init: ContextInit,
  context: Record<string, unknown>,
  subject: Record<string, unknown>,
): Record<string, unknown> => {
  const event: Record<string, unknown> = { context, subject };
  if (init.customData !== undefined) event.customData = structuredClone(init.customData);
  if (init.customDataContentType !== undefined) event.customDataContentType = init.customDataContentType;
  return event;
};

/**
 * Builds a CDEvent of a known type, validates it and freezes it. Throws `ValidationError`
 * when a value breaks the schema (a bad URI, an empty id) that the types cannot catch.
 */
export const createEvent = <K extends EventKey, V extends SpecVersion = '0.5.1'>(
  init: EventInit<K, V>,
): Readonly<EventsOf<K, V>> => {
  const specVersion = init.specVersion ?? DEFAULT_SPEC_VERSION;
  const subject: Record<string, unknown> = { id: init.subject.id };
  if (init.subject.source !== undefined) subject.source = init.subject.source;
  if (specVersion === '0.4.1') subject.type = CATALOG[init.type].subjectType;
  subject.content = structuredClone(init.subject.content);
  const event = assemble(init, buildContext(init, typeString(init.type, specVersion)), subject);
  validateEvent(event);
  return deepFreeze(event) as unknown as Readonly<EventsOf<K, V>>;
};

/** Builds a custom (`dev.cdeventsx.`) event, validates it and freezes it. */
export const createCustomEvent = (init: CustomEventInit): Readonly<CustomCDEvent> => {
  const specVersion = init.specVersion ?? DEFAULT_SPEC_VERSION;
  const subject: Record<string, unknown> = { id: init.subject.id };
  if (init.subject.source !== undefined) subject.source = init.subject.source;
  if (specVersion === '0.4.1') {
    // v0.4.1 requires subject.type = `<tool>-<subject>`, the second token of the type.
    subject.type = init.type.split('.')[2];
  }
  subject.content = structuredClone(init.subject.content);
  const event = assemble(init, buildContext(init, init.type), subject);
  validateEvent(event);
  return deepFreeze(event) as unknown as Readonly<CustomCDEvent>;
};

const CONTEXT_ORDER = [
  'specversion',
  'version',
  'id',
  'source',
  'type',
  'timestamp',
  'schemaUri',
  'chainId',
  'links',
];
const SUBJECT_ORDER = ['id', 'source', 'type', 'content'];
const EVENT_ORDER = ['context', 'subject', 'customData', 'customDataContentType'];

const ordered = (value: Record<string, unknown>, order: readonly string[]): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const key of order) if (value[key] !== undefined) out[key] = value[key];
  for (const key of Object.keys(value)) if (!(key in out) && value[key] !== undefined) out[key] = value[key];
  return out;
};

/**
 * The canonical JSON of an event: keys of `context` and `subject` in spec order, everything else
 * as given. The same event always serializes to the same bytes.
 */
export const serialize = (event: CDEvent): string => {
  const e = event as unknown as Record<string, Record<string, unknown>>;
  const canonical = ordered(
    {
      ...e,
      context: ordered(e.context ?? {}, CONTEXT_ORDER),
      subject: ordered(e.subject ?? {}, SUBJECT_ORDER),
    },
    EVENT_ORDER,
  );
  return JSON.stringify(canonical);
};
