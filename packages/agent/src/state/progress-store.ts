import { kvKeyPart } from '@argus/bus';
import type { KV } from '@nats-io/kv';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { EMPTY_ENVIRONMENTS, type EnvironmentsState } from '../transitions/environments.js';
import { type AppProgress, readProgress } from '../transitions/progress.js';

/** One bucket for every agent; each agent's keys start with its instance id (NATS permissions can pin that). */
export const PROGRESS_BUCKET = 'argus_agent_progress';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * What an agent has emitted, per app, in NATS KV: `<instance>.app.<uid>` and `<instance>.environments`.
 * Read once at start, written after each publish is acknowledged, so another process (on another
 * machine) resumes where this one stopped.
 */
export class ProgressStore {
  readonly #kv: KV;
  readonly #instance: string;

  private constructor(kv: KV, instance: string) {
    this.#kv = kv;
    this.#instance = instance;
  }

  static async open(nc: NatsConnection, instance: string, replicas = 1): Promise<ProgressStore> {
    const kv = await new Kvm(nc).create(PROGRESS_BUCKET, { history: 1, replicas });
    return new ProgressStore(kv, instance);
  }

  #appKey(uid: string): string {
    return `${kvKeyPart(this.#instance)}.app.${kvKeyPart(uid)}`;
  }

  async loadApps(): Promise<Map<string, AppProgress>> {
    const apps = new Map<string, AppProgress>();
    const prefix = `${kvKeyPart(this.#instance)}.app.`;
    const keys: string[] = [];
    for await (const key of await this.#kv.keys(`${prefix}>`)) keys.push(key);
    for (const key of keys) {
      const entry = await this.#kv.get(key);
      if (entry === null || entry.operation !== 'PUT') continue;
      const progress = readProgress(JSON.parse(decoder.decode(entry.value)) as unknown);
      if (progress !== undefined) apps.set(progress.uid, progress);
    }
    return apps;
  }

  async loadEnvironments(): Promise<EnvironmentsState> {
    const entry = await this.#kv.get(`${kvKeyPart(this.#instance)}.environments`);
    if (entry === null || entry.operation !== 'PUT') return EMPTY_ENVIRONMENTS;
    return JSON.parse(decoder.decode(entry.value)) as EnvironmentsState;
  }

  async saveApp(progress: AppProgress): Promise<void> {
    await this.#kv.put(this.#appKey(progress.uid), encoder.encode(JSON.stringify(progress)));
  }

  async saveEnvironments(state: EnvironmentsState): Promise<void> {
    await this.#kv.put(`${kvKeyPart(this.#instance)}.environments`, encoder.encode(JSON.stringify(state)));
  }
}

// The heartbeat contract lives in @argus/bus (the hub reads it); re-exported for the agent's users.
export type { AgentHeartbeat } from '@argus/bus';
export { AGENTS_BUCKET, openAgentsBucket, writeHeartbeat } from '@argus/bus';
