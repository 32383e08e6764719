import type { JetStreamClient } from '@nats-io/jetstream';
import { BaseApiClientImpl } from '@nats-io/jetstream/internal';
import type { ServerInfo } from '@nats-io/nats-core';

/** What the rule reads of a connection: the INFO its server sent (absent before the first connect). */
export interface ServerInfoHolder {
  readonly info?: ServerInfo | undefined;
}

import { PayloadTooLargeError } from './errors.js';

/** What the size rule looks at: the subject (for the error), the body and the headers as they are sent. */
export interface SizedMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Headers that encode themselves as sent (`HeaderList`, nats.js's `MsgHdrsImpl`). */
  readonly headers?: { encode(): Uint8Array } | undefined;
}

/**
 * The one home of the max_payload rule: the body plus the encoded headers against the `max_payload`
 * the connected server announced (nats.js applies the same sum before it sends). Undefined when it
 * fits, or before the first connect (no limit is known yet; the client checks again when it sends).
 */
export const maxPayloadProblem = (
  nc: ServerInfoHolder,
  message: SizedMessage,
): PayloadTooLargeError | undefined => {
  const maxPayload = nc.info?.max_payload;
  if (maxPayload === undefined) return undefined;
  if (message.data.length > maxPayload)
    return new PayloadTooLargeError(message.subject, message.data.length, maxPayload);
  const bytes = message.data.length + (message.headers?.encode().length ?? 0);
  return bytes > maxPayload ? new PayloadTooLargeError(message.subject, bytes, maxPayload) : undefined;
};

/**
 * The connection behind a nats.js JetStream client. Its public type hides it; its implementation
 * class (exported by the package's `internal` entry point) keeps it as a field.
 */
export const connectionOf = (js: JetStreamClient): ServerInfoHolder | undefined =>
  js instanceof BaseApiClientImpl ? js.nc : undefined;
