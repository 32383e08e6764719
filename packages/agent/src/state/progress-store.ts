import type { KV } from '@nats-io/kv';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { AppProgress } from '../transitions/detect.js';
import { EMPTY_ENVIRONMENTS, type EnvironmentsState } from '../transitions/environments.js';

/** One bucket for every agent; each agent's keys start with its instance id (NATS permissions can pin that). */
export const PROGRESS_BUCKET = 'argus_agent_progress';
export const AGENTS_BUCKET = 'argus_agents';

const KEY_SAFE = /[^-/_=.a-zA-Z0-9]/g;
const keyPart = (value: string): string => value.replace(KEY_SAFE, '_');

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
    return `${keyPart(this.#instance)}.app.${keyPart(uid)}`;
  }

  async loadApps(): Promise<Map<string, AppProgress>> {
    const apps = new Map<string, AppProgress>();
    const prefix = `${keyPart(this.#instance)}.app.`;
    const keys: string[] = [];
    for await (const key of await this.#kv.keys(`${prefix}>`)) keys.push(key);
    for (const key of keys) {
      const entry = await this.#kv.get(key);
      if (entry === null || entry.operation !== 'PUT') continue;
      const progress = JSON.parse(decoder.decode(entry.value)) as AppProgress;
      if (progress.v === 1) apps.set(progress.uid, progress);
    }
    return apps;
  }

  async loadEnvironments(): Promise<EnvironmentsState> {
    const entry = await this.#kv.get(`${keyPart(this.#instance)}.environments`);
    if (entry === null || entry.operation !== 'PUT') return EMPTY_ENVIRONMENTS;
    return JSON.parse(decoder.decode(entry.value)) as EnvironmentsState;
  }

  async saveApp(progress: AppProgress): Promise<void> {
    await this.#kv.put(this.#appKey(progress.uid), encoder.encode(JSON.stringify(progress)));
  }

  async saveEnvironments(state: EnvironmentsState): Promise<void> {
    await this.#kv.put(`${keyPart(this.#instance)}.environments`, encoder.encode(JSON.stringify(state)));
  }
}

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

export const openAgentsBucket = (nc: NatsConnection, replicas = 1): Promise<KV> =>
  new Kvm(nc).create(AGENTS_BUCKET, { history: 1, replicas });

export const writeHeartbeat = async (kv: KV, heartbeat: AgentHeartbeat): Promise<void> => {
  await kv.put(keyPart(heartbeat.instance), encoder.encode(JSON.stringify(heartbeat)));
};
