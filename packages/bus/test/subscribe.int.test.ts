import { createEvent } from '@argus/cdevents';
import { captureLogs, NatsServer, waitFor } from '@argus/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, headers as natsHeaders } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InvalidTokenError } from '../src/errors.js';
import {
  connectNats,
  ensureStreams,
  HEADERS,
  subscribeUnified,
  type UnifiedEvent,
  unifiedSubject,
} from '../src/index.js';
import { HandlerFailedError } from '../src/subscribe.js';

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connectNats({ servers: server.url, name: 'subscribe-test', logger: captureLogs().logger });
  await ensureStreams(await jetstreamManager(nc));
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

let n = 0;
/** A unified-stream message as the hub writes it: the CDEvent as body, its tags as headers. */
const publishUnified = async (cluster: string, type: 'service.deployed' | 'incident.detected') => {
  const id = `ev-${++n}`;
  const event =
    type === 'service.deployed'
      ? createEvent({
          type,
          id,
          source: `/argocd/${cluster}/podinfo/podinfo`,
          subject: {
            id: 'podinfo',
            content: { environment: { id: cluster }, artifactId: 'pkg:oci/podinfo@1' },
          },
        })
      : createEvent({
          type,
          id,
          source: `/argocd/${cluster}/podinfo/podinfo`,
          subject: { id: `inc-${n}`, content: { environment: { id: cluster }, description: 'Degraded' } },
        });
  const h = natsHeaders();
  h.set('ce-specversion', '1.0');
  h.set('ce-id', id);
  h.set('ce-source', event.context.source);
  h.set('ce-type', event.context.type);
  h.set(HEADERS.msgId, `identity-${id}`);
  h.set(HEADERS.instance, 'argo-eu');
  h.set(HEADERS.cluster, cluster);
  h.set(HEADERS.labels, JSON.stringify({ team: 'payments' }));
  h.set(HEADERS.specVersion, '0.5.1');
  const [subjectType, predicate] = type.split('.') as [string, string];
  await jetstream(nc).publish(unifiedSubject(cluster, subjectType, predicate), JSON.stringify(event), {
    headers: h,
  });
  return id;
};

describe('subscribeUnified', () => {
  test('typed events of the selected part, with tags; a restarted durable resumes; a failing handler gets a redelivery', async () => {
    const seen: UnifiedEvent[] = [];
    let failOnce = true;
    const first = await subscribeUnified(nc, jetstream(nc), {
      durable: 'rollback-bot',
      subjectType: 'incident',
      retryDelayMs: 100,
      handler: (e) => {
        if (failOnce) {
          failOnce = false;
          throw new Error('flaky downstream');
        }
        seen.push(e);
      },
    });
    expect(first.filterSubject).toBe('cdevents.unified.*.incident.*');
    const a = await publishUnified('prod-eu', 'incident.detected');
    await publishUnified('prod-eu', 'service.deployed');
    await waitFor(() => seen.length === 1, { what: 'the incident after one redelivery' });
    expect(seen[0]).toMatchObject({
      instance: 'argo-eu',
      cluster: 'prod-eu',
      labels: { team: 'payments' },
      identity: `identity-${a}`,
      redelivered: true,
    });
    expect(seen[0]?.event.context.id).toBe(a);
    await first.stop();

    // Published while nobody listens; the durable picks it up on restart, and only it.
    const b = await publishUnified('prod-us', 'incident.detected');
    const again = await subscribeUnified(nc, jetstream(nc), {
      durable: 'rollback-bot',
      subjectType: 'incident',
      handler: (e) => {
        seen.push(e);
      },
    });
    await waitFor(() => seen.length === 2, { what: 'the incident published while stopped' });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.map((e) => e.event.context.id)).toEqual([a, b]);
    await again.stop();
  });

  test("a handler's error is reported with the message's subject and sequence, and the event comes back", async () => {
    const errors: HandlerFailedError[] = [];
    const handled: string[] = [];
    let failures = 2;
    const subscription = await subscribeUnified(nc, jetstream(nc), {
      durable: 'error-reporter',
      cluster: 'prod-ap',
      retryDelayMs: 50,
      onError: (error) => errors.push(error),
      handler: (e) => {
        if (failures-- > 0) throw new Error('downstream refused');
        handled.push(e.event.context.id);
      },
    });
    try {
      const id = await publishUnified('prod-ap', 'service.deployed');
      await waitFor(() => handled.length === 1, { what: 'the event after two failures' });
      expect(handled).toEqual([id]);
      expect(errors).toHaveLength(2);
      const sequence = errors[0]?.streamSequence ?? 0;
      expect(sequence).toBeGreaterThan(0);
      expect(errors.map((e) => [e.subject, e.streamSequence, e.deliveries, e.retryInMs])).toEqual([
        ['cdevents.unified.prod-ap.service.deployed', sequence, 1, 50],
        ['cdevents.unified.prod-ap.service.deployed', sequence, 2, 50],
      ]);
      expect(errors[0]).toBeInstanceOf(HandlerFailedError);
      expect(errors[0]?.cause).toEqual(new Error('downstream refused'));
      expect(errors[0]?.message).toContain(
        `failed on cdevents.unified.prod-ap.service.deployed (stream sequence ${sequence}, delivery 1): downstream refused`,
      );
    } finally {
      await subscription.stop();
    }
  });

  test('without onError a failing handler is a process warning, not silence', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    let failed = false;
    const subscription = await subscribeUnified(nc, jetstream(nc), {
      durable: 'warning-reporter',
      cluster: 'prod-sa',
      retryDelayMs: 50,
      handler: () => {
        if (!failed) {
          failed = true;
          throw new Error('no onError given');
        }
      },
    });
    try {
      await publishUnified('prod-sa', 'incident.detected');
      await waitFor(() => warnings.some((w) => w instanceof HandlerFailedError), {
        what: 'the handler failure as a process warning',
      });
      expect(warnings.find((w) => w instanceof HandlerFailedError)?.message).toContain('no onError given');
    } finally {
      process.off('warning', onWarning);
      await subscription.stop();
    }
  });

  test('names are checked and a durable is not silently re-pointed', async () => {
    await expect(
      subscribeUnified(nc, jetstream(nc), { durable: 'bad name', handler: () => undefined }),
    ).rejects.toThrow(InvalidTokenError);
    const s = await subscribeUnified(nc, jetstream(nc), {
      durable: 'preview',
      cluster: 'prod-eu',
      handler: () => undefined,
    });
    await s.stop();
    await expect(
      subscribeUnified(nc, jetstream(nc), {
        durable: 'preview',
        cluster: 'prod-us',
        handler: () => undefined,
      }),
    ).rejects.toThrow(/exists on CDEVENTS with filter cdevents.unified.prod-eu.\*.\*/);
  });

  test('without the unified stream (no hub yet) the error says so', async () => {
    const bare = await NatsServer.start();
    const conn = await connectNats({ servers: bare.url, name: 'no-hub', logger: captureLogs().logger });
    try {
      await expect(
        subscribeUnified(conn, jetstream(conn), { durable: 'early', handler: () => undefined }),
      ).rejects.toThrow('the unified stream CDEVENTS does not exist on this NATS: start the hub first');
    } finally {
      await conn.close();
      await bare.stop();
    }
  });
});
