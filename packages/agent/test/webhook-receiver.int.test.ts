import { Agent as HttpAgent, request } from 'node:http';
import { ensureStreams, RAW_STREAM } from '@argus/bus';
import { createEvent, serialize } from '@argus/cdevents';
import { type HealthServer, startHealthServer } from '@argus/runtime';
import { captureLogs, NatsServer } from '@argus/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AgentMetrics, WEBHOOK_PATH, webhookRoute } from '../src/index.js';

const MAX_EVENT_BYTES = 4096;
const logs = captureLogs({ level: 'info' });
let server: NatsServer;
let nc: NatsConnection;
let http: HealthServer;

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await server.connect();
  await ensureStreams(await jetstreamManager(nc));
  const metrics = new AgentMetrics();
  http = await startHealthServer({
    listen: { host: '127.0.0.1', port: 0 },
    registry: metrics.registry,
    logger: logs.logger,
    readiness: () => ({ ready: true, reasons: [] }),
    routes: [
      webhookRoute({
        js: jetstream(nc),
        logger: logs.logger,
        metrics,
        instance: 'receiver-test',
        architecture: 'distributed',
        inClusterName: 'prod-eu',
        maxEventBytes: MAX_EVENT_BYTES,
      }),
    ],
  });
});
afterAll(async () => {
  await http?.close();
  await nc?.close();
  await server?.stop();
});

let seq = 0;
const eventBody = (): Buffer =>
  Buffer.from(
    serialize(
      createEvent({
        type: 'service.deployed',
        id: `receiver-${++seq}`,
        source: '/argocd/prod-eu/podinfo/podinfo',
        subject: {
          id: 'podinfo',
          content: { environment: { id: 'prod-eu' }, artifactId: 'pkg:oci/podinfo' },
        },
      }),
    ),
  );

/** One POST; `chunked` streams the body without a content-length. Resolves with the status, or 0 and the error code. */
const post = (
  agent: HttpAgent,
  body: Buffer,
  headers: Record<string, string>,
  chunked = false,
): Promise<{ status: number; text: string; error?: string }> =>
  new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: http.address.port,
        path: WEBHOOK_PATH,
        method: 'POST',
        agent,
        headers: chunked ? headers : { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, text: '', error: err.code ?? '' }));
    if (!chunked) {
      req.end(body);
      return;
    }
    for (let at = 0; at < body.length; at += 1024) req.write(body.subarray(at, at + 1024));
    req.end();
  });

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
        expect(refused.text).toContain(`exceeds ${MAX_EVENT_BYTES} bytes`);
        const next = await post(agent, eventBody(), JSON_TYPE);
        expect(next.status, `the request after chunked=${chunked}: ${next.error ?? ''}`).toBe(202);
      }
    } finally {
      agent.destroy();
    }
  });

  test('a declared non-JSON content type is refused with 415; none at all (a template without headers) is accepted', async () => {
    const agent = new HttpAgent({ keepAlive: false });
    const before = (await (await jetstreamManager(nc)).streams.info(RAW_STREAM)).state.messages;
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
    expect((await (await jetstreamManager(nc)).streams.info(RAW_STREAM)).state.messages).toBe(before + 2);
  });
});
