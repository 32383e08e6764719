import { jetStreamOf } from '@argus/bus';
import type { AdmissionLimits } from '@argus/cdevents';
import type { ExtraRoute, Logger } from '@argus/runtime';
import type { NatsConnection } from '@nats-io/nats-core';
import type { AgentMetrics } from './metrics.js';
import { applicationWebhookRoute, NotificationsAppSource } from './sources/notifications.js';
import { webhookRoute } from './sources/webhook.js';
import { ProgressStore } from './state/progress-store.js';

export interface WebhookRunnerConfig {
  readonly nc: NatsConnection;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly instance: string;
  /** Required `Authorization: Bearer` token of both receivers (`--webhook-token`). */
  readonly token: string | undefined;
  /** Cluster name for `in-cluster` destinations. */
  readonly inClusterName: string;
  /** The hub's admission rules (`--max-event-bytes`, `--max-event-age`, `--max-event-lead`). */
  readonly limits: AdmissionLimits;
  /** JetStream replicas of the progress bucket, should the agent create it. */
  readonly replicas: number;
}

/** What `--source webhook` runs: the source the Agent follows and the HTTP routes that feed it. */
export interface WebhookRunner {
  readonly source: NotificationsAppSource;
  readonly routes: readonly ExtraRoute[];
}

/**
 * `--source webhook`: two receivers. Applications (the shipped templates) go to a source the Agent
 * follows with its progress, like the API and Kubernetes sources; ready CDEvents (templates that
 * render them, other producers) are checked and forwarded as they are, with the agent's message ids.
 */
export const webhookRunner = async (config: WebhookRunnerConfig): Promise<WebhookRunner> => {
  const store = await ProgressStore.open(config.nc, config.instance, config.replicas);
  const source = new NotificationsAppSource();
  return {
    source,
    routes: [
      applicationWebhookRoute({
        source,
        logger: config.logger,
        token: config.token,
        maxBytes: config.limits.maxEventBytes,
      }),
      webhookRoute({
        js: jetStreamOf(config.nc),
        logger: config.logger,
        metrics: config.metrics,
        instance: config.instance,
        token: config.token,
        inClusterName: config.inClusterName,
        limits: config.limits,
        msgIdKey: store.messageIdKey,
      }),
    ],
  };
};
