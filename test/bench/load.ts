/**
 * The load the hub benchmarks put on CDEVENTS_RAW: realistic `service.deployed` events of Argo CD
 * (customData included), published as agents do (binary mode, message ids), in bulk or at a steady rate.
 */
import { rawMessage } from '@argus/bus';
import { type CDEvent, createEvent } from '@argus/cdevents';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { UnifiedWatch } from './shipped-hub.js';

/** Who publishes: the instance (the raw subject's token, bound to its credentials) and its cluster. */
export interface Publisher {
  readonly instance: string;
  readonly cluster: string;
}

export const BENCH_PUBLISHER: Publisher = { instance: 'bench', cluster: 'prod-eu' };

export const event = (i: number, run: string): CDEvent =>
  createEvent({
    type: 'service.deployed',
    id: `${run}-${i}`,
    source: `/argocd/prod-eu/apps/app-${i % 500}`,
    timestamp: new Date(Date.UTC(2026, 10, 24, 10, 0, 0, i)).toISOString(),
    subject: {
      id: `app-${i % 500}`,
      content: {
        environment: { id: 'prod-eu/apps', source: '/argocd/prod-eu' },
        artifactId: `pkg:helm/app-${i % 500}@1.${i}.0?repository_url=ghcr.io%2Facme%2Fcharts`,
      },
    },
    customData: {
      argocd: {
        app: `app-${i % 500}`,
        project: 'default',
        syncStatus: 'Synced',
        healthStatus: 'Healthy',
        historyId: i,
      },
    },
  });

/** `count` events, a window of 1,000 acknowledged publishes at a time. */
export const publishAll = async (
  js: JetStreamClient,
  count: number,
  run: string,
  from: Publisher = BENCH_PUBLISHER,
) => {
  const window = 1000;
  for (let start = 0; start < count; start += window) {
    const acks = [];
    for (let i = start; i < Math.min(start + window, count); i++) {
      const m = rawMessage(event(i, run), from);
      acks.push(js.publish(m.subject, m.data, { headers: m.headers, msgID: m.msgId }));
    }
    await Promise.all(acks);
  }
};

/** Publishes `rate` events/s (round robin over `publishers`), returns how many it sent; refusals land in `watch.refused` for `seconds` (ids prefixed by `run`), noting when each was sent in `watch`. */
export const publishSteady = async (
  js: JetStreamClient,
  watch: UnifiedWatch,
  run: string,
  rate: number,
  seconds: number,
  publishers: readonly Publisher[] = [BENCH_PUBLISHER],
) => {
  const total = rate * seconds;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const e = event(i, run);
    const m = rawMessage(e, publishers[i % publishers.length] ?? BENCH_PUBLISHER);
    watch.sentAt.set(e.context.id, performance.now());
    js.publish(m.subject, m.data, { headers: m.headers, msgID: m.msgId }).catch((error: unknown) => {
      // Refused (CDEVENTS_RAW full: the hub is behind): an agent would retry; the run reports it.
      watch.sentAt.delete(e.context.id);
      watch.refused.push(error instanceof Error ? error.message : String(error));
    });
  }
  return total;
};
