import { randomBytes } from 'node:crypto';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { type NatsConnection, PermissionViolationError } from '@nats-io/nats-core';
import { BucketMissingError, type StreamDrift, StreamDriftError } from './errors.js';
import { jetStreamManagerOf, kvmOf } from './jetstream.js';
import { STREAM_NAME_IN_USE } from './streams.js';
import { assertToken } from './subjects.js';

/** KV bucket of agent heartbeats: one key per instance (its id), written by that agent, read by the hub. */
export const AGENTS_BUCKET = 'argus_agents';
/**
 * The bucket every agent shared for its progress before one bucket per agent (keys `<instance>.…`).
 * Read once by an agent that has no progress of its own yet; nothing writes it any more.
 */
export const LEGACY_PROGRESS_BUCKET = 'argus_agent_progress';

/** The hub's own bucket (the secret of the raw message ids its HTTP ingest publishes); hub only. */
export const HUB_BUCKET = 'argus_hub';

/** `argus_agent_progress_<instance>`: one agent's progress, which no other agent may read or write. */
export const progressBucket = (instance: string): string =>
  `${LEGACY_PROGRESS_BUCKET}_${assertToken(instance, 'instance id')}`;

/** The JetStream stream that holds a KV bucket. */
export const bucketStream = (bucket: string): string => `KV_${bucket}`;

/** Largest heartbeat value: a few hundred bytes in practice; the bound keeps the shared bucket small. */
export const MAX_HEARTBEAT_BYTES = 64 * 1024;
const KV_DUPLICATE_WINDOW_NANOS = 120 * 1_000_000_000;

const MIB = 1024 * 1024;
/**
 * Storage limit of an agent's progress bucket (finding 19: an agent may write any number of keys to
 * its own bucket, and only this keeps it from filling the server's store). An app's entry is 1-2 KB
 * (ten remembered deployments), so 32 MiB holds about 16,000 apps. Full, a put is refused: the
 * agent's own state, nobody else's.
 */
export const DEFAULT_PROGRESS_BUCKET_MAX_BYTES = 32 * MIB;
/** `argus_agents`: 256 heartbeats of the largest size allowed (`MAX_HEARTBEAT_BYTES`). */
export const AGENTS_BUCKET_MAX_BYTES = 256 * MAX_HEARTBEAT_BYTES;
/** `argus_hub`: one 64-character secret. */
export const HUB_BUCKET_MAX_BYTES = 1 * MIB;

/** Options of a bucket the hub (or a development setup) creates. */
export interface BucketOptions {
  /** @default 1 */
  readonly replicas?: number;
  /** Largest value; -1 for the server's max_payload. @default -1 */
  readonly maxValueBytes?: number;
  /** Storage limit of the bucket's stream. @default by bucket: AGENTS_BUCKET_MAX_BYTES, HUB_BUCKET_MAX_BYTES, else DEFAULT_PROGRESS_BUCKET_MAX_BYTES */
  readonly maxBytes?: number;
}

const defaultMaxBytes = (bucket: string): number =>
  bucket === AGENTS_BUCKET
    ? AGENTS_BUCKET_MAX_BYTES
    : bucket === HUB_BUCKET
      ? HUB_BUCKET_MAX_BYTES
      : DEFAULT_PROGRESS_BUCKET_MAX_BYTES;

/**
 * The stream of an Argus KV bucket. Unlike a bucket made by `Kvm.create`, it refuses roll-ups, purges
 * and message deletes: NATS permissions can pin a writer to one key but cannot filter headers, and a
 * put carrying `Nats-Rollup: all` would otherwise empty the whole bucket (every agent's state).
 * Argus only ever puts and gets, so nothing is lost by refusing them.
 */
export const bucketConfig = (
  bucket: string,
  options: BucketOptions = {},
): Partial<StreamConfig> & { name: string } => ({
  name: bucketStream(bucket),
  description: `Argus KV bucket ${bucket}`,
  subjects: [`$KV.${bucket}.>`],
  retention: RetentionPolicy.Limits,
  storage: StorageType.File,
  num_replicas: options.replicas ?? 1,
  max_msgs_per_subject: 1,
  max_msg_size: options.maxValueBytes ?? -1,
  max_bytes: options.maxBytes ?? defaultMaxBytes(bucket),
  discard: DiscardPolicy.New,
  duplicate_window: KV_DUPLICATE_WINDOW_NANOS,
  allow_rollup_hdrs: false,
  deny_delete: true,
  deny_purge: true,
  allow_direct: true,
});

/**
 * What makes an existing bucket stream unsafe to use: anything that copies its messages elsewhere
 * (republish, another stream sourcing or mirrored into it), subjects beyond its own keys (a stream
 * created by someone else to capture other subjects), or roll-ups/purges a key writer could use to
 * erase keys that are not its own. Each is a way one agent could read or wipe another's state.
 */
export const bucketDrift = (bucket: string, actual: StreamConfig): StreamDrift[] => {
  const drift: StreamDrift[] = [];
  const subjects = [`$KV.${bucket}.>`];
  const actualSubjects = actual.subjects ?? [];
  if (actualSubjects.length !== 1 || actualSubjects[0] !== subjects[0]) {
    drift.push({
      field: 'subjects',
      expected: subjects.join(','),
      actual: actualSubjects.join(','),
      breaking: true,
    });
  }
  if (actual.republish !== undefined) {
    drift.push({
      field: 'republish',
      expected: 'none',
      actual: `${actual.republish.src ?? ''} -> ${actual.republish.dest}`,
      breaking: true,
    });
  }
  if (actual.mirror !== undefined && actual.mirror !== null) {
    drift.push({ field: 'mirror', expected: 'none', actual: actual.mirror.name, breaking: true });
  }
  if ((actual.sources ?? []).length > 0) {
    drift.push({
      field: 'sources',
      expected: 'none',
      actual: (actual.sources ?? []).map((s) => s.name).join(','),
      breaking: true,
    });
  }
  if (actual.allow_rollup_hdrs) {
    drift.push({ field: 'allow_rollup_hdrs', expected: 'false', actual: 'true', breaking: true });
  }
  if (!actual.deny_purge) {
    drift.push({ field: 'deny_purge', expected: 'true', actual: 'false', breaking: true });
  }
  if (!actual.deny_delete) {
    drift.push({ field: 'deny_delete', expected: 'true', actual: 'false', breaking: true });
  }
  return drift;
};

