import { NATS_MSG_ID_HEADER } from '@argus/cdevents';

/**
 * Header names of the Argus NATS contract, one meaning each. CloudEvents attributes use the
 * binding's `ce-` names.
 */
export const HEADERS = {
  /** JetStream de-duplication id (raw stream: `rawMessageId`; unified stream: the event's identity). */
  msgId: NATS_MSG_ID_HEADER,
  /** JetStream: the publish is refused unless the subject is bound to this stream. */
  expectedStream: 'Nats-Expected-Stream',
  /** JetStream direct get with headers only: the size of the message's payload. */
  msgSize: 'Nats-Msg-Size',
  /**
   * Agent -> hub (raw stream), and Argo CD Notifications -> agent webhook: the destination cluster
   * of the event as the agent saw it (the Argo CD destination). A claim the hub checks against the
   * registry, never a tag (`destinationClaim`).
   */
  destinationCluster: 'Argus-Destination-Cluster',
  /**
   * Hub -> consumers (unified stream): the cluster the hub tagged the event with, its verdict on the
   * destination claim (the exact name; the subject carries `clusterToken`). Agents of release 0.1
   * sent their claim under this name on the raw stream: read there only as a fallback.
   */
  cluster: 'Argus-Cluster',
  /** Hub -> consumers: the instance that published the event (from the raw subject). */
  instance: 'Argus-Instance',
  /** Hub -> consumers: environment label of the cluster, from the registry. */
  environment: 'Argus-Environment',
  /** Hub -> consumers: the registry labels of the cluster, as JSON. */
  labels: 'Argus-Labels',
  /** Hub -> consumers: the CDEvents spec version of the event. */
  specVersion: 'Argus-Spec-Version',
  /** Hub -> consumers: when the hub stored the event (RFC 3339). */
  storedAt: 'Argus-Stored-At',
  /** Dead letters: which error class refused the message. */
  errorClass: 'Argus-Error-Class',
  /**
   * Dead letters: what lay beneath the error class, as `Class: message` (its own cause after ` <- `):
   * the `SyntaxError` under a `MalformedJsonError`, the driver's error under a refused row. Absent when
   * the error had no cause.
   */
  errorCause: 'Argus-Error-Cause',
  /** Dead letters: the machine-readable reason (`malformed-json`, `schema`, `spoofed-cluster`, ...). */
  errorReason: 'Argus-Error-Reason',
  /** Dead letters: the human-readable detail, with paths of schema issues. */
  errorDetail: 'Argus-Error-Detail',
  /** Dead letters: the subject the original message was published on. */
  originalSubject: 'Argus-Original-Subject',
  /** Dead letters: stream sequence of the original message in CDEVENTS_RAW. */
  originalSequence: 'Argus-Original-Sequence',
  /**
   * Dead letters: set when the original did not fit beside the dead letter's headers and only its
   * first bytes were kept; the original's size in bytes (the whole is in CDEVENTS_RAW while retained).
   */
  originalBytes: 'Argus-Original-Bytes',
  /**
   * Replays: the CDEVENTS_DLQ sequence a raw message replays (`argus dlq replay`); a replay refused
   * again keeps it, so its new dead letter says which one it came from.
   */
  replayOf: 'Argus-Replay-Of',
  /** Dead letters: names of original headers that cannot be published again (JSON array), when any. */
  droppedHeaders: 'Argus-Dropped-Headers',
} as const;

/** NATS header values are one line of printable text; keep details readable and bounded. */
export const MAX_HEADER_VALUE_LENGTH = 1024;

export const headerValue = (value: string): string => {
  const oneLine = value.replace(/[\r\n]+/g, ' ');
  return oneLine.length > MAX_HEADER_VALUE_LENGTH
    ? `${oneLine.slice(0, MAX_HEADER_VALUE_LENGTH - 1)}…`
    : oneLine;
};

/** What `destinationClaim` reads headers through: NATS headers, or a lookup over HTTP ones. */
export interface ClaimHeaders {
  /** The header's value; '' or undefined when absent. */
  get(name: string): string | undefined;
}

/**
 * The destination cluster a raw message (or a Notifications post) claims: `Argus-Destination-Cluster`,
 * else `Argus-Cluster` as agents of release 0.1 sent it; undefined when neither names one. Only for
 * what an agent sends: on the unified stream `Argus-Cluster` is the hub's tag.
 */
export const destinationClaim = (headers: ClaimHeaders | undefined): string | undefined => {
  const claim = headers?.get(HEADERS.destinationCluster) || headers?.get(HEADERS.cluster) || '';
  return claim === '' ? undefined : claim;
};
