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

/**
 * Publishes still awaiting their ack, at most: beyond, the publisher waits (and falls behind schedule,
 * which the run reports) instead of queueing without bound in this process.
 */
const MAX_UNACKED = 5000;
/**
 * Longest stretch of publishing without giving the event loop a turn, in ms. A loop behind schedule
 * that never yielded read nothing from its socket: at 30k/s it held the loop for 13.7 s, nats-server
 * closed the connection as a slow consumer (its 10 s write deadline) and the pending flush rejected
 * with `RequestError: connection disconnected`, which ended a 5-minute soak.
 */
const YIELD_EVERY_MS = 20;
/** How long a failed publish is retried (same message id, so JetStream absorbs repeats), in ms. */
const RETRY_FOR_MS = 60_000;
const RETRY_INITIAL_MS = 100;
const RETRY_MAX_MS = 5000;

/** What a steady publisher did: how many events JetStream acknowledged, what failed on the way. */
export interface SteadyRun {
  /** Events JetStream acknowledged (after retries): each must reach the unified stream once. */
  readonly acked: number;
  /** Events still unacknowledged after RETRY_FOR_MS of retries: maybe stored, maybe not. */
  readonly gaveUp: number;
  /** Failed attempts (each retried or given up on), by error: class and message. */
  readonly failures: ReadonlyMap<string, number>;
  /** How far the publisher fell behind its schedule at most, in ms (the load generator's own limit). */
  readonly maxBehindMs: number;
  readonly seconds: number;
}

const reasonOf = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/**
 * Publishes `rate` events/s for `seconds` (round robin over `publishers`, ids prefixed by `run`),
 * noting when each was sent in `watch`. A refused or unanswered publish is retried with backoff, as an
 * agent does, and counted; a disconnect of this process's connection slows the run, never ends it.
 * Resolves once every publish is acknowledged or given up on.
 */
export const publishSteady = async (
  js: JetStreamClient,
  watch: UnifiedWatch,
  run: string,
  rate: number,
  seconds: number,
  publishers: readonly Publisher[] = [BENCH_PUBLISHER],
): Promise<SteadyRun> => {
  const total = rate * seconds;
  const started = performance.now();
  const unacked = new Set<Promise<void>>();
  const failures = new Map<string, number>();
  let acked = 0;
  let gaveUp = 0;
  let maxBehindMs = 0;
  let lastYield = performance.now();
  let slotFreed: (() => void) | undefined;
  const publishOne = async (i: number): Promise<void> => {
    const e = event(i, run);
    const m = rawMessage(e, publishers[i % publishers.length] ?? BENCH_PUBLISHER);
    const giveUpAt = performance.now() + RETRY_FOR_MS;
    // Latency counts from the first attempt, as an agent's user would see it.
    watch.sentAt.set(e.context.id, performance.now());
    for (let delay = RETRY_INITIAL_MS; ; delay = Math.min(RETRY_MAX_MS, delay * 2)) {
      try {
        await js.publish(m.subject, m.data, { headers: m.headers, msgID: m.msgId });
        acked++;
        return;
      } catch (error) {
        const reason = reasonOf(error);
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
        if (performance.now() + delay > giveUpAt) {
          watch.sentAt.delete(e.context.id);
          gaveUp++;
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const now = performance.now();
    maxBehindMs = Math.max(maxBehindMs, now - due);
    if (due - now > 1) {
      await new Promise((r) => setTimeout(r, due - now));
      lastYield = performance.now();
    } else if (now - lastYield > YIELD_EVERY_MS) {
      await new Promise((r) => setImmediate(r));
      lastYield = performance.now();
    }
    // One waiter woken by the next ack: a race over the 5,000 promises in hand cost 5,000 reactions a
    // publish whenever the acks fell behind.
    while (unacked.size >= MAX_UNACKED) await new Promise<void>((resolve) => (slotFreed = resolve));
    const p = publishOne(i).finally(() => {
      unacked.delete(p);
      slotFreed?.();
      slotFreed = undefined;
    });
    unacked.add(p);
  }
  await Promise.all(unacked);
  return { acked, gaveUp, failures, maxBehindMs, seconds: (performance.now() - started) / 1000 };
};

/** One line on a steady run's failures (empty when there were none). */
export const describeFailures = (r: SteadyRun): string =>
  r.failures.size === 0
    ? 'every publish acknowledged at the first attempt'
    : `${[...r.failures.values()].reduce((a, b) => a + b, 0)} failed publish attempts, retried with the same message id (${[...r.failures].map(([why, n]) => `${n} x ${why}`).join('; ')}); ${r.gaveUp} given up after ${RETRY_FOR_MS / 1000} s`;
