import { readHeartbeats } from '@argus/bus';
import type { Logger } from '@argus/runtime';
import type { NatsConnection } from '@nats-io/nats-core';
import { Gauge, type Registry } from 'prom-client';

/** A scrape waits this long (ms) for the heartbeats, so NATS being away never hangs /metrics. */
const HEARTBEATS_READ_TIMEOUT_MS = 2_000;

/**
 * `argus_hub_agent_heartbeat_age_seconds{instance}`: how long ago each agent last wrote its heartbeat
 * (KV `argus_agents`), read at scrape time. It covers agents in clusters this Prometheus does not scrape.
 * The age is the hub's clock minus the agent's `lastSeen`. Nothing is exported while NATS is away
 * (argus_hub_ready says so).
 */
export const registerHeartbeatAge = (registry: Registry, nc: NatsConnection, logger: Logger): void => {
  new Gauge({
    name: 'argus_hub_agent_heartbeat_age_seconds',
    help: "Seconds since each agent's last heartbeat in the KV bucket argus_agents",
    labelNames: ['instance'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      let timer: NodeJS.Timeout | undefined;
      try {
        const heartbeats = await Promise.race([
          readHeartbeats(nc),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error('heartbeats not read in time')),
              HEARTBEATS_READ_TIMEOUT_MS,
            );
          }),
        ]);
        const now = Date.now();
        for (const h of heartbeats) {
          const seen = Date.parse(h.lastSeen);
          if (Number.isFinite(seen)) this.set({ instance: h.instance }, Math.max(0, (now - seen) / 1000));
        }
      } catch (err) {
        logger.debug({ err }, 'agent heartbeats not read for /metrics');
      } finally {
        clearTimeout(timer);
      }
    },
  });
};
