import type { AgentHeartbeat } from '@argus/bus';
import type { Logger } from '@argus/runtime';
import type { KV } from '@nats-io/kv';
import { DEFAULT_HEARTBEAT_MS } from './options.js';
import { writeHeartbeat } from './state/progress-store.js';

export interface HeartbeatConfig {
  /** The agents bucket (`openAgentsBucket`): one key per instance. */
  readonly kv: KV;
  readonly logger: Logger;
  /** @default DEFAULT_HEARTBEAT_MS */
  readonly intervalMs?: number | undefined;
  /** What the agent is and sees now; `lastSeen` is the time of the write. */
  readonly state: () => Omit<AgentHeartbeat, 'lastSeen'>;
}

/**
 * Writes the agent's heartbeat to NATS KV at start, on a timer, and whenever the agent has something
 * new to say (a list handled). A write that fails (NATS away) is skipped: the next beat says it all.
 */
export class Heartbeat {
  readonly #config: HeartbeatConfig;
  #timer: NodeJS.Timeout | undefined;

  constructor(config: HeartbeatConfig) {
    this.#config = config;
  }

  /** The first beat, then one per interval. */
  async start(): Promise<void> {
    await this.beat();
    this.#timer = setInterval(() => void this.beat(), this.#config.intervalMs ?? DEFAULT_HEARTBEAT_MS);
    this.#timer.unref();
  }

  async beat(): Promise<void> {
    try {
      await writeHeartbeat(this.#config.kv, { ...this.#config.state(), lastSeen: new Date().toISOString() });
    } catch (err) {
      this.#config.logger.debug({ err }, 'heartbeat not written (NATS unavailable?)');
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
