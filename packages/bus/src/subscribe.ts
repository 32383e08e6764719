import { BindingError, type CDEvent, fromNats, ValidationError } from '@argus/cdevents';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import { BusError, InvalidTokenError } from './errors.js';
import { HEADERS } from './headers.js';
import { jetStreamManagerOf } from './jetstream.js';
import { UNIFIED_STREAM } from './streams.js';
import { clusterToken, isToken, UNIFIED_SUBJECT_PREFIX } from './subjects.js';

/** One event of the unified stream with the hub's tags. */
export interface UnifiedEvent extends UnifiedTags {
  readonly event: CDEvent;
  readonly subject: string;
  readonly streamSequence: number;
  /** JetStream redelivered it (the handler failed or timed out before): handle idempotently. */
  readonly redelivered: boolean;
}

/** Which part of the unified stream a consumer wants; omitted tokens match everything. */
export interface UnifiedSelector {
  readonly cluster?: string | undefined;
  readonly subjectType?: string | undefined;
  readonly predicate?: string | undefined;
}

export interface SubscribeOptions extends UnifiedSelector {
  /** Durable consumer name: a restarted consumer resumes after its last acknowledged event. */
  readonly durable: string;
  /** Called once per event; resolve to acknowledge, throw to have it redelivered after `retryDelayMs`. */
  readonly handler: (event: UnifiedEvent) => Promise<void> | void;
  /** A new durable starts with events stored from now (`new`, default) or the whole stream (`all`). */
  readonly start?: 'new' | 'all';
  /** @default 5000 */
  readonly retryDelayMs?: number;
  /** Called with messages that are not CDEvents (they are terminated, not retried). */
  readonly onInvalid?: (subject: string, error: Error) => void;
  /**
   * Called when the handler throws, with the message's subject and stream sequence; the message is
   * nak'd and comes back after `retryDelayMs`. Without it the failure is a process warning
   * (`process.emitWarning`), never silent.
   */
  readonly onError?: (error: HandlerFailedError) => void;
}

/** A `subscribeUnified` handler threw: the event is redelivered after `retryInMs`. */
export class HandlerFailedError extends BusError {
  override name = 'HandlerFailedError';
  readonly durable: string;
  readonly subject: string;
  readonly streamSequence: number;
  /** How many times JetStream has delivered it, this time included. */
  readonly deliveries: number;
  readonly retryInMs: number;
  constructor(
    where: { durable: string; subject: string; streamSequence: number; deliveries: number },
    retryInMs: number,
    cause: unknown,
  ) {
    super(
      `the handler of durable ${where.durable} failed on ${where.subject} (stream sequence ${where.streamSequence}, delivery ${where.deliveries}): ${cause instanceof Error ? cause.message : String(cause)}; it is redelivered in ${retryInMs} ms`,
      { cause },
    );
    this.durable = where.durable;
    this.subject = where.subject;
    this.streamSequence = where.streamSequence;
    this.deliveries = where.deliveries;
    this.retryInMs = retryInMs;
  }
}

export interface UnifiedSubscription {
  readonly durable: string;
  readonly filterSubject: string;
  stop(): Promise<void>;
  /** Resolves when the consume loop has ended. */
  readonly closed: Promise<void>;
}

/** `cdevents.unified.<cluster|*>.<subject|*>.<predicate|*>` for a selector. */
export const unifiedFilter = (selector: UnifiedSelector): string =>
  [
    UNIFIED_SUBJECT_PREFIX,
    selector.cluster === undefined ? '*' : clusterToken(selector.cluster),
    selector.subjectType ?? '*',
    selector.predicate ?? '*',
  ].join('.');

/** The hub's tags of a unified-stream message, read from its headers. */
export interface UnifiedTags {
  /** The instance that published it, as the hub established it (never from the payload). */
  readonly instance: string;
  readonly cluster: string;
  readonly environment: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Empty when the header is missing. */
  readonly specVersion: string;
  /** Event identity (digest of source and id); the same on every redelivery. */
  readonly identity: string;
}

