import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The agent's /readyz as a gauge (startHealthServer's readyMetric). */
export const AGENT_READY_METRIC = 'argus_agent_ready';

export class AgentMetrics {
  readonly registry = new Registry();
  readonly events = new Counter({
    name: 'argus_agent_events_total',
    help: 'CDEvents published, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'argus_agent_duplicates_total',
    help: 'Publishes JetStream acknowledged as duplicates (Nats-Msg-Id already in its window): repeats absorbed',
    registers: [this.registry],
  });
  readonly publishSeconds = new Histogram({
    name: 'argus_agent_publish_seconds',
    help: 'Time from JetStream publish to its ack',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly spoolDepth = new Gauge({
    name: 'argus_agent_spool_depth',
    help: 'Events in the on-disk spool waiting for JetStream',
    registers: [this.registry],
  });
  readonly reconnects = new Counter({
    name: 'argus_agent_source_reconnects_total',
    help: 'Reconnections to the Argo CD source',
    registers: [this.registry],
  });
  readonly apps = new Gauge({
    name: 'argus_agent_apps',
    help: 'Applications being watched',
    registers: [this.registry],
  });
  readonly publishErrors = new Counter({
    name: 'argus_agent_publish_errors_total',
    help: 'Failed publish attempts (each retried)',
    registers: [this.registry],
  });
  readonly historyTrimmedUnseen = new Counter({
    name: 'argus_agent_history_trimmed_unseen_total',
    help: 'Argo CD history entries trimmed (revisionHistoryLimit) before the agent saw them: deployments never reported',
    registers: [this.registry],
  });
  readonly historyRestarts = new Counter({
    name: 'argus_agent_history_restarts_total',
    help: 'Apps whose history restarted at id 0 (emptied, or status lost by a replace)',
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'argus_agent_dead_letters_total',
    help: 'Events that can never be published (e.g. larger than the NATS max_payload), kept in the spool directory',
    labelNames: ['reason'],
    registers: [this.registry],
  });
}
