import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { AGENTS_BUCKET, MAX_HEARTBEAT_BYTES, openBucket, openExistingBucket } from './buckets.js';
import { isToken } from './subjects.js';

/** The heartbeat an agent writes into `argus_agents` under its instance id. */
export interface AgentHeartbeat {
  readonly instance: string;
  readonly architecture: string;
  readonly source: string;
  readonly version: string;
  readonly clusters: readonly string[];
  readonly apps: number;
  readonly startedAt: string;
  readonly lastSeen: string;
  readonly spoolDepth: number;
}

const KEY_SAFE = /[^-/_=.a-zA-Z0-9]/g;
/** A KV key token for a free-form value. */
export const kvKeyPart = (value: string): string => value.replace(KEY_SAFE, '_');

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The heartbeat bucket, checked (`openBucket`); the hub creates it, agents only put their own key. */
export const openAgentsBucket = (nc: NatsConnection, replicas = 1): Promise<KV> =>
  openBucket(nc, AGENTS_BUCKET, { replicas, maxValueBytes: MAX_HEARTBEAT_BYTES });

export const writeHeartbeat = async (kv: KV, heartbeat: AgentHeartbeat): Promise<void> => {
  await kv.put(kvKeyPart(heartbeat.instance), encoder.encode(JSON.stringify(heartbeat)));
};

const isHeartbeat = (value: unknown): value is AgentHeartbeat => {
  if (typeof value !== 'object' || value === null) return false;
  const h = value as Record<string, unknown>;
  return typeof h.instance === 'string' && typeof h.lastSeen === 'string' && Array.isArray(h.clusters);
};

/** A heartbeat entry the hub did not take, and why (logged by the caller). */
export interface RefusedHeartbeat {
  readonly key: string;
  readonly reason: 'not-json' | 'not-a-heartbeat' | 'instance-mismatch';
}

/**
 * Every agent's latest heartbeat, with the instance taken from the key: NATS permissions let an agent
 * write only the key named after it, while the value is whatever it wrote. An entry whose value names
 * another instance is refused (one agent posing as another), as is one that is not a heartbeat; they
 * are returned in `refused` rather than hiding the others. An absent bucket is no heartbeat.
 */
export const readHeartbeatsChecked = async (
  nc: NatsConnection,
): Promise<{ heartbeats: AgentHeartbeat[]; refused: RefusedHeartbeat[] }> => {
  const kv = await openExistingBucket(nc, AGENTS_BUCKET);
  const heartbeats: AgentHeartbeat[] = [];
  const refused: RefusedHeartbeat[] = [];
  if (kv === undefined) return { heartbeats, refused };
  for await (const key of await kv.keys()) {
    const entry = await kv.get(key);
    if (entry === null || entry.operation !== 'PUT') continue;
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(entry.value));
    } catch {
      refused.push({ key, reason: 'not-json' });
      continue;
    }
    if (!isHeartbeat(value) || !isToken(key)) refused.push({ key, reason: 'not-a-heartbeat' });
    else if (value.instance !== key) refused.push({ key, reason: 'instance-mismatch' });
    else heartbeats.push(value);
  }
  heartbeats.sort((a, b) => a.instance.localeCompare(b.instance));
  return { heartbeats, refused };
};

/** Every agent's latest heartbeat that passes `readHeartbeatsChecked`. */
export const readHeartbeats = async (nc: NatsConnection): Promise<AgentHeartbeat[]> =>
  (await readHeartbeatsChecked(nc)).heartbeats;
