import { createHash, createHmac } from 'node:crypto';
import { type CDEvent, classifyEventType, toNatsBinary } from '@argus/cdevents';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { HeaderList } from './header-list.js';
import { HEADERS, headerValue } from './headers.js';
import { connectionOf, maxPayloadProblem, type ServerInfoHolder } from './max-payload.js';
import { rawSubject, toToken } from './subjects.js';

export interface RawPublishOptions {
  /** The publishing agent's instance id: the subject token its credentials allow. */
  readonly instance: string;
  /** The event's destination cluster as the agent saw it (Argo CD destination name): `Argus-Destination-Cluster`. */
  readonly cluster?: string | undefined;
  /**
   * The publisher's secret message-id key (`messageIdKey`, kept in its own KV bucket). Without it the
   * raw message id is still scoped to the instance but can be computed by anyone who knows the event.
   */
  readonly msgIdKey?: string | undefined;
  /** JetStream publish timeout. @default 5000 */
  readonly timeoutMs?: number;
}

/**
 * `Nats-Msg-Id` of a raw message: scoped to the publishing instance, and keyed with the publisher's
 * secret. The raw stream has one duplicate window for every publisher, and JetStream acks a second
 * message with a known id as a duplicate and drops it: an id another publisher can compute is an id
 * it can publish first, and the victim's event would be lost (adversarial review 2, finding 3). With
 * the key, no other publisher can compute it; a retry or restart of the same publisher gets the same
 * id. Events seen by two observers (an Argo CD principal and its spoke) are de-duplicated by the hub,
 * which knows who may report which source, not by this window.
 */
export const rawMessageId = (
  instance: string,
  source: string,
  id: string,
  key?: string | undefined,
): string => {
  const text = `${instance}|${source.length}:${source}|${id}`;
  const digest =
    key === undefined ? createHash('sha256').update(text) : createHmac('sha256', key).update(text);
  return digest.digest('hex').slice(0, 32);
};

/**
 * `Nats-Msg-Id` of the dead letter of CDEVENTS_RAW message `rawSequence`: a redelivered refusal is
 * recorded once.
 */
export const deadLetterMessageId = (rawSequence: number): string => `dlq-${rawSequence}`;

/**
 * `Nats-Msg-Id` of the replay of CDEVENTS_DLQ message `dlqSequence` onto CDEVENTS_RAW: two replayers
 * of one dead letter publish it once.
 */
export const replayMessageId = (dlqSequence: number): string => `replay-${dlqSequence}`;

/** The subject tokens of an event's type: `service`/`deployed`, or `mytool-resource`/`created` for custom types. */
export const typeTokens = (type: string): { subjectType: string; predicate: string } => {
  const info = classifyEventType(type);
  return info.custom
    ? { subjectType: toToken(info.subjectType), predicate: toToken(info.predicate) }
    : { subjectType: info.subject, predicate: info.predicate };
};

/** The NATS message an agent publishes for one event: subject, headers and body. */
export const rawMessage = (
  event: CDEvent,
  options: Pick<RawPublishOptions, 'instance' | 'cluster' | 'msgIdKey'>,
): RawMessage => {
  const { subjectType, predicate } = typeTokens(event.context.type);
  const msgId = rawMessageId(options.instance, event.context.source, event.context.id, options.msgIdKey);
  // The raw stream's message id is per publisher, not the event's identity.
  const binary = toNatsBinary(event, msgId);
  const h = new HeaderList();
  for (const [name, value] of Object.entries(binary.headers)) h.set(name, headerValue(value));
  // The agent's architecture is not sent per message: its heartbeat (KV argus_agents) carries it.
  if (options.cluster !== undefined) h.set(HEADERS.destinationCluster, headerValue(options.cluster));
  return {
    subject: rawSubject(options.instance, subjectType, predicate),
    headers: h,
    data: binary.data,
    msgId,
  };
};

/** A message as `rawMessage` prepares it, ready to publish as many times as it takes. */
export interface RawMessage {
  readonly subject: string;
  readonly headers: HeaderList;
  readonly data: Uint8Array;
  readonly msgId: string;
}

/**
 * Publishes a prepared raw message and waits for the JetStream ack. A message larger than the
 * server's max_payload is refused with `PayloadTooLargeError` before it is sent, measured against
 * `connection` (by default the connection behind `js`).
 */
export const publishRawMessage = async (
  js: JetStreamClient,
  message: RawMessage,
  options: { readonly timeoutMs?: number | undefined; readonly connection?: ServerInfoHolder } = {},
): Promise<PubAck> => {
  const connection = options.connection ?? connectionOf(js);
  const tooLarge = connection === undefined ? undefined : maxPayloadProblem(connection, message);
  if (tooLarge !== undefined) throw tooLarge;
  return js.publish(message.subject, message.data, {
    headers: message.headers,
    msgID: message.msgId,
    timeout: options.timeoutMs ?? 5000,
  });
};

/**
 * Publishes one event onto CDEVENTS_RAW and waits for the JetStream ack. A repeat of an event
 * already stored within the duplicate window is acknowledged with `duplicate: true` and not stored twice.
 */
export const publishRaw = (
  js: JetStreamClient,
  event: CDEvent,
  options: RawPublishOptions,
): Promise<PubAck> => publishRawMessage(js, rawMessage(event, options), { timeoutMs: options.timeoutMs });
