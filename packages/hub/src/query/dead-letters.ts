import {
  DLQ_STREAM,
  DLQ_SUBJECT_PREFIX,
  dlqSubject,
  HEADERS,
  HeaderList,
  RAW_STREAM,
  RAW_SUBJECT_PREFIX,
  rawSubjectInstance,
  replayMessageId,
} from '@argus/bus';
import type {
  DeadLetter,
  GetDeadLetterResponse,
  Header,
  ListDeadLettersRequest,
  ListDeadLettersResponse,
  ReplayDeadLetterResponse,
} from '@argus/query-api';
import {
  type JetStreamClient,
  type JetStreamManager,
  type MsgRequest,
  PubHeaders,
  type StoredMsg,
} from '@nats-io/jetstream';
import { checkValueLength } from './convert.js';
import { QueryArgumentError } from './errors.js';

export const DEFAULT_DEAD_LETTER_PAGE = 50;
export const MAX_DEAD_LETTER_PAGE = 1000;
/** Dead letters looked at for one page when a reason filter skips most: the rest is the next page. */
const MAX_SCANNED_PER_PAGE = 10_000;

/** The dead letter or raw message asked for is not there (never was, expired, or replayed already). */
export class DeadLetterNotFoundError extends Error {
  override name = 'DeadLetterNotFoundError';
}

/** A dead letter that cannot be replayed as it is (its original is gone, its subject is not a raw one). */
export class DeadLetterNotReplayableError extends Error {
  override name = 'DeadLetterNotReplayableError';
}

/**
 * Headers the hub adds to a dead letter; everything else is the original's. The message id and
 * expected stream are the DLQ publish's own (`dlq-<seq>`; the original's id is dropped when the
 * dead letter is written): shown as the original's, they misled, and a replay carried them.
 */
const HUB_HEADERS: ReadonlySet<string> = new Set(
  [
    PubHeaders.MsgIdHdr,
    PubHeaders.ExpectedStreamHdr,
    HEADERS.errorClass,
    HEADERS.errorReason,
    HEADERS.errorDetail,
    HEADERS.originalSubject,
    HEADERS.originalSequence,
    HEADERS.originalBytes,
    HEADERS.droppedHeaders,
    HEADERS.replayOf,
  ].map((h) => h.toLowerCase()),
);

const header = (msg: StoredMsg, name: string): string => msg.header?.get(name) ?? '';
const count = (text: string): number => {
  const n = Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
};

/** The listing view of a stored dead letter. */
export const toDeadLetter = (msg: StoredMsg): DeadLetter => {
  const originalBytes = count(header(msg, HEADERS.originalBytes));
  const originalSubject = header(msg, HEADERS.originalSubject);
  return {
    sequence: msg.seq,
    time: msg.time,
    reason: header(msg, HEADERS.errorReason),
    errorClass: header(msg, HEADERS.errorClass),
    detail: header(msg, HEADERS.errorDetail),
    producer: rawSubjectInstance(originalSubject) ?? msg.subject.slice(DLQ_SUBJECT_PREFIX.length + 1),
    originalSubject,
    originalSequence: count(header(msg, HEADERS.originalSequence)),
    originalSize: originalBytes > 0 ? originalBytes : msg.data.length,
    truncated: originalBytes > 0,
    replayOf: count(header(msg, HEADERS.replayOf)),
  };
};

/** The original's headers, in order, without the hub's. */
const originalHeaders = (msg: StoredMsg): Header[] => {
  const headers: Header[] = [];
  if (msg.header === undefined) return headers;
  for (const [name, values] of msg.header) {
    if (HUB_HEADERS.has(name.toLowerCase())) continue;
    for (const value of values) headers.push({ name, value });
  }
  return headers;
};

const getBySequence = async (jsm: JetStreamManager, stream: string, sequence: number) => {
  try {
    return await jsm.streams.getMessage(stream, { seq: sequence });
  } catch {
    // A deleted sequence answers "no message found" as an error on some servers.
    return null;
  }
};

const encodeToken = (sequence: number): string => Buffer.from(`dlq:${sequence}`).toString('base64url');
const decodeToken = (token: string): number => {
  if (token === '') return 1;
  const m = /^dlq:(\d{1,16})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (m === null)
    throw new QueryArgumentError('page_token is not one this API issued: pass next_page_token unchanged');
  return Number(m[1]);
};

/**
 * One page of dead letters, oldest first: each read with STREAM.MSG.GET `next_by_subj` (nats-server
 * 2.9), so nothing is created on the server and replayed (deleted) sequences are skipped.
 */
