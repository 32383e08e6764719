/** Header names of the Argus NATS contract. CloudEvents attributes use the binding's `ce-` names. */
export const HEADERS = {
  /** JetStream de-duplication id: digest of `context.source` + `context.id`. */
  msgId: 'Nats-Msg-Id',
  /** Agent -> hub: the destination cluster of the event as the agent saw it (Argo CD destination). */
  cluster: 'Argus-Cluster',
  /** Agent -> hub: how the agent is deployed (hub-and-spoke, distributed, managed, argocd-agent). */
  architecture: 'Argus-Architecture',
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
