/** Base class of the bus package's errors. */
export class BusError extends Error {
  override name = 'BusError';
}

/** A value that must be one NATS subject token (instance id, subject type, predicate) is not. */
export class InvalidTokenError extends BusError {
  override name = 'InvalidTokenError';
  readonly what: string;
  readonly value: string;
  constructor(what: string, value: string) {
    super(
      `invalid ${what} ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}: ` +
        'use 1-64 characters of A-Z, a-z, 0-9, "_" and "-"',
    );
    this.what = what;
    this.value = value;
  }
}

/** A subject does not follow the Argus scheme (`cdevents.raw.<instance>.<subjectType>.<predicate>`). */
export class SubjectSchemeError extends BusError {
  override name = 'SubjectSchemeError';
  readonly subject: string;
  constructor(subject: string, expected: string) {
    super(`subject ${JSON.stringify(subject)} does not follow the scheme ${expected}`);
    this.subject = subject;
  }
}

/** A stream exists with settings other than the ones Argus needs. */
export class StreamDriftError extends BusError {
  override name = 'StreamDriftError';
  readonly stream: string;
  readonly drift: readonly StreamDrift[];
  constructor(stream: string, drift: readonly StreamDrift[]) {
    super(
      `stream ${stream} exists with other settings: ${drift.map((d) => `${d.field} is ${d.actual}, expected ${d.expected}`).join('; ')}`,
    );
    this.stream = stream;
    this.drift = drift;
  }
}

/** JetStream cannot reserve a stream's storage limit: the streams' limits together exceed the server's or account's store. */
export class StreamLimitError extends BusError {
  override name = 'StreamLimitError';
  readonly stream: string;
  constructor(stream: string, maxBytes: number, cause: unknown) {
    super(
      `stream ${stream} cannot be created with max_bytes ${maxBytes}: JetStream reserves every stream's limit, and the server's (or account's) max_file has not that much left; give nats-server more store, or lower --raw-max-bytes, --unified-max-bytes, --dlq-max-bytes, --progress-bucket-max-bytes`,
      { cause },
    );
    this.stream = stream;
  }
}

export interface StreamDrift {
  readonly field: string;
  readonly expected: string;
  readonly actual: string;
  /** `true` when Argus cannot work correctly with the actual value (not just a different tuning). */
  readonly breaking: boolean;
}

/**
 * A message larger than the NATS server's `max_payload` (headers included). nats.js refuses it before
 * sending, the same way every time: retrying cannot help. Decided from sizes (`maxPayloadProblem`),
 * never from the client's wording.
 */
export class PayloadTooLargeError extends BusError {
  override name = 'PayloadTooLargeError';
  readonly reason = 'too-large-for-nats' as const;
  readonly subject: string;
  /** Body plus encoded headers. */
  readonly bytes: number;
  readonly maxPayload: number;
  constructor(subject: string, bytes: number, maxPayload: number) {
    super(
      `the message for ${subject} is ${bytes} bytes with its headers, more than the NATS server's max_payload of ${maxPayload}: ` +
        "it can never be published as it is; make the event smaller (customData) or raise max_payload in nats-server's config",
    );
    this.subject = subject;
    this.bytes = bytes;
    this.maxPayload = maxPayload;
  }
}

/** `true` for a message refused for being larger than the server's max_payload (`PayloadTooLargeError`). */
export const isPayloadTooLarge = (error: unknown): error is PayloadTooLargeError =>
  error instanceof PayloadTooLargeError;

/** A KV bucket Argus needs does not exist, and these credentials may not create it. */
export class BucketMissingError extends BusError {
  override name = 'BucketMissingError';
  readonly bucket: string;
  constructor(bucket: string, cause?: unknown) {
    super(
      `KV bucket ${bucket} does not exist, and these credentials may not create it (agents never may): ` +
        'the hub creates argus_agents and argus_agent_progress_<instance> at start for every instance its ' +
        'registry lists, so list this instance there and restart the hub (deploy/nats/README.md)',
      { cause },
    );
    this.bucket = bucket;
  }
}

/**
 * No JetStream answers the connection's API check (`$JS.API.INFO`, or `$JS.<domain>.API.INFO` with a
 * domain): a server without JetStream, a leaf nats-server reached without `--nats-js-domain`, or a
 * domain that is not the hub's.
 */
export class JetStreamUnreachableError extends BusError {
  override name = 'JetStreamUnreachableError';
  readonly server: string;
  readonly domain: string | undefined;
  constructor(server: string, domain: string | undefined, cause: unknown) {
    super(
      domain === undefined
        ? `JetStream is not reachable through the NATS server ${server}: nothing answers $JS.API.INFO. ` +
            'On a leaf node nats-server (deploy/nats/leaf-agent.conf), set --nats-js-domain (ARGUS_NATS_JS_DOMAIN) ' +
            "to the hub's JetStream domain (jetstream.domain of its nats-server config; hub in deploy/nats); " +
            'otherwise enable JetStream on that server'
        : `JetStream domain ${JSON.stringify(domain)} is not reachable through the NATS server ${server}: ` +
            `nothing answers $JS.${domain}.API.INFO. Check that --nats-js-domain is the hub's jetstream.domain, ` +
            "that the leaf node is connected to the hub (its leafnodes remote), and that the leaf user's account " +
            'imports $JS.API.INFO (deploy/nats/accounts.conf)',
      { cause },
    );
    this.server = server;
    this.domain = domain;
  }
}
