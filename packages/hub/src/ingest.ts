import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPayloadTooLarge, isToken, publishRaw } from '@argus/bus';
import {
  AdmissionError,
  type AdmissionLimits,
  admitHttpEvents,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_BATCH_SIZE,
  maxHttpBodyBytes,
  type TimeRange,
} from '@argus/cdevents';
import type { ExtraRoute, Logger } from '@argus/runtime';
import {
  answerJson,
  assertDeclaredLength,
  assertJsonContentType,
  authorize,
  HttpProblem,
  parseTokens,
  readBody,
  receiverRoute,
  TokenVerifier,
} from '@argus/runtime';
import type { JetStreamClient } from '@nats-io/jetstream';
import { IngestProducerError } from './errors.js';
import type { HubMetrics } from './metrics.js';
import { TokenBuckets } from './rate-limit.js';
import type { Registry } from './registry.js';

export const INGEST_PATH = '/api/v1/events';
/** Producer identity of unauthenticated loopback requests when no token is configured. */
export const LOCAL_PRODUCER = 'local';
/**
 * Requests one producer may have in flight (body read, parsed, published): each may hold a whole
 * batch (10 MiB of body and its parse) in memory, so more wait for a 429 before they are read.
 */
export const DEFAULT_MAX_CONCURRENT_PER_PRODUCER = 2;
/** Requests in flight over all producers, for the same reason. */
export const DEFAULT_MAX_CONCURRENT_TOTAL = 8;

export interface IngestConfig {
  readonly js: JetStreamClient;
  readonly logger: Logger;
  readonly metrics: HubMetrics;
  /** Producer identity -> bearer token. Empty: only loopback clients may post, as `local`. */
  readonly tokens: ReadonlyMap<string, string>;
  readonly maxEventBytes: number;
  /** Largest accepted request body of a batch. @default 10 MiB */
  readonly maxBatchBytes?: number;
  /** Events a second each producer may send, and how many it may save up. @default 1000, 2000 */
  readonly rate?: { readonly perSecond: number; readonly burst: number };
  /** @default 1000 */
  readonly maxBatchSize?: number;
  /** The hub's secret for the raw message ids of ingested events (`messageIdKey`). */
  readonly msgIdKey?: string | undefined;
  /** Accepted `context.timestamp` range (the hub consumer's): 400 beyond it. @default 400 days back, 1 day ahead */
  readonly timeRange?: TimeRange;
  /** Requests in flight per producer and in total before 429. @default 2, 8 */
  readonly maxConcurrent?: { readonly perProducer: number; readonly total: number };
}

/**
 * Throws IngestProducerError when a producer has the name of an instance the registry gives clusters:
 * its events would take that agent's cluster, environment and labels. An entry with sources only is
 * how a strict registry lets a producer own sources, and stays allowed.
 */
export const assertProducersAreNotInstances = (
  tokens: ReadonlyMap<string, string>,
  registry: Pick<Registry, 'instances'>,
): void => {
  const taken = [...tokens.keys()].filter(
    (producer) => (registry.instances.get(producer)?.destinations.size ?? 0) > 0,
  );
  if (taken.length > 0) throw new IngestProducerError(taken);
};

/** Parses `producer=token` entries; producers must be subject tokens (they become the raw subject's instance). */
export const parseIngestTokens = (entries: readonly string[]): Map<string, string> =>
  parseTokens(entries, 'ingest', isToken);

/**
 * `POST /api/v1/events`: CloudEvents HTTP binding (binary, structured, batch) or a bare CDEvent
 * body. Events are published onto CDEVENTS_RAW as `cdevents.raw.<producer>.…` and answered with
 * 202 only after JetStream has them; the hub pipeline then treats them like any agent's.
 */
