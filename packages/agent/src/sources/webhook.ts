import type { IncomingMessage } from 'node:http';
import { destinationClaim, isPayloadTooLarge, publishRaw } from '@argus/bus';
import {
  AdmissionError,
  type AdmissionLimits,
  admitHttpEvents,
  maxHttpBodyBytes,
  metricTypeLabel,
} from '@argus/cdevents';
import { answerJson, type ExtraRoute, HttpProblem, type Logger, receiverRoute } from '@argus/runtime';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { AgentMetrics } from '../metrics.js';
import { IN_CLUSTER_NAME, IN_CLUSTER_SERVER } from '../transitions/context.js';
import { notificationsVerifier, receive } from './receiver.js';

export const WEBHOOK_PATH = '/api/v1/notifications';

export interface WebhookReceiverConfig {
  readonly js: JetStreamClient;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly instance: string;
  /** Required `Authorization: Bearer` token; when absent, any caller that can reach the listener may post. */
  readonly token?: string | undefined;
  /** Cluster name for `in-cluster` destinations. */
  readonly inClusterName: string;
  /**
   * The admission rules: give it the hub's (`--max-event-bytes`, `--max-event-age`,
   * `--max-event-lead`), so what the hub would dead-letter is refused while the sender listens.
   */
  readonly limits: AdmissionLimits;
  /** The agent's secret for raw message ids (`ProgressStore.messageIdKey`). */
  readonly msgIdKey?: string | undefined;
}

/** An HTTP request's headers as `destinationClaim` reads them. */
const httpHeaders = (req: IncomingMessage) => ({
  get: (name: string): string | undefined => {
    const value = req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  },
});

/**
 * Receives what Argo CD Notifications posts (structured CDEvent JSON from the templates in
 * deploy/argocd-notifications, or CloudEvents binary mode), admits it by the rules every entry point
 * shares (`admitHttpEvents`) and publishes it. 202 only after JetStream acknowledged it; 400 or 413
 * with the admission's reason; 503 while NATS is away (Notifications retries). The template's
 * `Argus-Destination-Cluster` header (or `Argus-Cluster`, as 0.1 templates send it) names the destination.
 */
export const webhookRoute = (config: WebhookReceiverConfig): ExtraRoute => {
  const logger = config.logger.child({ component: 'webhook' });
  const verifier = notificationsVerifier(config.token);
  const onRefused = (problem: HttpProblem) =>
    logger.info({ status: problem.status, reason: problem.body.reason }, 'notification refused');
  return receiverRoute(
    WEBHOOK_PATH,
    async (req, res) => {
      const body = await receive(verifier, req, maxHttpBodyBytes(req.headers['content-type'], config.limits));
      const events = admitHttpEvents(
        { headers: req.headers as Record<string, string | string[] | undefined>, body },
        config.limits,
      );
      if (events instanceof AdmissionError) {
        throw new HttpProblem(events.status, events.message, events.answerFields());
      }
      const destination = destinationClaim(httpHeaders(req));
      const cluster =
        destination === undefined || destination === IN_CLUSTER_NAME || destination === IN_CLUSTER_SERVER
          ? config.inClusterName
          : destination;
      try {
        const acks = await Promise.all(
          events.map(({ event }) =>
            publishRaw(config.js, event, { instance: config.instance, cluster, msgIdKey: config.msgIdKey }),
          ),
        );
        for (const { event } of events)
          config.metrics.events.inc({ type: metricTypeLabel(event.context.type) });
        const duplicates = acks.filter((a) => a.duplicate).length;
        logger.debug({ events: events.length, duplicates }, 'notification published');
        answerJson(res, 202, { accepted: events.length, duplicates });
      } catch (err) {
        config.metrics.publishErrors.inc();
        if (isPayloadTooLarge(err)) {
          throw new HttpProblem(413, err.message, { reason: 'too-large', maxPayload: err.maxPayload });
        }
        logger.warn({ err }, 'notification not published: JetStream unavailable');
        throw new HttpProblem(503, 'the event bus is not available; retry later');
      }
    },
    onRefused,
  );
};
