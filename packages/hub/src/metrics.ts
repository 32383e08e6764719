import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The hub's /readyz as a gauge (startHealthServer's readyMetric). */
export const HUB_READY_METRIC = 'argus_hub_ready';

/** The hub's Prometheus metrics, on their own registry (so tests and several hubs never collide). */
export class HubMetrics {
  readonly registry = new Registry();
  readonly consumed = new Counter({
    name: 'argus_hub_consumed_total',
    help: 'Raw messages consumed from CDEVENTS_RAW',
    registers: [this.registry],
  });
  readonly stored = new Counter({
    name: 'argus_hub_stored_total',
    help: 'Events stored in ClickHouse',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'argus_hub_duplicates_total',
    help: 'Repeats of an already stored event dropped by the hub, by the layer that caught them',
    labelNames: ['layer'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'argus_hub_dead_letters_total',
    help: 'Messages refused and sent to CDEVENTS_DLQ, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly republished = new Counter({
    name: 'argus_hub_republished_total',
    help: 'Events published on the unified stream CDEVENTS',
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({
    name: 'argus_hub_store_errors_total',
    help: 'Failed ClickHouse inserts (each retried until it succeeds)',
    registers: [this.registry],
  });
  readonly batchSeconds = new Histogram({
    name: 'argus_hub_batch_seconds',
    help: 'Time to process one batch: validate, dedupe, insert, republish, ack',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly stageSeconds = new Histogram({
    name: 'argus_hub_stage_seconds',
    help: 'Time per batch in each pipeline stage',
    labelNames: ['stage'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'argus_hub_batch_size',
    help: 'Messages per batch',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000],
    registers: [this.registry],
  });
  readonly consumerLag = new Gauge({
    name: 'argus_hub_consumer_pending',
    help: 'Messages in CDEVENTS_RAW not yet delivered to the hub consumer',
    registers: [this.registry],
  });
  readonly rawTrimmed = new Counter({
    name: 'argus_hub_raw_trimmed_bytes_total',
    help: 'Bytes of handled messages purged from a nearly full CDEVENTS_RAW, by the instance that held the most',
    labelNames: ['instance'] as const,
    registers: [this.registry],
  });
  readonly brokenParts = new Gauge({
    name: 'argus_hub_store_broken_parts',
    help: 'Parts ClickHouse detached as damaged (system.detached_parts), counted at start; their events are not queried',
    registers: [this.registry],
  });
  readonly ingestAccepted = new Counter({
    name: 'argus_hub_ingest_accepted_total',
    help: 'Events accepted by the HTTP ingest',
    labelNames: ['producer'] as const,
    registers: [this.registry],
  });
  readonly ingestRejected = new Counter({
    name: 'argus_hub_ingest_rejected_total',
    help: 'HTTP ingest requests refused, by status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
}

/** A plain snapshot of the counters, for `stats` queries and tests. */
export interface HubStats {
  readonly consumed: number;
  readonly stored: number;
  readonly duplicates: number;
  readonly deadLetters: number;
  readonly republished: number;
  readonly storeErrors: number;
}

/**
 * The pipeline's counts: each goes to the plain snapshot (`stats`) and to its Prometheus counter in
 * one call, so the two cannot disagree.
 */
export class PipelineCounts {
  readonly #metrics: HubMetrics;
  readonly #counts = {
    consumed: 0,
    stored: 0,
    duplicates: 0,
    deadLetters: 0,
    republished: 0,
    storeErrors: 0,
  };

  constructor(metrics: HubMetrics) {
    this.#metrics = metrics;
  }

  consumed(messages: number): void {
    this.#counts.consumed += messages;
    this.#metrics.consumed.inc(messages);
  }

  /** Stored rows by metric type label: one labelled increment per type and batch (prom-client hashes the labels on every call). */
  stored(byType: ReadonlyMap<string, number>): void {
    for (const [type, n] of byType) {
      this.#counts.stored += n;
      this.#metrics.stored.inc({ type }, n);
    }
  }

  duplicates(layer: 'recent' | 'store', n: number): void {
    if (n === 0) return;
    this.#counts.duplicates += n;
    this.#metrics.duplicates.inc({ layer }, n);
  }

  deadLetter(reason: string): void {
    this.#counts.deadLetters++;
    this.#metrics.deadLetters.inc({ reason });
  }

  republished(events: number): void {
    this.#counts.republished += events;
    this.#metrics.republished.inc(events);
  }

  storeError(): void {
    this.#counts.storeErrors++;
    this.#metrics.storeErrors.inc();
  }

  snapshot(): HubStats {
    return { ...this.#counts };
  }
}
