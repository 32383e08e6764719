import { HEADERS, UNIFIED_STREAM, unifiedSubject } from '@argus/bus';
import { toNatsBinary } from '@argus/cdevents';
import type { EventRow } from '@argus/store';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { NO_CLUSTER_TOKEN } from './tag.js';
import type { ValidMessage } from './validate.js';

export interface StoredEvent {
  readonly message: ValidMessage;
  readonly row: EventRow;
}

/**
 * Publishes stored events on the unified stream, in binary mode, with the hub's tags as headers.
 * The message id is the event identity, so republishing after a crash is absorbed by JetStream.
 */
export const republish = async (js: JetStreamClient, events: readonly StoredEvent[]): Promise<PubAck[]> =>
  Promise.all(
    events.map(({ message, row }) => {
      const binary = toNatsBinary(message.validated.event);
      const h = natsHeaders();
      for (const [name, value] of Object.entries(binary.headers)) h.set(name, value);
      h.set(HEADERS.instance, row.instance);
      h.set(HEADERS.cluster, row.cluster);
      if (row.environment !== '') h.set(HEADERS.environment, row.environment);
      if (Object.keys(row.labels).length > 0) h.set(HEADERS.labels, JSON.stringify(row.labels));
      h.set(HEADERS.specVersion, row.spec_version);
      h.set(HEADERS.storedAt, new Date().toISOString());
      const subject = unifiedSubject(
        row.cluster === '' ? NO_CLUSTER_TOKEN : row.cluster,
        message.subjectType,
        message.predicate,
      );
      return js.publish(subject, binary.data, {
        headers: h,
        msgID: message.identity,
        expect: { streamName: UNIFIED_STREAM },
      });
    }),
  );
