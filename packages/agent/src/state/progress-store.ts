import {
  isPermissionViolation,
  isStreamNotFound,
  kvKeyPart,
  kvmOf,
  LEGACY_PROGRESS_BUCKET,
  messageIdKey,
  openBucket,
  progressBucket,
} from '@argus/bus';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { EMPTY_ENVIRONMENTS, type EnvironmentsState } from '../transitions/environments.js';
import { type AppProgress, readProgress } from '../transitions/progress.js';

/**
 * The bucket every agent shared before each got its own (`argus_agent_progress_<instance>`): read
 * once, by `ProgressStore.open`, when the agent's own bucket has not been migrated yet.
 */
export const PROGRESS_BUCKET = LEGACY_PROGRESS_BUCKET;

/** Set in an agent's own bucket once the legacy bucket has been read: it is never read again. */
const MIGRATED_KEY = 'migrated';
const ENVIRONMENTS_KEY = 'environments';
const APP_PREFIX = 'app.';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * What an agent has emitted, per app, in its own NATS KV bucket `argus_agent_progress_<instance>`:
 * `app.<uid>` and `environments`, plus the secret of its raw message ids. No other agent may read or
 * write that bucket (deploy/nats/accounts.conf), and its stream refuses roll-ups and purges.
 * Read once at start, written after each publish is acknowledged, so another process (on another
 * machine) resumes where this one stopped.
 */
export class ProgressStore {
  readonly #kv: KV;
  /** The secret of this agent's `Nats-Msg-Id`s (`rawMessageId`): the same for every process of it. */
  readonly messageIdKey: string;
  /** Keys copied from the legacy shared bucket at this open (0 when there was nothing to copy). */
  readonly migratedKeys: number;

  private constructor(kv: KV, key: string, migratedKeys: number) {
    this.#kv = kv;
    this.messageIdKey = key;
    this.migratedKeys = migratedKeys;
  }

  /**
   * Opens the agent's own bucket (the hub creates it; see `openBucket`), after checking that its
   * stream is safe, and copies the agent's keys from the legacy shared bucket the first time.
   */
  static async open(nc: NatsConnection, instance: string, replicas = 1): Promise<ProgressStore> {
    const kv = await openBucket(nc, progressBucket(instance), { replicas });
    const migrated = await migrateLegacy(nc, kv, instance);
    return new ProgressStore(kv, await messageIdKey(kv), migrated);
  }

  async loadApps(): Promise<Map<string, AppProgress>> {
    const apps = new Map<string, AppProgress>();
    const keys: string[] = [];
    for await (const key of await this.#kv.keys(`${APP_PREFIX}>`)) keys.push(key);
    for (const key of keys) {
      const entry = await this.#kv.get(key);
      if (entry === null || entry.operation !== 'PUT') continue;
      const progress = readProgress(JSON.parse(decoder.decode(entry.value)) as unknown);
      if (progress !== undefined) apps.set(progress.uid, progress);
    }
    return apps;
  }

  async loadEnvironments(): Promise<EnvironmentsState> {
    const entry = await this.#kv.get(ENVIRONMENTS_KEY);
    if (entry === null || entry.operation !== 'PUT') return EMPTY_ENVIRONMENTS;
    return JSON.parse(decoder.decode(entry.value)) as EnvironmentsState;
  }

  async saveApp(progress: AppProgress): Promise<void> {
    await this.#kv.put(`${APP_PREFIX}${kvKeyPart(progress.uid)}`, encoder.encode(JSON.stringify(progress)));
  }

  /** Several apps' progress at once: the writes are pipelined, and it resolves once all are stored. */
  async saveApps(progress: Iterable<AppProgress>): Promise<void> {
    await Promise.all(Array.from(progress, (p) => this.saveApp(p)));
  }

  async saveEnvironments(state: EnvironmentsState): Promise<void> {
    await this.#kv.put(ENVIRONMENTS_KEY, encoder.encode(JSON.stringify(state)));
  }
}

/**
 * Copies `<instance>.app.*` and `<instance>.environments` from the legacy shared bucket into the
 * agent's own bucket, once: keys the own bucket already has are kept (they are newer), and a
 * `migrated` key records that it was done. Credentials that may not read the legacy bucket leave it
 * for the next start, not marked: losing the progress would re-emit every event (deploy/nats keeps
 * the read rights until every agent has started once). Returns how many keys were copied.
 */
const migrateLegacy = async (nc: NatsConnection, own: KV, instance: string): Promise<number> => {
  const done = await own.get(MIGRATED_KEY);
  if (done !== null && done.operation === 'PUT') return 0;
  try {
    return await copyLegacy(nc, own, instance);
  } catch (error) {
    if (isPermissionViolation(error)) return 0;
    throw error;
  }
};

const copyLegacy = async (nc: NatsConnection, own: KV, instance: string): Promise<number> => {
  // Opened without STREAM.INFO, which agents may not call on it: its subjects filter would list every
  // agent's keys. Buckets made by earlier versions on nats-server >= 2.9 allow direct gets.
  const legacy = await kvmOf(nc).open(LEGACY_PROGRESS_BUCKET, { allow_direct: true });
  const prefix = `${kvKeyPart(instance)}.`;
  const keys: string[] = [];
  try {
    for await (const key of await legacy.keys(`${prefix}>`)) keys.push(key);
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
  }
  let copied = 0;
  for (const key of keys) {
    const entry = await legacy.get(key);
    if (entry === null || entry.operation !== 'PUT') continue;
    const ownKey = key.slice(prefix.length);
    const current = await own.get(ownKey);
    if (current !== null && current.operation === 'PUT') continue;
    await own.put(ownKey, entry.value);
    copied++;
  }
  await own.put(
    MIGRATED_KEY,
    encoder.encode(
      JSON.stringify({ from: LEGACY_PROGRESS_BUCKET, keys: copied, at: new Date().toISOString() }),
    ),
  );
  return copied;
};

// The heartbeat contract lives in @argus/bus (the hub reads it); re-exported for the agent's users.
export type { AgentHeartbeat } from '@argus/bus';
export { AGENTS_BUCKET, openAgentsBucket, writeHeartbeat } from '@argus/bus';
