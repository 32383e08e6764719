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

/**
 * A message the hub will not store, with the reason and a detail a person can act on. `errorClass`
 * names the error that refused it (`MalformedJsonError`, ClickHouse's `TYPE_MISMATCH`); `cause` keeps
 * what lay beneath that error (the `SyntaxError` of a malformed body, the driver's error of a refused
 * row), so the dead letter can say it too.
 */
export class RejectedMessage extends HubError {
  override name = 'RejectedMessage';
  readonly reason: DeadLetterReason;
  readonly errorClass: string;
  constructor(reason: DeadLetterReason, errorClass: string, detail: string, cause?: unknown) {
    super(detail, cause === undefined ? undefined : { cause });
    this.reason = reason;
    this.errorClass = errorClass;
  }

  /** The refusal of `error`: its class name, its message (unless `detail` is given) and its cause. */
  static of(reason: DeadLetterReason, error: Error, detail: string = error.message): RejectedMessage {
    return new RejectedMessage(reason, error.name, detail, error.cause);
  }
}

/** Causes followed at most, so a cycle or a deep chain cannot grow a dead letter. */
const MAX_CAUSES = 3;

/**
 * The chain beneath a refusal, as `Class: message` joined by ` <- ` (the cause first, then its own
 * cause), or undefined when there is none.
 */
export const describeCauses = (rejected: RejectedMessage): string | undefined => {
  const parts: string[] = [];
  let cause: unknown = rejected.cause;
  while (cause !== undefined && cause !== null && parts.length < MAX_CAUSES) {
    if (cause instanceof Error) {
      parts.push(`${cause.name}: ${cause.message}`);
      cause = cause.cause;
    } else {
      parts.push(`${typeof cause}: ${String(cause)}`);
      break;
    }
  }
  return parts.length === 0 ? undefined : parts.join(' <- ');
};
