import type { HeaderList, OutgoingMessage } from '@argus/bus';
import type { CDEvent } from '@argus/cdevents';
import type { EventRow, EventTags } from '@argus/store';

/**
 * One admitted event: everything the ClickHouse row and the unified-stream message are built from,
 * the identity digest included (computed once, by the validate stage).
 */
export interface AdmittedEvent {
  /** Digest of `context.source` + `context.id`: the row's identity and the unified message's id. */
  readonly identity: string;
  readonly event: CDEvent;
  readonly specVersion: string;
  readonly subjectType: string;
  readonly predicate: string;
  /** The CDEvent JSON as stored and republished. */
  readonly body: Uint8Array;
  readonly tags: EventTags;
  readonly receivedAt: Date;
}

/**
 * An admitted event prepared for the store and republish stages: its row and its unified message,
 * which a batch keeps until it is acked (not the parsed event).
 */
export interface PreparedEvent {
  readonly identity: string;
  readonly row: EventRow;
  /** Stored-at is added when sent. */
  readonly unified: OutgoingMessage & { readonly headers: HeaderList };
}
