import { type CDEvent, natsMessageId } from '@argus/cdevents';

/** Where an event came from and what the hub knows about its cluster: never read from the payload. */
export interface EventTags {
  readonly instance: string;
  readonly cluster: string;
  /** The cluster's environment from the registry; empty falls back to the event's own environment id. */
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

const contentEnvironment = (content: unknown): string => {
  if (typeof content !== 'object' || content === null) return '';
  const env = (content as Record<string, unknown>).environment;
  return typeof env === 'object' && env !== null ? contentString(env, 'id') : '';
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

export interface RowInput {
  readonly event: CDEvent;
  /** `subject` / `predicate` tokens of the type (custom types: `<tool>-<subject>`). */
  readonly subjectType: string;
  readonly predicate: string;
  readonly specVersion: string;
  /** The bytes exactly as received, kept lossless in `raw`. */
  readonly raw: string;
  readonly tags: EventTags;
  readonly receivedAt: Date;
}

/** Maps a validated event and its tags to a table row. Pure. */
export const toEventRow = (input: RowInput): EventRow => {
  const { event, tags } = input;
  const content: unknown = event.subject.content;
  return {
    identity: natsMessageId(event.context.source, event.context.id),
    id: event.context.id,
    source: event.context.source,
    type: event.context.type,
    spec_version: input.specVersion,
    subject_type: input.subjectType,
    predicate: input.predicate,
    subject_id: event.subject.id,
    subject_source: event.subject.source ?? '',
    timestamp: event.context.timestamp,
    chain_id: event.context.chainId ?? '',
    links: event.context.links === undefined ? '' : JSON.stringify(event.context.links),
    linked_ids: linkedIds(event.context.links),
    instance: tags.instance,
    cluster: tags.cluster,
    environment: tags.environment !== '' ? tags.environment : contentEnvironment(content),
    artifact_id: contentString(content, 'artifactId'),
    labels: tags.labels,
    received_at: input.receivedAt.toISOString(),
    raw: input.raw,
  };
};
