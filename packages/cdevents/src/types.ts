import type { EmbeddedLink, Infer } from './schema/nodes.js';
import type { Catalog, EventKey, SpecVersion } from './spec/catalog.js';

export type {
  EmbeddedLink,
  EmbeddedLinkEnd,
  EmbeddedLinkPath,
  EmbeddedLinkRelation,
} from './schema/nodes.js';

/** The type version of `K` in spec `V`, e.g. `'0.3.0'`. */
export type TypeVersionOf<
  K extends EventKey,
  V extends SpecVersion,
> = Catalog[K]['versions'][V]['typeVersion'];

/** The full type string, e.g. `'dev.cdevents.service.deployed.0.3.0'`. */
export type EventTypeOf<
  K extends EventKey,
  V extends SpecVersion,
> = `dev.cdevents.${K}.${TypeVersionOf<K, V>}`;

/** `subject.content` of `K` in spec `V`. */
export type SubjectContentOf<K extends EventKey, V extends SpecVersion> = Infer<
  Catalog[K]['versions'][V]['content']
>;

/** `subject.type` of `K` as v0.4.1 requires it (`'pipelineRun'`). */
export type SubjectTypeOf<K extends EventKey> = Catalog[K]['subjectType'];

/** `customData`: any JSON object, or a base64 string described by `customDataContentType`. */
export type CustomData = Record<string, unknown> | string;

interface ContextCommon<T extends string> {
  id: string;
  /** A URI reference naming where the event happened. With `id`, the event's identity. */
  source: string;
  type: T;
  /** RFC 3339 time of the occurrence. */
  timestamp: string;
  schemaUri?: string;
  chainId?: string;
  links?: EmbeddedLink[];
}

/** v0.5.x names the spec version `specversion`. */
export interface ContextV05<T extends string = string> extends ContextCommon<T> {
  specversion: string;
}

/** v0.4.x names the spec version `version`. */
export interface ContextV04<T extends string = string> extends ContextCommon<T> {
  version: string;
}

export type ContextOf<V extends SpecVersion, T extends string> = V extends '0.4.1'
  ? ContextV04<T>
  : ContextV05<T>;

interface SubjectCommon<C> {
  id: string;
  source?: string;
  content: C;
}

export type SubjectOf<K extends EventKey, V extends SpecVersion> = V extends '0.4.1'
  ? SubjectCommon<SubjectContentOf<K, V>> & { type: SubjectTypeOf<K> }
  : SubjectCommon<SubjectContentOf<K, V>>;

/** One CDEvent of type `K` in spec version `V`. */
export interface CDEventOf<K extends EventKey, V extends SpecVersion = '0.5.1'> {
  context: ContextOf<V, EventTypeOf<K, V>>;
  subject: SubjectOf<K, V>;
  customData?: CustomData;
  customDataContentType?: string;
}

/**
 * `CDEventOf` spread over a union of types: `EventsOf<'service.deployed' | 'service.upgraded'>` is
 * a union of the two events (so it narrows on `context.type` and is a `CDEvent`), not one event
 * whose type is either.
 */
export type EventsOf<K extends EventKey, V extends SpecVersion = '0.5.1'> = K extends EventKey
  ? V extends SpecVersion
    ? CDEventOf<K, V>
    : never
  : never;

/** A custom event (`dev.cdeventsx.<tool>-<subject>.<predicate>.<version>`), open content. */
export interface CustomCDEvent {
  context: (ContextV05<`dev.cdeventsx.${string}`> | ContextV04<`dev.cdeventsx.${string}`>) & {
    type: `dev.cdeventsx.${string}`;
  };
  subject: SubjectCommon<Record<string, unknown>> & { type?: string };
  customData?: CustomData;
  customDataContentType?: string;
}

/** Every known CDEvent, in every supported spec version: a union keyed on `context.type`. */
export type KnownCDEvent = {
  [K in EventKey]: { [V in SpecVersion]: CDEventOf<K, V> }[SpecVersion];
}[EventKey];

/** Any CDEvent this package accepts. Narrow on `event.context.type`. */
export type CDEvent = KnownCDEvent | CustomCDEvent;

/** Every known type string as a union. */
export type KnownEventType = KnownCDEvent['context']['type'];