/** Reads the tags the hub put on a unified-stream message (a damaged labels header leaves labels empty). */
export const unifiedTags = (headers: MsgHdrs | undefined): UnifiedTags => {
  const h = (name: string): string => headers?.get(name) ?? '';
  let labels: Record<string, string> = {};
  try {
    const parsed: unknown = JSON.parse(h(HEADERS.labels) || '{}');
    if (typeof parsed === 'object' && parsed !== null) labels = parsed as Record<string, string>;
  } catch {
    // labels are informative; a damaged header leaves them empty
  }
  return {
    instance: h(HEADERS.instance),
    cluster: h(HEADERS.cluster),
    environment: h(HEADERS.environment),
    labels,
    specVersion: h(HEADERS.specVersion),
    identity: h(HEADERS.msgId),
  };
};

const tagsOf = (msg: JsMsg): Omit<UnifiedEvent, 'event'> => ({
  ...unifiedTags(msg.headers),
  subject: msg.subject,
  streamSequence: msg.seq,
  redelivered: msg.redelivered,
});

/**
 * Consumes the unified stream through a durable pull consumer: typed events with the hub's tags,
 * acknowledged when the handler resolves, redelivered when it throws. Works on nats-server 2.9
 * (one filter subject per consumer). A durable that exists with another filter is an error, not
 * silently changed: two programs sharing a name would steal each other's events.
 */
export const subscribeUnified = async (
  nc: NatsConnection,
  js: JetStreamClient,
  options: SubscribeOptions,
): Promise<UnifiedSubscription> => {
  if (!isToken(options.durable)) throw new InvalidTokenError('durable consumer name', options.durable);
  for (const [what, value] of [
    ['subject type', options.subjectType],
    ['predicate', options.predicate],
  ] as const) {
    if (value !== undefined && !isToken(value)) throw new InvalidTokenError(what, value);
  }
  const filterSubject = unifiedFilter(options);
  const jsm = await jetStreamManagerOf(nc);
  try {
    const info = await jsm.consumers.info(UNIFIED_STREAM, options.durable);
    if (info.config.filter_subject !== filterSubject) {
      throw new BusError(
        `durable consumer ${options.durable} exists on ${UNIFIED_STREAM} with filter ${info.config.filter_subject ?? '(none)'}, not ${filterSubject}: choose another name or delete it`,
      );
    }
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)
      throw new BusError(
        `the unified stream ${UNIFIED_STREAM} does not exist on this NATS: start the hub first`,
      );
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound))
      throw error;
    await jsm.consumers.add(UNIFIED_STREAM, {
      durable_name: options.durable,
      filter_subject: filterSubject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: options.start === 'all' ? DeliverPolicy.All : DeliverPolicy.New,
      max_ack_pending: 1000,
    });
  }
  const consumer = await js.consumers.get(UNIFIED_STREAM, options.durable);
  const messages = await consumer.consume({ max_messages: 100 });
  const retryDelayMs = options.retryDelayMs ?? 5000;
  const reportError = (error: HandlerFailedError): void => {
    try {
      if (options.onError === undefined) process.emitWarning(error);
      else options.onError(error);
    } catch {
      // A failing error callback must not stop the consume loop.
    }
  };
  const closed = (async () => {
    for await (const msg of messages) {
      let event: CDEvent;
      try {
        event = fromNats({ headers: msg.headers, data: msg.data }).event;
      } catch (error) {
        if (!(error instanceof ValidationError || error instanceof BindingError)) throw error;
        options.onInvalid?.(msg.subject, error);
        msg.term(`not a CDEvent: ${error.message}`);
        continue;
      }
      try {
        await options.handler({ event, ...tagsOf(msg) });
        msg.ack();
      } catch (error) {
        // "Throw to have it redelivered": nak'd with the delay, and the failure reported.
        msg.nak(retryDelayMs);
        reportError(
          new HandlerFailedError(
            {
              durable: options.durable,
              subject: msg.subject,
              streamSequence: msg.seq,
              deliveries: msg.info.deliveryCount,
            },
            retryDelayMs,
            error,
          ),
        );
      }
    }
  })();
  return {
    durable: options.durable,
    filterSubject,
    closed,
    stop: async () => {
      messages.stop();
      await closed;
    },
  };
};
