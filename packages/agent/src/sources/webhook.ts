import type { IncomingMessage, ServerResponse } from 'node:http';
import { HEADERS, isPayloadTooLarge, publishRaw } from '@argus/bus';
import {
  BindingError,
  fromHttp,
  metricTypeLabel,
  natsBinaryProblem,
  TimeRange,
  ValidationError,
} from '@argus/cdevents';
import type { ExtraRoute, Logger } from '@argus/runtime';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { AgentMetrics } from '../metrics.js';
import { IN_CLUSTER_NAME, IN_CLUSTER_SERVER } from '../transitions/context.js';
import { answer, notificationsVerifier, receive } from './receiver.js';

export const WEBHOOK_PATH = '/api/v1/notifications';

export interface WebhookReceiverConfig {
  readonly js: JetStreamClient;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly instance: string;
  readonly architecture: string;
  /** Required `Authorization: Bearer` token; when absent, any caller that can reach the listener may post. */
  readonly token?: string | undefined;
  /** Cluster name for `in-cluster` destinations. */
  readonly inClusterName: string;
  readonly maxEventBytes: number;
  /** Accepted `context.timestamp` range: 400 beyond it. Give it the hub's (`--max-event-age`, `--max-event-lead`). @default TimeRange's */
  readonly timeRange?: TimeRange | undefined;
  /** The agent's secret for raw message ids (`ProgressStore.messageIdKey`). */
  readonly msgIdKey?: string | undefined;
}

/**
 * Receives what Argo CD Notifications posts (structured CDEvent JSON from the templates in
 * deploy/argocd-notifications, or CloudEvents binary mode), validates it and publishes it.
 * 202 only after JetStream acknowledged it; 400 with the validation issues; 503 while NATS is away
 * (Notifications retries). The template's `Argus-Cluster` header names the destination.
 */
export const webhookRoute = (config: WebhookReceiverConfig): ExtraRoute => {
  const logger = config.logger.child({ component: 'webhook' });
  const verifier = notificationsVerifier(config.token);
  // What the hub would dead-letter for its time is refused while the sender listens.
  const timeRange = config.timeRange ?? new TimeRange();
  const rules = { path: WEBHOOK_PATH, token: config.token, maxBytes: config.maxEventBytes };
  return async (req: IncomingMessage, res: ServerResponse) => {
    const body = await receive(rules, verifier, req, res);
    if (body === 'other') return false;
    if (body === 'answered') return true;
    let events: ReturnType<typeof fromHttp>;
    try {
      events = fromHttp(
        {
          headers: req.headers as Record<string, string | string[] | undefined>,
          body,
        },
        { maxBytes: config.maxEventBytes },
      );
      // Refused while the sender listens, rather than accepted and dead-lettered by the hub.
      const now = Date.now();
      for (const { event } of events) {
        const problem = natsBinaryProblem(event);
        if (problem !== undefined) throw problem;
        const outOfRange = timeRange.check(event.context.timestamp, now);
        if (outOfRange !== undefined) {
          answer(res, 400, {
            error: outOfRange.message,
            reason: outOfRange.reason,
            earliest: outOfRange.earliest,
            latest: outOfRange.latest,
          });
          return true;
        }
      }
    } catch (error) {
      if (error instanceof ValidationError) {
        logger.info(
          { reason: error.reason, issues: error.issues },
          'notification refused: not a valid CDEvent',
        );
        answer(res, 400, { error: error.message, reason: error.reason, issues: error.issues });
        return true;
      }
      if (error instanceof BindingError) {
        answer(res, 400, { error: error.message, reason: error.reason });
        return true;
      }
      throw error;
    }
    const header = req.headers[HEADERS.cluster.toLowerCase()];
    const destination = Array.isArray(header) ? header[0] : header;
    const cluster =
      destination === undefined ||
      destination === '' ||
      destination === IN_CLUSTER_NAME ||
      destination === IN_CLUSTER_SERVER
        ? config.inClusterName
        : destination;
    try {
      const acks = await Promise.all(
        events.map(({ event }) =>
          publishRaw(config.js, event, {
            instance: config.instance,
            cluster,
            architecture: config.architecture,
            msgIdKey: config.msgIdKey,
          }),
        ),
      );
      for (const { event } of events)
        config.metrics.events.inc({ type: metricTypeLabel(event.context.type) });
      const duplicates = acks.filter((a) => a.duplicate).length;
      logger.debug({ events: events.length, duplicates }, 'notification published');
      answer(res, 202, { accepted: events.length, duplicates });
    } catch (err) {
      config.metrics.publishErrors.inc();
      if (isPayloadTooLarge(err)) {
        logger.info(
          { events: events.length, bytes: err.bytes, maxPayload: err.maxPayload },
          'notification refused: larger than the NATS max_payload',
        );
        answer(res, 413, { error: err.message, reason: 'too-large', maxPayload: err.maxPayload });
        return true;
      }
      logger.warn({ err }, 'notification not published: JetStream unavailable');
      answer(res, 503, { error: 'the event bus is unavailable; retry later' });
    }
    return true;
  };
};
