import {
  type CDEvent,
  EARLIEST_EVENT_TIME_MS,
  epochMillis,
  eventIdentity,
  LATEST_EVENT_TIME_MS,
} from '@argus/cdevents';

export { epochMillis };

/** Where an event came from and what the hub knows about its cluster: never read from the payload. */
export interface EventTags {
  readonly instance: string;
  readonly cluster: string;
  /**
   * The cluster's environment from the registry, else empty: never the event's own environment id,
   * which any producer may write (adversarial review 2, finding 7); that stays in the payload.
   */
  readonly environment: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** One row of the `cdevents` table, as inserted (JSONEachRow). */
export interface EventRow {
  readonly identity: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly spec_version: string;
  readonly subject_type: string;
  readonly predicate: string;
  readonly subject_id: string;
  readonly subject_source: string;
  readonly timestamp: string;
  readonly chain_id: string;
  readonly links: string;
  readonly linked_ids: readonly string[];
  readonly instance: string;
  readonly cluster: string;
  readonly environment: string;
  readonly artifact_id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly received_at: string;
  readonly raw: string;
}

const contentString = (content: unknown, key: string): string => {
  if (typeof content !== 'object' || content === null) return '';
  const value = (content as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : '';
};

const linkedIds = (links: unknown): string[] => {
  if (!Array.isArray(links)) return [];
  const ids: string[] = [];
  for (const link of links) {
    if (typeof link !== 'object' || link === null) continue;
    for (const key of ['target', 'from'] as const) {
      const ref = (link as Record<string, unknown>)[key];
      const id =
        typeof ref === 'object' && ref !== null ? (ref as Record<string, unknown>).contextId : undefined;
      if (typeof id === 'string' && id !== '') ids.push(id);
    }
  }
  return ids;
};

/** DateTime64 covers 1900-01-01 to 2299-12-31 (UTC); a timestamp outside cannot be stored. */
export const MIN_STORABLE_TIME = EARLIEST_EVENT_TIME_MS;
export const MAX_STORABLE_TIME = LATEST_EVENT_TIME_MS;

/** `true` when ClickHouse can store this timestamp. */
export const isStorableTime = (rfc3339: string): boolean => {
  const ms = epochMillis(rfc3339);
  return ms >= MIN_STORABLE_TIME && ms <= MAX_STORABLE_TIME;
};

/** `YYYY-MM-DD hh:mm:ss.sss` in UTC: the DateTime64(3) text ClickHouse parses without best-effort guessing. */
export const toClickHouseTime = (rfc3339: string): string => {
  // Fast path for the common UTC form with up to millisecond precision: the text already says it.
  // Days past the 28th and leap seconds take the slow path, which normalises them as Date does.
  const utc = UTC_MILLIS.exec(rfc3339);
  if (
    utc !== null &&
    (utc[2] ?? '').length <= 3 &&
    utc[1]!.slice(8, 10) <= '28' &&
    utc[1]!.slice(17, 19) !== '60'
  ) {
    return `${utc[1]!.slice(0, 10)} ${utc[1]!.slice(11)}.${(utc[2] ?? '').padEnd(3, '0')}`;
  }
  const iso = new Date(epochMillis(rfc3339)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
};

const UTC_MILLIS =
  /^(\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-6]\d)(?:\.(\d+))?Z$/;

let lastReceived = { ms: Number.NaN, text: '' };
/** Every row of a batch shares one receive time: formatted once. */
const receivedTime = (date: Date): string => {
  const ms = date.getTime();
  if (ms !== lastReceived.ms) lastReceived = { ms, text: toClickHouseTime(date.toISOString()) };
  return lastReceived.text;
};

export interface RowInput {
  readonly event: CDEvent;
  /** The event identity when the caller has it already (`eventIdentity(source, id)`). */
  readonly identity?: string;
  /** `subject` / `predicate` tokens of the type (custom types: `<tool>-<subject>`). */
  readonly subjectType: string;
  readonly predicate: string;
  readonly specVersion: string;
  /** The bytes exactly as received, kept lossless in `raw`. */
  readonly raw: string;
  readonly tags: EventTags;
  readonly receivedAt: Date;
}

/** Column order of inserts (JSONCompactEachRow: arrays instead of objects, half the bytes to parse). */
export const EVENT_COLUMNS = [
  'identity',
  'id',
  'source',
  'type',
  'spec_version',
  'subject_type',
  'predicate',
  'subject_id',
  'subject_source',
  'timestamp',
  'chain_id',
  'links',
  'linked_ids',
  'instance',
  'cluster',
  'environment',
  'artifact_id',
  'labels',
  'received_at',
  'raw',
] as const satisfies readonly (keyof EventRow)[];

/** Maps a validated event and its tags to a table row. Pure. */
export const toEventRow = (input: RowInput): EventRow => {
  const { event, tags } = input;
  const content: unknown = event.subject.content;
  return {
    identity: input.identity ?? eventIdentity(event.context.source, event.context.id),
    id: event.context.id,
    source: event.context.source,
    type: event.context.type,
    spec_version: input.specVersion,
    subject_type: input.subjectType,
    predicate: input.predicate,
    subject_id: event.subject.id,
    subject_source: event.subject.source ?? '',
    timestamp: toClickHouseTime(event.context.timestamp),
    chain_id: event.context.chainId ?? '',
    links: event.context.links === undefined ? '' : JSON.stringify(event.context.links),
    linked_ids: linkedIds(event.context.links),
    instance: tags.instance,
    cluster: tags.cluster,
    environment: tags.environment,
    artifact_id: contentString(content, 'artifactId'),
    labels: tags.labels,
    received_at: receivedTime(input.receivedAt),
    raw: input.raw,
  };
};
