import type { KV } from '@nats-io/kv';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';

/** KV bucket of agent heartbeats: one key per instance, written by agents, read by the hub. */
export const AGENTS_BUCKET = 'argus_agents';

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

export const openAgentsBucket = (nc: NatsConnection, replicas = 1): Promise<KV> =>
  new Kvm(nc).create(AGENTS_BUCKET, { history: 1, replicas });

export const writeHeartbeat = async (kv: KV, heartbeat: AgentHeartbeat): Promise<void> => {
  await kv.put(kvKeyPart(heartbeat.instance), encoder.encode(JSON.stringify(heartbeat)));
};

const isHeartbeat = (value: unknown): value is AgentHeartbeat => {
  if (typeof value !== 'object' || value === null) return false;
  const h = value as Record<string, unknown>;
  return typeof h.instance === 'string' && typeof h.lastSeen === 'string' && Array.isArray(h.clusters);
};

/**
 * Every agent's latest heartbeat. An absent bucket (no agent has started yet) is no heartbeat;
 * an unreadable entry is skipped rather than hiding the others.
 */
export const readHeartbeats = async (nc: NatsConnection): Promise<AgentHeartbeat[]> => {
  let kv: KV;
  try {
    kv = await new Kvm(nc).open(AGENTS_BUCKET);
    await kv.status();
  } catch {
    return [];
  }
  const heartbeats: AgentHeartbeat[] = [];
  for await (const key of await kv.keys()) {
    const entry = await kv.get(key);
    if (entry === null || entry.operation !== 'PUT') continue;
    try {
      const value: unknown = JSON.parse(decoder.decode(entry.value));
      if (isHeartbeat(value)) heartbeats.push(value);
    } catch {
      // not JSON: written by something else; ignore it
    }
  }
  return heartbeats.sort((a, b) => a.instance.localeCompare(b.instance));
};
