import { toToken, UNIFIED_STREAM, unifiedFilter, unifiedSubjectTypes, unifiedTags } from '@argus/bus';
import { fromNats } from '@argus/cdevents';
import type { Event } from '@argus/query-api';
import type { EventFilter } from '@argus/store';
import { DeliverPolicy, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';

/**
 * How long the server keeps a tail consumer whose client vanished (a crashed hub).
 * @nats-io/jetstream v3 takes milliseconds here and converts to nanoseconds itself:
 * 30_000_000_000 passed as "ns" became 347 days (adversarial review 2, finding 14).
 */
export const TAIL_INACTIVE_THRESHOLD_MS = 30_000;

/** The narrowest unified-stream subject that covers a filter; the rest is checked per message. */
export const tailSubject = (filter: EventFilter): string => {
  const [, , typeSubject, typePredicate] = filter.type?.split('.') ?? [];
  const token = (value: string | undefined): string | undefined =>
    value === undefined ? undefined : toToken(value);
  return unifiedFilter({
    cluster: filter.cluster,
    subjectType: token(filter.subjectType ?? typeSubject),
    predicate: token(filter.predicate ?? typePredicate),
  });
};

/** The API event of a unified-stream message; undefined when the message is not a readable event. */
export const eventOfUnified = (msg: Pick<JsMsg, 'subject' | 'headers' | 'data'>): Event | undefined => {
  let validated: ReturnType<typeof fromNats>;
  try {
    validated = fromNats({ headers: msg.headers, data: msg.data });
  } catch {
    return undefined;
  }
  const { event } = validated;
  const tags = unifiedTags(msg.headers);
  const { subjectType, predicate } = unifiedSubjectTypes(msg.subject) ?? { subjectType: '', predicate: '' };
  const content = event.subject.content as { artifactId?: unknown } | undefined;
  return {
    id: event.context.id,
    source: event.context.source,
    type: event.context.type,
    specVersion: tags.specVersion || validated.specVersion,
    subjectType,
    predicate,
    subjectId: event.subject.id,
    timestamp: new Date(event.context.timestamp),
    instance: tags.instance,
    cluster: tags.cluster,
    environment: tags.environment,
    chainId: event.context.chainId ?? '',
    artifactId: typeof content?.artifactId === 'string' ? content.artifactId : '',
    labels: { ...tags.labels },
    identity: tags.identity,
    cdeventJson: new TextDecoder().decode(msg.data),
  };
};

/** Whether an event passes the filters the subject could not express. */
export const matchesFilter = (event: Event, filter: EventFilter): boolean =>
  (filter.instance === undefined || event.instance === filter.instance) &&
  (filter.environment === undefined || event.environment === filter.environment) &&
  (filter.cluster === undefined || event.cluster === filter.cluster) &&
  (filter.type === undefined || event.type === filter.type) &&
  (filter.subjectId === undefined || event.subjectId === filter.subjectId) &&
  (filter.chainId === undefined || event.chainId === filter.chainId) &&
  (filter.until === undefined || (event.timestamp?.getTime() ?? 0) < filter.until.getTime());

export interface TailHandle {
  /** Stops the consumer; the loop ends. */
  stop(): void;
  /** Resolves when the loop has ended (stopped, or the connection closed). */
  readonly done: Promise<void>;
}

/**
 * Follows the unified stream with an ordered consumer (ephemeral, flow-controlled, resumes itself
 * after reconnects) from `filter.since` or from now, and hands each matching event to `onEvent`.
 * With `filter.since`, it starts at that time of storage: events stored earlier are not replayed.
 * When `onEvent` returns a promise (a slow client's buffer is full), no further message is taken
 * until it settles, so a replay of a month never piles up in the hub's memory.
 */
export const tailUnified = async (
  js: JetStreamClient,
  filter: EventFilter,
  onEvent: (event: Event, sequence: number) => void | Promise<void>,
): Promise<TailHandle> => {
  const consumer = await js.consumers.get(UNIFIED_STREAM, {
    filter_subjects: tailSubject(filter),
    inactive_threshold: TAIL_INACTIVE_THRESHOLD_MS,
    ...(filter.since === undefined
      ? { deliver_policy: DeliverPolicy.New }
      : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: filter.since.toISOString() }),
  });
  const messages = await consumer.consume();
  const done = (async () => {
    for await (const msg of messages) {
      const event = eventOfUnified(msg);
      if (event === undefined || !matchesFilter(event, filter)) continue;
      const slow = onEvent(event, msg.seq);
      if (slow !== undefined) await slow;
    }
  })();
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    messages.stop();
    // Remove the ephemeral consumer now rather than when the server notices it idle.
    void consumer.delete().catch(() => undefined);
  };
  return { stop, done };
};
