import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { type StreamDrift, StreamDriftError, StreamLimitError } from './errors.js';
import { DLQ_SUBJECT_PREFIX, RAW_SUBJECT_PREFIX, UNIFIED_SUBJECT_PREFIX } from './subjects.js';

export const RAW_STREAM = 'CDEVENTS_RAW';
export const UNIFIED_STREAM = 'CDEVENTS';
export const DLQ_STREAM = 'CDEVENTS_DLQ';
export const HUB_CONSUMER = 'argus-hub';

const MINUTE_MS = 60_000;
/** JetStream API error code: a stream of that name exists with another configuration. */
export const STREAM_NAME_IN_USE = 10058;
/** JetStream API error code: the stream's max_bytes does not fit what the server or account has left. */
const INSUFFICIENT_RESOURCES = 10047;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** The raw stream's de-duplication window must cover agent retries and restarts. */
export const MIN_DUPLICATE_WINDOW_MS = 10 * MINUTE_MS;
export const DEFAULT_DUPLICATE_WINDOW_MS = 15 * MINUTE_MS;
export const DEFAULT_RAW_MAX_AGE_MS = 7 * DAY_MS;
export const DEFAULT_UNIFIED_MAX_AGE_MS = 30 * DAY_MS;
export const DEFAULT_DLQ_MAX_AGE_MS = 30 * DAY_MS;
const MIB = 1024 * 1024;
/**
 * Storage limits (adversarial review 2, finding 19: without them 2,500 junk messages took 4.5 GB,
 * raw and dead letters, and a full JetStream store stalled everyone). JetStream reserves each
 * stream's max_bytes from the server's (or account's) max_file, so the streams and buckets must fit it
 * together: 3.3 GiB here, within the 4 GB the test kit gives a server and the 10 GB of deploy/nats.
 * An agent's raw message is about 0.9 KB (a deployment event with its headers): 1 GiB of raw holds
 * about 1.2 million events, 7 days at 170,000 a day; the unified stream is a feed (ClickHouse is the
 * record), dead letters are diagnostics.
 */
export const DEFAULT_RAW_MAX_BYTES = 1024 * MIB;
export const DEFAULT_UNIFIED_MAX_BYTES = 2048 * MIB;
export const DEFAULT_DLQ_MAX_BYTES = 256 * MIB;
/** How long the hub may hold a message before JetStream redelivers it (the hub sends progress meanwhile). */
export const DEFAULT_ACK_WAIT_MS = 30_000;
/**
 * The hub consumer's max_ack_pending: a backstop, not the bound. What a hub holds is bounded in bytes
 * by its budget (`--max-in-flight-bytes`): a count cannot bound memory (8,000 unacked messages of
 * 900 KB took a hub to 2.9 GB). And the count is shared by every replica bound to the consumer: a
 * hub holds up to four batches (three in flight, one filling), 8,000 messages at the default batch
 * size, which was the whole of the hub's former max(batch x 4, 1000), so a second replica got
 * nothing while the first was busy. 20,000 leaves room for two and a half hubs at full batches.
 */
export const DEFAULT_MAX_ACK_PENDING = 20_000;

export interface StreamOptions {
  /** Replicas of every stream (3 on a production JetStream cluster). @default 1 */
  readonly replicas?: number;
  /** @default 604800000 (7 days) */
  readonly rawMaxAgeMs?: number;
  /** @default 2592000000 (30 days) */
  readonly unifiedMaxAgeMs?: number;
  /** @default 2592000000 (30 days) */
  readonly dlqMaxAgeMs?: number;
  /** JetStream duplicate window of the raw and unified streams; at least 10 minutes. @default 900000 (15 min) */
  readonly duplicateWindowMs?: number;
  /** When full, new publishes are refused (publishers retry); the hub trims what it has consumed. @default DEFAULT_RAW_MAX_BYTES */
  readonly rawMaxBytes?: number;
  /** When full, the oldest events go. @default DEFAULT_UNIFIED_MAX_BYTES */
  readonly unifiedMaxBytes?: number;
  /** When full, the oldest dead letters go. @default DEFAULT_DLQ_MAX_BYTES */
  readonly dlqMaxBytes?: number;
}

const nanos = (ms: number): number => ms * 1_000_000;
const ms = (nanosValue: number): number => Math.round(nanosValue / 1_000_000);