/** `true` for JetStream's answer that a stream (or a bucket's stream) does not exist. */
export const isStreamNotFound = (error: unknown): boolean =>
  error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;

/** `true` for the server's refusal of a subject these credentials may not publish (or request) on. */
export const isPermissionViolation = (error: unknown): boolean =>
  error instanceof PermissionViolationError ||
  (error instanceof Error && error.cause instanceof PermissionViolationError);

const streamInfo = async (jsm: JetStreamManager, stream: string): Promise<StreamInfo | undefined> => {
  try {
    return await jsm.streams.info(stream);
  } catch (error) {
    if (isStreamNotFound(error)) return undefined;
    throw error;
  }
};

/** Fields `ensureBucket` may turn safe in place (a bucket made by an earlier Argus with `Kvm.create`). */
const FIXABLE = new Set(['allow_rollup_hdrs', 'deny_purge', 'deny_delete']);

/**
 * Creates a bucket that is absent, or checks one that exists: an older Argus bucket (roll-ups allowed)
 * is updated to refuse roll-ups, purges and deletes; one that copies its messages elsewhere or
 * captures other subjects throws `StreamDriftError` naming the field (delete it and restart).
 * For the hub or an operator's setup step: agents hold no right to create or change streams.
 */
export const ensureBucket = async (
  jsm: JetStreamManager,
  bucket: string,
  options: BucketOptions = {},
): Promise<'created' | 'updated' | 'exists'> => {
  const config = bucketConfig(bucket, options);
  const info = await streamInfo(jsm, config.name);
  if (info === undefined) {
    try {
      await jsm.streams.add(config);
      return 'created';
    } catch (error) {
      // Another hub replica created it first: check it like any existing bucket.
      if (!(error instanceof JetStreamApiError && error.code === STREAM_NAME_IN_USE)) throw error;
      return ensureBucket(jsm, bucket, options);
    }
  }
  const drift = bucketDrift(bucket, info.config);
  // A bucket of an Argus without storage limits gets one; an operator's own limit is left alone.
  const unlimited = info.config.max_bytes === -1;
  if (drift.length === 0 && !unlimited) return 'exists';
  const unfixable = drift.filter((d) => !FIXABLE.has(d.field));
  if (unfixable.length > 0) throw new StreamDriftError(config.name, unfixable);
  await jsm.streams.update(config.name, {
    ...info.config,
    allow_rollup_hdrs: false,
    deny_purge: true,
    deny_delete: true,
    max_bytes: unlimited ? (config.max_bytes ?? -1) : info.config.max_bytes,
  });
  return 'updated';
};

/**
 * Opens a bucket for use, after checking that its stream is safe (`bucketDrift`): a process never
 * writes its state into a stream someone else shaped. An absent bucket is created when these
 * credentials may (a development server without permissions); otherwise `BucketMissingError` says
 * who creates it.
 */
export const openBucket = async (
  nc: NatsConnection,
  bucket: string,
  options: BucketOptions = {},
): Promise<KV> => {
  const jsm = await jetStreamManagerOf(nc);
  const stream = bucketStream(bucket);
  let info = await streamInfo(jsm, stream);
  if (info === undefined) {
    try {
      await ensureBucket(jsm, bucket, options);
    } catch (error) {
      if (isPermissionViolation(error)) throw new BucketMissingError(bucket, error);
      throw error;
    }
    info = await streamInfo(jsm, stream);
    if (info === undefined) throw new BucketMissingError(bucket);
  }
  const drift = bucketDrift(bucket, info.config);
  if (drift.length > 0) throw new StreamDriftError(stream, drift);
  return kvmOf(nc).open(bucket, { allow_direct: info.config.allow_direct });
};

/**
 * Opens a bucket that must already exist, without checking its configuration (for reading only, such
 * as the legacy progress bucket); `undefined` when it is absent. A permission violation is thrown.
 */
export const openExistingBucket = async (nc: NatsConnection, bucket: string): Promise<KV | undefined> => {
  const info = await streamInfo(await jetStreamManagerOf(nc), bucketStream(bucket));
  if (info === undefined) return undefined;
  return kvmOf(nc).open(bucket, { allow_direct: info.config.allow_direct });
};

const MESSAGE_ID_KEY = 'msg-id-key';
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * The publisher's secret for raw message ids (`rawMessageId`), kept in its own bucket so every
 * process of that publisher (restarts, other machines) uses the same one. Created on first use:
 * `create` fails if another process created it meanwhile, and then that one is read.
 */
export const messageIdKey = async (kv: KV): Promise<string> => {
  const read = async (): Promise<string | undefined> => {
    const entry = await kv.get(MESSAGE_ID_KEY);
    if (entry === null || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
    return decoder.decode(entry.value);
  };
  const existing = await read();
  if (existing !== undefined) return existing;
  try {
    const key = randomBytes(32).toString('hex');
    await kv.create(MESSAGE_ID_KEY, encoder.encode(key));
    return key;
  } catch (error) {
    const raced = await read();
    if (raced !== undefined) return raced;
    throw error;
  }
};
