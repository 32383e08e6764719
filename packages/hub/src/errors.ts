import type { ValidationReason } from '@argus/cdevents';

/** Base class of the hub's errors. */
export class HubError extends Error {
  override name = 'HubError';
}

/** The registry file is unreadable or malformed: the message names the file and the offending key. */
export class RegistryError extends HubError {
  override name = 'RegistryError';
  readonly file: string | undefined;
  constructor(message: string, file?: string, cause?: unknown) {
    super(file === undefined ? message : `${file}: ${message}`, { cause });
    this.file = file;
  }
}

/**
 * An ingest producer is named like a registry instance with clusters: its events would go out on that agent's raw
 * subjects and take the agent's cluster, environment and labels (adversarial review 2, finding 7).
 */
export class IngestProducerError extends HubError {
  override name = 'IngestProducerError';
  readonly producers: readonly string[];
  constructor(producers: readonly string[]) {
    super(
      `ingest producer${producers.length > 1 ? 's' : ''} ${producers.join(', ')} ${producers.length > 1 ? 'are' : 'is'} named like a registry instance with clusters: an HTTP producer would pass for that agent and take its cluster and environment; give the token another name`,
    );
    this.producers = producers;
  }
}

/**
 * Why the hub refused a message: the literal goes into the dead letter's `Argus-Error-Reason`.
 * The validation reasons come from @argus/cdevents; the others are the hub's own checks.
 */
export type DeadLetterReason =
  | ValidationReason
  | 'binding'
  | 'bad-subject'
  | 'subject-mismatch'
  | 'cluster-not-allowed'
  | 'source-not-owned'
  | 'too-many-clusters'
  | 'timestamp-out-of-range'
  | 'store-rejected'
  | 'internal-error';

/** A message the hub will not store, with the reason and a detail a person can act on. */
export class RejectedMessage extends HubError {
  override name = 'RejectedMessage';
  readonly reason: DeadLetterReason;
  readonly errorClass: string;
  constructor(reason: DeadLetterReason, errorClass: string, detail: string) {
    super(detail);
    this.reason = reason;
    this.errorClass = errorClass;
  }
}
