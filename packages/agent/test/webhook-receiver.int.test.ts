import { Agent as HttpAgent } from 'node:http';
import { RAW_STREAM } from '@argus/bus';
import { createEvent, ENVELOPE_ALLOWANCE_BYTES, serialize, TimeRange } from '@argus/cdevents';
import type { HealthServer } from '@argus/runtime';
import { captureLogs, postRaw } from '@argus/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WEBHOOK_PATH } from '../src/index.js';
import { natsForFile, startWebhookReceiver } from './fixtures.js';

const MAX_EVENT_BYTES = 4096;
const logs = captureLogs({ level: 'info' });
const nats = natsForFile();
let http: HealthServer;

beforeAll(async () => {
  http = await startWebhookReceiver({
    nc: nats.nc,
    logger: logs.logger,
    instance: 'receiver-test',
    inClusterName: 'prod-eu',
    maxEventBytes: MAX_EVENT_BYTES,
  });
});
afterAll(async () => {
  await http?.close();
});

let seq = 0;
const eventBody = (timestamp?: string): Buffer =>
  Buffer.from(
    serialize(
      createEvent({
        type: 'service.deployed',
        id: `receiver-${++seq}`,
        ...(timestamp === undefined ? {} : { timestamp }),
        source: '/argocd/prod-eu/podinfo/podinfo',
        subject: {
          id: 'podinfo',
          content: { environment: { id: 'prod-eu' }, artifactId: 'pkg:oci/podinfo' },
        },
      }),
    ),
  );

/** One POST to the receiver; `chunked` streams the body without a content-length (testkit's postRaw). */
const post = (agent: HttpAgent, body: Buffer, headers: Record<string, string>, chunked = false) =>
  postRaw(`http://127.0.0.1:${http.address.port}${WEBHOOK_PATH}`, body, { agent, headers, chunked });

const JSON_TYPE = { 'content-type': 'application/json' };

describe('webhook receiver: refusals a client can act on', () => {
  test('an oversized body gets 413 and a closed connection, so the next request on a keep-alive client works', async () => {
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    try {
      const huge = Buffer.from(
        serialize(
          createEvent({
            type: 'service.deployed',
            source: '/argocd/prod-eu/podinfo/podinfo',
            subject: {
              id: 'podinfo',
              content: { environment: { id: 'prod-eu' }, artifactId: 'pkg:oci/podinfo' },
            },
            customData: { blob: 'x'.repeat(64 * 1024) },
          }),
        ),
      );
      for (const chunked of [false, true]) {
        const refused = await post(agent, huge, JSON_TYPE, chunked);
        expect(refused.status, `chunked=${chunked} ${refused.error ?? ''}`).toBe(413);
        // The limit enforced (an event and its envelope's allowance), as the ingest says it.
        expect(refused.text).toContain(
          `exceeds the limit of ${MAX_EVENT_BYTES + ENVELOPE_ALLOWANCE_BYTES} bytes`,
        );
        const next = await post(agent, eventBody(), JSON_TYPE);
        expect(next.status, `the request after chunked=${chunked}: ${next.error ?? ''}`).toBe(202);
      }
    } finally {
      agent.destroy();
    }
  });

  test('a declared non-JSON content type is refused with 415; none at all (a template without headers) is accepted', async () => {
    const agent = new HttpAgent({ keepAlive: false });
    const before = (await (await jetstreamManager(nats.nc)).streams.info(RAW_STREAM)).state.messages;
    const refused = await post(agent, eventBody(), { 'content-type': 'text/plain' });
    expect(refused.status).toBe(415);
    expect(JSON.parse(refused.text).error).toContain('content type "text/plain" is not accepted');
    expect((await post(agent, eventBody(), {})).status).toBe(202);
    expect((await post(agent, eventBody(), { 'content-type': 'application/cloudevents+json' })).status).toBe(
      400,
    );
    expect(
      (await post(agent, eventBody(), { 'content-type': 'application/json; charset=utf-8' })).status,
    ).toBe(202);
    expect((await (await jetstreamManager(nats.nc)).streams.info(RAW_STREAM)).state.messages).toBe(
      before + 2,
    );
  });

  test('an event the hub would dead-letter for its time (2299, two days ahead) is refused with 400 and the range', async () => {
    const agent = new HttpAgent({ keepAlive: false });
    const before = (await (await jetstreamManager(nats.nc)).streams.info(RAW_STREAM)).state.messages;
    for (const timestamp of ['2299-12-31T00:00:00Z', new Date(Date.now() + 2 * 86_400_000).toISOString()]) {
      const refused = await post(agent, eventBody(timestamp), JSON_TYPE);
      expect(refused.status).toBe(400);
      const body = JSON.parse(refused.text) as { reason: string; earliest: string; latest: string };
      expect(body.reason).toBe('timestamp-out-of-range');
      expect(Date.parse(body.latest)).toBeGreaterThan(Date.now());
    }
    expect((await post(agent, eventBody(new Date().toISOString()), JSON_TYPE)).status).toBe(202);
    expect((await (await jetstreamManager(nats.nc)).streams.info(RAW_STREAM)).state.messages).toBe(
      before + 1,
    );
  });
  test('with the widest range an operator can give, a time ClickHouse cannot store (before 1900, from 2300) is still refused', async () => {
    const wide = await startWebhookReceiver({
      nc: nats.nc,
      logger: logs.logger,
      instance: 'receiver-wide',
      inClusterName: 'prod-eu',
      maxEventBytes: MAX_EVENT_BYTES,
      timeRange: new TimeRange({ maxAgeMs: Number.MAX_VALUE, maxLeadMs: Number.MAX_VALUE }),
    });
    try {
      const agent = new HttpAgent({ keepAlive: false });
      const url = `http://127.0.0.1:${wide.address.port}${WEBHOOK_PATH}`;
      const before = (await (await jetstreamManager(nats.nc)).streams.info(RAW_STREAM)).state.messages;
      for (const timestamp of ['1899-12-31T23:59:59Z', '2300-01-01T00:00:00Z']) {
        const refused = await postRaw(url, eventBody(timestamp), { agent, headers: JSON_TYPE });
        expect(refused.status).toBe(400);
        const body = JSON.parse(refused.text) as { reason: string; earliest: string; latest: string };
        expect(body).toMatchObject({
          reason: 'timestamp-out-of-range',
          earliest: '1900-01-01T00:00:00.000Z',
          latest: '2299-12-31T23:59:59.999Z',
        });
      }
      // The storable ends themselves are accepted.
      for (const timestamp of ['1900-01-01T00:00:00Z', '2299-12-31T23:59:59Z'])
        expect((await postRaw(url, eventBody(timestamp), { agent, headers: JSON_TYPE })).status).toBe(202);
      expect((await (await jetstreamManager(nats.nc)).streams.info(RAW_STREAM)).state.messages).toBe(
        before + 2,
      );
    } finally {
      await wide.close();
    }
  });
});