export const ingestRoute = (config: IngestConfig): ExtraRoute => {
  const logger = config.logger.child({ component: 'ingest' });
  const verifier = new TokenVerifier(config.tokens);
  const limits: AdmissionLimits = {
    maxEventBytes: config.maxEventBytes,
    timeRange: config.timeRange,
    maxBatchSize: config.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE,
    maxBatchBytes: config.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
  };
  const ratePerSecond = config.rate?.perSecond ?? 1000;
  const burst = config.rate?.burst ?? 2 * ratePerSecond;
  const buckets = new TokenBuckets({ ratePerSecond, burst });
  const maxPerProducer = config.maxConcurrent?.perProducer ?? DEFAULT_MAX_CONCURRENT_PER_PRODUCER;
  const maxTotal = config.maxConcurrent?.total ?? DEFAULT_MAX_CONCURRENT_TOTAL;
  const inFlight = new Map<string, number>();
  let inFlightTotal = 0;
  if (verifier.empty) {
    logger.warn(
      'no ingest tokens configured: POST /api/v1/events accepts loopback clients only, as producer "local"',
    );
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const producer = authorize(req, verifier, 'loopback', LOCAL_PRODUCER);
    assertJsonContentType(req);
    const limit = maxHttpBodyBytes(req.headers['content-type'], limits);
    // Everything refused before the body is read costs no memory: the declared size, an empty
    // bucket, too many requests in flight. The connection is closed, its body left unread.
    assertDeclaredLength(req, limit);
    const emptyFor = buckets.wait(producer);
    if (emptyFor > 0) {
      throw new HttpProblem(
        429,
        `producer ${producer} sends more than ${ratePerSecond} events/s: retry in ${emptyFor} s`,
        { reason: 'rate-limit', retryAfterSeconds: emptyFor },
        { close: true, retryAfter: emptyFor },
      );
    }
    const mine = inFlight.get(producer) ?? 0;
    if (mine >= maxPerProducer || inFlightTotal >= maxTotal) {
      throw new HttpProblem(
        429,
        mine >= maxPerProducer
          ? `producer ${producer} already has ${mine} requests in flight (at most ${maxPerProducer}): retry in 1 s`
          : `the ingest already has ${inFlightTotal} requests in flight (at most ${maxTotal}): retry in 1 s`,
        { reason: 'concurrency', retryAfterSeconds: 1 },
        { close: true, retryAfter: 1 },
      );
    }
    inFlight.set(producer, mine + 1);
    inFlightTotal++;
    try {
      await accept(req, res, producer, limit);
    } finally {
      inFlightTotal--;
      const left = (inFlight.get(producer) ?? 1) - 1;
      if (left === 0) inFlight.delete(producer);
      else inFlight.set(producer, left);
    }
  };

  const accept = async (
    req: IncomingMessage,
    res: ServerResponse,
    producer: string,
    limit: number,
  ): Promise<void> => {
    const body = await readBody(req, limit);
    // The admission rules of every entry point: what the hub would dead-letter after a 202 is
    // refused while the client is still listening.
    const events = admitHttpEvents(
      { headers: req.headers as Record<string, string | string[] | undefined>, body },
      limits,
    );
    if (events instanceof AdmissionError)
      throw new HttpProblem(events.status, events.message, events.answerFields());
    const wait = buckets.take(producer, events.length);
    if (wait === Number.POSITIVE_INFINITY) {
      throw new HttpProblem(
        413,
        `a batch of ${events.length} events is more than producer ${producer} may send at once (${burst})`,
        { reason: 'rate-limit' },
      );
    }
    if (wait > 0) {
      throw new HttpProblem(
        429,
        `producer ${producer} sends more than ${ratePerSecond} events/s: retry in ${wait} s`,
        { reason: 'rate-limit', retryAfterSeconds: wait },
        { retryAfter: wait },
      );
    }
    let acks: Awaited<ReturnType<typeof publishRaw>>[];
    try {
      acks = await Promise.all(
        events.map(({ event }) =>
          publishRaw(config.js, event, { instance: producer, msgIdKey: config.msgIdKey }),
        ),
      );
    } catch (err) {
      if (isPayloadTooLarge(err)) {
        throw new HttpProblem(413, err.message, { reason: 'too-large', maxPayload: err.maxPayload });
      }
      logger.error({ err, producer }, 'cannot publish ingested events to JetStream');
      throw new HttpProblem(503, 'the event bus is not available; retry later');
    }
    const duplicates = acks.filter((a) => a.duplicate).length;
    config.metrics.ingestAccepted.inc({ producer }, events.length);
    logger.debug({ producer, events: events.length, duplicates }, 'ingested');
    answerJson(res, 202, {
      accepted: events.length,
      duplicates,
      ids: events.map(({ event }) => event.context.id),
    });
  };

  return receiverRoute(INGEST_PATH, handle, (problem) => {
    config.metrics.ingestRejected.inc({ status: String(problem.status) });
    logger.info({ status: problem.status, error: problem.message }, 'ingest request refused');
  });
};