export const streamConfigs = (
  options: StreamOptions = {},
): Record<string, Partial<StreamConfig> & { name: string }> => {
  const replicas = options.replicas ?? 1;
  const window = options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  if (window < MIN_DUPLICATE_WINDOW_MS) {
    throw new RangeError(
      `duplicateWindowMs must be at least ${MIN_DUPLICATE_WINDOW_MS} ms (10 minutes), got ${window}`,
    );
  }
  const base = {
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
  };
  return {
    [RAW_STREAM]: {
      ...base,
      name: RAW_STREAM,
      description: 'Argus: CDEvents as published by agents and the HTTP ingest, before validation',
      subjects: [`${RAW_SUBJECT_PREFIX}.>`],
      max_age: nanos(options.rawMaxAgeMs ?? DEFAULT_RAW_MAX_AGE_MS),
      max_bytes: options.rawMaxBytes ?? DEFAULT_RAW_MAX_BYTES,
      // Full: refuse the newest rather than drop the oldest, which may not be consumed yet. Publishers
      // retry (the agent's spool, the ingest's 503), and the hub frees room (`RawQuota`).
      discard: DiscardPolicy.New,
      duplicate_window: nanos(window),
    },
    [UNIFIED_STREAM]: {
      ...base,
      name: UNIFIED_STREAM,
      description: 'Argus: validated, de-duplicated, tagged CDEvents from every Argo CD (written by the hub)',
      subjects: [`${UNIFIED_SUBJECT_PREFIX}.>`],
      max_age: nanos(options.unifiedMaxAgeMs ?? DEFAULT_UNIFIED_MAX_AGE_MS),
      max_bytes: options.unifiedMaxBytes ?? DEFAULT_UNIFIED_MAX_BYTES,
      duplicate_window: nanos(window),
    },
    [DLQ_STREAM]: {
      ...base,
      name: DLQ_STREAM,
      description: 'Argus: messages the hub refused, with the original bytes and the reason',
      subjects: [`${DLQ_SUBJECT_PREFIX}.>`],
      max_age: nanos(options.dlqMaxAgeMs ?? DEFAULT_DLQ_MAX_AGE_MS),
      max_bytes: options.dlqMaxBytes ?? DEFAULT_DLQ_MAX_BYTES,
    },
  };
};

export interface ConsumerOptions {
  /** @default 'argus-hub' */
  readonly durableName?: string;
  /** @default 30000 */
  readonly ackWaitMs?: number;
  /** @default DEFAULT_MAX_ACK_PENDING (20000) */
  readonly maxAckPending?: number;
}

