import { Agent as HttpAgent } from 'node:http';
import { ensureStreams, RAW_STREAM } from '@argus/bus';
import { createEvent, parse, serialize, toHttpBatch } from '@argus/cdevents';
import { type HealthServer, startHealthServer } from '@argus/runtime';
import { captureLogs, NatsServer, postRaw } from '@argus/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { INGEST_PATH } from '../src/index.js';
import { ingestRoute } from '../src/ingest.js';
import { HubMetrics } from '../src/metrics.js';

const MAX_EVENT_BYTES = 4096;
const TOKEN = 'ingest-test-token';
const logs = captureLogs({ level: 'info' });
let server: NatsServer;
let nc: NatsConnection;
let http: HealthServer;

/** The hub's ingest route alone on a loopback listener, publishing with this file's connection. */
const startIngest = (tokens: Map<string, string>, rate?: { perSecond: number; burst: number }) => {
  const metrics = new HubMetrics();
  return startHealthServer({
    listen: { host: '127.0.0.1', port: 0 },
    registry: metrics.registry,
    logger: logs.logger,
    readiness: () => ({ ready: true, reasons: [] }),
    routes: [
      ingestRoute({
        js: jetstream(nc),
        logger: logs.logger,
        metrics,
        tokens,
        maxEventBytes: MAX_EVENT_BYTES,
        ...(rate === undefined ? {} : { rate }),
      }),
    ],
  });
};

// Below MAX_EVENT_BYTES on purpose: an event can pass the ingest's own limit and still be too large for NATS.
const NATS_MAX_PAYLOAD = 3072;

beforeAll(async () => {
  server = await NatsServer.start({ config: `max_payload: ${NATS_MAX_PAYLOAD}` });
  nc = await server.connect();
  await ensureStreams(await jetstreamManager(nc));
  http = await startIngest(new Map([['ci', TOKEN]]));
});
afterAll(async () => {
  await http?.close();
  await nc?.close();
  await server?.stop();
});

let seq = 0;
const eventBody = (extra: { timestamp?: string; customData?: Record<string, unknown> } = {}): Buffer =>
  Buffer.from(
    serialize(
      createEvent({
        type: 'change.merged',
        id: `ingest-${++seq}`,
        source: '/github/acme/app',
        ...extra,
        subject: { id: 'acme/app/pull/42', content: { repository: { id: 'acme/app' } } },
      }),
    ),
  );

/** One POST with the producer's token; `chunked` streams the body without a content-length (testkit's postRaw). */
const post = (agent: HttpAgent, body: Buffer, chunked = false) =>
  postRaw(`http://127.0.0.1:${http.address.port}${INGEST_PATH}`, body, {
    agent,
    chunked,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
  });

const rawMessages = async () => (await (await jetstreamManager(nc)).streams.info(RAW_STREAM)).state.messages;

describe('HTTP ingest: refusals a client can act on', () => {
  test('an oversized body gets 413 and a closed connection, so the next request on a keep-alive client works', async () => {
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    try {
      const huge = eventBody({ customData: { blob: 'x'.repeat(64 * 1024) } });
      for (const chunked of [false, true]) {
        const refused = await post(agent, huge, chunked);
        expect(refused.status, `chunked=${chunked} ${refused.error ?? ''}`).toBe(413);
        expect(JSON.parse(refused.text).error).toContain('exceeds the limit of');
        const next = await post(agent, eventBody());
        expect(next.status, `the request after chunked=${chunked}: ${next.error ?? ''}`).toBe(202);
      }
    } finally {
      agent.destroy();
    }
  });

  test('an event dated outside the accepted range is refused with 400 before publishing, not accepted and dead-lettered', async () => {
    const agent = new HttpAgent({ keepAlive: false });
    const before = await rawMessages();
    const DAY_MS = 86_400_000;
    for (const timestamp of [
      '9999-12-31T23:59:59Z', // beyond what can be stored
      '1899-12-31T23:59:59Z',
      '2299-12-31T00:00:00Z', // storable, but it would stay "newest" for ever (finding 17)
      new Date(Date.now() + 2 * DAY_MS).toISOString(),
      new Date(Date.now() - 401 * DAY_MS).toISOString(),
    ]) {
      const refused = await post(agent, eventBody({ timestamp }));
      expect(refused.status).toBe(400);
      const body = JSON.parse(refused.text) as Record<string, string>;
      expect(body).toMatchObject({ reason: 'timestamp-out-of-range' });
      expect(body.error).toContain(`context.timestamp "${timestamp}" is outside the accepted range`);
      expect(Date.parse(body.latest ?? '') - Date.parse(body.earliest ?? '')).toBe(401 * DAY_MS);
    }
    expect(await rawMessages()).toBe(before);
    expect((await post(agent, eventBody({ timestamp: new Date().toISOString() }))).status).toBe(202);
    expect(await rawMessages()).toBe(before + 1);
  });
});

describe('HTTP ingest: what NATS cannot carry', () => {
  test("an event within the ingest limit but over the NATS server's max_payload gets 413, not 'retry later'", async () => {
    const agent = new HttpAgent({ keepAlive: false });
    const before = await rawMessages();
    const body = eventBody({ customData: { blob: 'x'.repeat(NATS_MAX_PAYLOAD) } });
    expect(body.length).toBeLessThan(MAX_EVENT_BYTES);
    const refused = await post(agent, body);
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.text)).toMatchObject({ reason: 'too-large' });
    expect((await post(agent, eventBody())).status).toBe(202);
    expect(await rawMessages()).toBe(before + 1);
  });
});

describe('HTTP ingest: rate limit per producer', () => {
  test('beyond its rate a producer gets 429 with Retry-After; other producers are not affected', async () => {
    const limited = await startIngest(
      new Map([
        ['ci', 'token-ci'],
        ['monitoring', 'token-mon'],
      ]),
      { perSecond: 1, burst: 2 },
    );
    const send = async (token: string, body: Buffer, contentType = 'application/json') => {
      const response = await fetch(`http://127.0.0.1:${limited.address.port}${INGEST_PATH}`, {
        method: 'POST',
        headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
        body,
      });
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body: await response.text(),
      };
    };
    try {
      expect((await send('token-ci', eventBody())).status).toBe(202);
      expect((await send('token-ci', eventBody())).status).toBe(202);
      const limitedAnswer = await send('token-ci', eventBody());
      expect(limitedAnswer.status).toBe(429);
      expect(limitedAnswer.retryAfter).toBe('1');
      expect(JSON.parse(limitedAnswer.body)).toMatchObject({ reason: 'rate-limit', retryAfterSeconds: 1 });
      expect((await send('token-mon', eventBody())).status).toBe(202);
      const batch = toHttpBatch([1, 2, 3].map(() => parse(eventBody())));
      const tooBig = await send('token-mon', Buffer.from(batch.body), 'application/cloudevents-batch+json');
      expect(tooBig.status, tooBig.body).toBe(413);
      expect(JSON.parse(tooBig.body).reason).toBe('rate-limit');
    } finally {
      await limited.close();
    }
  });
});
