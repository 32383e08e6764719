import type { AgentHeartbeat } from '@argus/bus';
import { type Logger, type LongRunning, PeriodicTask, READY, type Readiness } from '@argus/runtime';
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
export class Heartbeat extends PeriodicTask implements LongRunning {
  readonly #config: HeartbeatConfig;

  constructor(config: HeartbeatConfig) {
    super(config.intervalMs ?? DEFAULT_HEARTBEAT_MS);
    this.#config = config;
  }

  /** The first beat, then one per interval. */
  override async start(): Promise<void> {
    await this.beat();
    super.start();
  }

  /** Writes now, even while a timed beat is in progress: the state just changed. */
  async beat(): Promise<void> {
    try {
      await writeHeartbeat(this.#config.kv, { ...this.#config.state(), lastSeen: new Date().toISOString() });
    } catch (err) {
      this.#config.logger.debug({ err }, 'heartbeat not written (NATS unavailable?)');
    }
  }

  /** Always ready: a missed beat is skipped, and NATS's own state is /readyz's NATS reason. */
  status(): Readiness {
    return READY;
  }

  protected tick(): Promise<void> {
    return this.beat();
  }
}