/** The hub's durable pull consumer: every replica binds to it, so JetStream splits the work. */
export const hubConsumerConfig = (
  options: ConsumerOptions = {},
): Partial<ConsumerConfig> & { durable_name: string } => ({
  durable_name: options.durableName ?? HUB_CONSUMER,
  description: 'Argus hub: validate, dedupe, tag, store, republish',
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  filter_subject: `${RAW_SUBJECT_PREFIX}.>`,
  ack_wait: nanos(options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
  // Never give up on a message: a message the hub cannot handle goes to the DLQ, it is never dropped.
  max_deliver: -1,
  max_ack_pending: options.maxAckPending ?? DEFAULT_MAX_ACK_PENDING,
});

const describeMs = (value: number): string => `${value} ms`;

/** Differences between a stream as it exists and as Argus wants it. */
export const streamDrift = (expected: Partial<StreamConfig>, actual: StreamConfig): StreamDrift[] => {
  const drift: StreamDrift[] = [];
  const expectedSubjects = expected.subjects ?? [];
  const missing = expectedSubjects.filter((s) => !(actual.subjects ?? []).includes(s));
  if (missing.length > 0) {
    drift.push({
      field: 'subjects',
      expected: expectedSubjects.join(','),
      actual: (actual.subjects ?? []).join(','),
      breaking: true,
    });
  }
  if (expected.retention !== undefined && actual.retention !== expected.retention) {
    drift.push({
      field: 'retention',
      expected: expected.retention,
      actual: actual.retention,
      breaking: true,
    });
  }
  if (expected.duplicate_window !== undefined && actual.duplicate_window < nanos(MIN_DUPLICATE_WINDOW_MS)) {
    drift.push({
      field: 'duplicate_window',
      expected: `>= ${describeMs(MIN_DUPLICATE_WINDOW_MS)}`,
      actual: describeMs(ms(actual.duplicate_window)),
      breaking: true,
    });
  } else if (
    expected.duplicate_window !== undefined &&
    actual.duplicate_window !== expected.duplicate_window
  ) {
    drift.push({
      field: 'duplicate_window',
      expected: describeMs(ms(expected.duplicate_window)),
      actual: describeMs(ms(actual.duplicate_window)),
      breaking: false,
    });
  }
  if (expected.max_age !== undefined && actual.max_age !== expected.max_age) {
    drift.push({
      field: 'max_age',
      expected: describeMs(ms(expected.max_age)),
      actual: describeMs(ms(actual.max_age)),
      breaking: false,
    });
  }
  if (expected.max_bytes !== undefined && actual.max_bytes !== expected.max_bytes) {
    drift.push({
      field: 'max_bytes',
      expected: String(expected.max_bytes),
      actual: String(actual.max_bytes),
      breaking: false,
    });
  }
  if (expected.discard !== undefined && actual.discard !== expected.discard) {
    drift.push({ field: 'discard', expected: expected.discard, actual: actual.discard, breaking: false });
  }
  if (expected.storage !== undefined && actual.storage !== expected.storage) {
    drift.push({ field: 'storage', expected: expected.storage, actual: actual.storage, breaking: false });
  }
  if (expected.num_replicas !== undefined && actual.num_replicas !== expected.num_replicas) {
    drift.push({
      field: 'num_replicas',
      expected: String(expected.num_replicas),
      actual: String(actual.num_replicas),
      breaking: false,
    });
  }
  return drift;
};

export interface EnsureReport {
  readonly created: readonly string[];
  /** Streams of an earlier Argus that had no storage limit, given this one's (`max_bytes`, `discard`). */
  readonly limited: readonly string[];
  /** Non-breaking differences of existing streams (tuning an operator chose): reported, left alone. */
  readonly drift: readonly (StreamDrift & { readonly stream: string })[];
}

const isNotFound = (error: unknown): boolean =>
  error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;

/**
 * Creates the Argus streams that are absent. Existing streams are left as they are; their
 * differences are returned, and a breaking one (subjects not covered, another retention, a
 * duplicate window under 10 minutes) throws `StreamDriftError`: Argus would lose or repeat events.
 */
export const ensureStreams = async (
  jsm: JetStreamManager,
  options: StreamOptions = {},
): Promise<EnsureReport> => {
  const created: string[] = [];
  const limited: string[] = [];
  const drift: (StreamDrift & { stream: string })[] = [];
  for (const config of Object.values(streamConfigs(options))) {
    let info: StreamInfo | undefined;
    try {
      info = await jsm.streams.info(config.name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (info === undefined) {
      try {
        await jsm.streams.add(config);
        created.push(config.name);
      } catch (error) {
        if (error instanceof JetStreamApiError && error.code === INSUFFICIENT_RESOURCES) {
          throw new StreamLimitError(config.name, config.max_bytes ?? -1, error);
        }
        // Another replica created it first: fine, check it like any existing stream.
        if (!(error instanceof JetStreamApiError && error.code === STREAM_NAME_IN_USE)) throw error;
        info = await jsm.streams.info(config.name);
      }
    }
    if (info !== undefined && info.config.max_bytes === -1 && config.max_bytes !== undefined) {
      // Made by an Argus without storage limits: unbounded is never an operator's tuning, so the
      // limit is set in place (an operator's own max_bytes is left alone, reported as drift).
      info = await jsm.streams.update(config.name, {
        ...info.config,
        max_bytes: config.max_bytes,
        discard: config.discard ?? info.config.discard,
      });
      limited.push(config.name);
    }
    if (info !== undefined) {
      const differences = streamDrift(config, info.config);
      const breaking = differences.filter((d) => d.breaking);
      if (breaking.length > 0) throw new StreamDriftError(config.name, breaking);
      drift.push(...differences.map((d) => ({ ...d, stream: config.name })));
    }
  }
  return { created, limited, drift };
};

/** Creates the hub's durable consumer if absent, or checks that the existing one filters the raw stream. */
export const ensureHubConsumer = async (
  jsm: JetStreamManager,
  options: ConsumerOptions = {},
): Promise<string> => {
  const config = hubConsumerConfig(options);
  try {
    const info = await jsm.consumers.info(RAW_STREAM, config.durable_name);
    if (info.config.filter_subject !== undefined && info.config.filter_subject !== config.filter_subject) {
      throw new StreamDriftError(RAW_STREAM, [
        {
          field: `consumer ${config.durable_name} filter_subject`,
          expected: String(config.filter_subject),
          actual: info.config.filter_subject,
          breaking: true,
        },
      ]);
    }
    return config.durable_name;
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound))
      throw error;
  }
  await jsm.consumers.add(RAW_STREAM, config);
  return config.durable_name;
};