export const listDeadLetters = async (
  jsm: JetStreamManager,
  request: ListDeadLettersRequest,
): Promise<ListDeadLettersResponse> => {
  checkValueLength('producer', request.producer);
  checkValueLength('reason', request.reason);
  const pageSize = request.pageSize === 0 ? DEFAULT_DEAD_LETTER_PAGE : request.pageSize;
  if (pageSize > MAX_DEAD_LETTER_PAGE)
    throw new QueryArgumentError(`page_size must be at most ${MAX_DEAD_LETTER_PAGE}, got ${pageSize}`);
  const subject = request.producer === '' ? `${DLQ_SUBJECT_PREFIX}.>` : dlqSubject(request.producer);
  const info = await jsm.streams.info(DLQ_STREAM);
  const deadLetters: DeadLetter[] = [];
  let next = Math.max(decodeToken(request.pageToken), info.state.first_seq);
  let scanned = 0;
  while (deadLetters.length < pageSize && next <= info.state.last_seq && scanned < MAX_SCANNED_PER_PAGE) {
    const msg = await jsm.streams.getMessage(DLQ_STREAM, {
      seq: next,
      next_by_subj: subject,
    } as unknown as MsgRequest);
    if (msg === null) {
      next = info.state.last_seq + 1;
      break;
    }
    scanned += 1;
    next = msg.seq + 1;
    const deadLetter = toDeadLetter(msg);
    if (request.reason === '' || deadLetter.reason === request.reason) deadLetters.push(deadLetter);
  }
  return {
    deadLetters,
    nextPageToken: next <= info.state.last_seq ? encodeToken(next) : '',
    total: info.state.messages,
  };
};

const deadLetterAt = async (jsm: JetStreamManager, sequence: number): Promise<StoredMsg> => {
  if (sequence === 0)
    throw new QueryArgumentError('sequence is required (the DLQ sequence argus dlq list shows)');
  const msg = await getBySequence(jsm, DLQ_STREAM, sequence);
  if (msg === null || !msg.subject.startsWith(`${DLQ_SUBJECT_PREFIX}.`))
    throw new DeadLetterNotFoundError(
      `no dead letter ${sequence} in ${DLQ_STREAM}: never there, expired, or replayed already`,
    );
  return msg;
};

/** One dead letter with its original bytes and headers. */
export const getDeadLetter = async (
  jsm: JetStreamManager,
  sequence: number,
): Promise<GetDeadLetterResponse> => {
  const msg = await deadLetterAt(jsm, sequence);
  return { deadLetter: toDeadLetter(msg), data: Buffer.from(msg.data), headers: originalHeaders(msg) };
};

/**
 * Publishes a dead letter's original on its raw subject again, for the pipeline to judge anew, then
 * deletes the dead letter. Exactly once: the message id `replay-<sequence>` makes JetStream drop a
 * second or concurrent replay within the duplicate window; later, the dead letter is gone (NOT_FOUND),
 * and the hub's identity check drops an event stored already. A replay still refused becomes a new
 * dead letter carrying `Argus-Replay-Of`. A truncated dead letter replays the whole original from
 * CDEVENTS_RAW while that stream still holds it.
 */
export const replayDeadLetter = async (
  js: JetStreamClient,
  jsm: JetStreamManager,
  sequence: number,
): Promise<ReplayDeadLetterResponse> => {
  const msg = await deadLetterAt(jsm, sequence);
  const deadLetter = toDeadLetter(msg);
  if (!deadLetter.originalSubject.startsWith(`${RAW_SUBJECT_PREFIX}.`))
    throw new DeadLetterNotReplayableError(
      `dead letter ${sequence} has no raw subject to replay on (${JSON.stringify(deadLetter.originalSubject)})`,
    );
  let data = msg.data;
  if (deadLetter.truncated) {
    const original = await getBySequence(jsm, RAW_STREAM, deadLetter.originalSequence);
    if (original === null || original.subject !== deadLetter.originalSubject)
      throw new DeadLetterNotReplayableError(
        `dead letter ${sequence} kept only the first bytes of its original, and ${RAW_STREAM} no longer holds message ${deadLetter.originalSequence}`,
      );
    data = original.data;
  }
  const headers = new HeaderList();
  for (const { name, value } of originalHeaders(msg)) headers.append(name, value);
  headers.set(HEADERS.replayOf, String(sequence));
  const ack = await js.publish(deadLetter.originalSubject, data, {
    headers,
    msgID: replayMessageId(sequence),
    expect: { streamName: RAW_STREAM },
  });
  // Gone from the DLQ once the raw stream holds it; a concurrent replayer may have deleted it first.
  await jsm.streams.deleteMessage(DLQ_STREAM, sequence).catch(() => false);
  return { rawSequence: ack.seq, duplicate: ack.duplicate };
};
