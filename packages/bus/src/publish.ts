import { type CDEvent, classifyEventType, natsMessageId, toNatsBinary } from '@argus/cdevents';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/nats-core';
import { HeaderList } from './header-list.js';
import { HEADERS, headerValue } from './headers.js';
import { rawSubject, toToken } from './subjects.js';

export interface RawPublishOptions {
  /** The publishing agent's instance id: the subject token its credentials allow. */
  readonly instance: string;
  /** The event's destination cluster as the agent saw it (Argo CD destination name). */
  readonly cluster?: string | undefined;
  /** How the agent's Argo CD is deployed, for the hub's instance registry. */
  readonly architecture?: string | undefined;
  /** JetStream publish timeout. @default 5000 */
  readonly timeoutMs?: number;
}

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
  options: Pick<RawPublishOptions, 'instance' | 'cluster' | 'architecture'>,
): { subject: string; headers: MsgHdrs; data: Uint8Array; msgId: string } => {
  const { subjectType, predicate } = typeTokens(event.context.type);
  const binary = toNatsBinary(event);
  const h = new HeaderList();
  for (const [name, value] of Object.entries(binary.headers)) h.set(name, headerValue(value));
  if (options.cluster !== undefined) h.set(HEADERS.cluster, headerValue(options.cluster));
  if (options.architecture !== undefined) h.set(HEADERS.architecture, headerValue(options.architecture));
  return {
    subject: rawSubject(options.instance, subjectType, predicate),
    headers: h,
    data: binary.data,
    msgId: natsMessageId(event.context.source, event.context.id),
  };
};

/**
 * Publishes one event onto CDEVENTS_RAW and waits for the JetStream ack. A repeat of an event
 * already stored within the duplicate window is acknowledged with `duplicate: true` and not stored twice.
 */
export const publishRaw = async (
  js: JetStreamClient,
  event: CDEvent,
  options: RawPublishOptions,
): Promise<PubAck> => {
  const message = rawMessage(event, options);
  return js.publish(message.subject, message.data, {
    headers: message.headers,
    msgID: message.msgId,
    timeout: options.timeoutMs ?? 5000,
  });
};
