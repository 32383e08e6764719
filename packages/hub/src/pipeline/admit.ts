import { destinationClaim, receivedHeaders } from '@argus/bus';
import type { TimeRange } from '@argus/cdevents';
import type { JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { RejectedMessage } from '../errors.js';
import type { Registry } from '../registry.js';
import type { PreparedEvent } from './admitted.js';
import type { ClusterCap } from './cluster-cap.js';
import type { BatchDedupe, Dedupe } from './dedupe.js';
import { toPreparedEvent } from './prepare.js';
import { tagEvent } from './tag.js';
import { validateMessage } from './validate.js';

/** An admitted message: what the later stages need of it, and no more (batches live a while). */
export interface Accepted {
  readonly msg: JsMsg;
  readonly prepared: PreparedEvent;
}

/** A message the hub refuses, with the refusal its dead letter records. */
export interface Refused {
  readonly msg: JsMsg;
  readonly rejection: RejectedMessage;
}

/** What admitting a batch found: events to store, messages to dead-letter, and how many were repeats. */
export interface Admission {
  readonly accepted: Accepted[];
  readonly refused: Refused[];
  readonly repeats: number;
}

export interface AdmitConfig {
  readonly maxEventBytes: number;
  readonly timeRange: TimeRange;
  readonly dedupe: Dedupe;
  readonly clusterCap: ClusterCap;
  /** The registry in use now (it may be replaced between batches). */
  readonly registry: () => Registry;
  readonly logger: Logger;
}

/**
 * The admit stage: validate -> dedupe -> tag (registry, cluster cap) each message of a batch, and
 * build what the store and republish stages need from the one admitted event.
 */
export const admitBatch = (config: AdmitConfig, batch: readonly JsMsg[], receivedAt: Date): Admission => {
  const accepted: Accepted[] = [];
  const refused: Refused[] = [];
  let repeats = 0;
  const dedupe = config.dedupe.batch();
  const registry = config.registry();
  for (const msg of batch) {
    try {
      const outcome = admitOne(config, registry, dedupe, msg, receivedAt);
      if (outcome instanceof RejectedMessage) refused.push({ msg, rejection: outcome });
      else if (outcome === undefined) repeats++;
      else accepted.push(outcome);
    } catch (err) {
      // A bug, not bad input: dead-letter this message with what happened rather than leave the
      // whole batch (good events included) to be redelivered and fail again forever.
      config.logger.error(
        { err, subject: msg.subject, seq: msg.info.streamSequence },
        'unexpected error on a message',
      );
      const error = err instanceof Error ? err : new Error(String(err));
      refused.push({ msg, rejection: RejectedMessage.of('internal-error', error) });
    }
  }
  return { accepted, refused, repeats };
};

/** One message: its accepted event, its refusal, or undefined for a repeat. */
const admitOne = (
  config: AdmitConfig,
  registry: Registry,
  dedupe: BatchDedupe,
  msg: JsMsg,
  receivedAt: Date,
): Accepted | RejectedMessage | undefined => {
  const headers = receivedHeaders(msg);
  const valid = validateMessage(
    { subject: msg.subject, headers, data: msg.data },
    config.maxEventBytes,
    config.timeRange,
    receivedAt.getTime(),
  );
  if (valid instanceof RejectedMessage) return valid;
  if (dedupe.isRepeat(valid.identity)) return undefined;
  const { event, specVersion } = valid.validated;
  const tags = tagEvent(registry, valid.instance, destinationClaim(headers), event.context.source);
  if (tags instanceof RejectedMessage) return tags;
  const tooMany = config.clusterCap.refusal(tags.instance, tags.cluster);
  if (tooMany !== undefined) return new RejectedMessage('too-many-clusters', 'ClusterLimit', tooMany);
  const prepared = toPreparedEvent({
    identity: valid.identity,
    event,
    specVersion,
    subjectType: valid.subjectType,
    predicate: valid.predicate,
    body: valid.body,
    tags,
    receivedAt,
  });
  if (prepared instanceof RejectedMessage) return prepared;
  dedupe.admit(valid.identity);
  return { msg, prepared };
};
