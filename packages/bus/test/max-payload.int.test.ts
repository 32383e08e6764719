import { createEvent } from '@argus/cdevents';
import { NatsServer } from '@argus/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { PayloadTooLargeError } from '../src/errors.js';
import {
  ensureStreams,
  HeaderList,
  isPayloadTooLarge,
  maxPayloadProblem,
  publishRaw,
  RAW_STREAM,
} from '../src/index.js';

// Small on purpose: an event with a few kilobytes of customData exceeds it.
const MAX_PAYLOAD = 4096;
let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await NatsServer.start({ config: `max_payload: ${MAX_PAYLOAD}` });
  nc = await server.connect();
  await ensureStreams(await jetstreamManager(nc));
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

let seq = 0;
const deployed = (blobBytes: number) =>
  createEvent({
    type: 'service.deployed',
    id: `max-payload-${++seq}`,
    source: '/argocd/prod-eu/podinfo/podinfo',
    subject: { id: 'podinfo', content: { environment: { id: 'prod-eu' }, artifactId: 'pkg:oci/podinfo' } },
    customData: { blob: 'x'.repeat(blobBytes) },
  });

const stored = async () => (await (await jetstreamManager(nc)).streams.info(RAW_STREAM)).state.messages;

test("publishRaw refuses an event over the server's max_payload with PayloadTooLargeError, decided from sizes", async () => {
  const before = await stored();
  const error = await publishRaw(jetstream(nc), deployed(2 * MAX_PAYLOAD), { instance: 'argo-eu' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PayloadTooLargeError);
  expect(isPayloadTooLarge(error)).toBe(true);
  const tooLarge = error as PayloadTooLargeError;
  expect(tooLarge.maxPayload).toBe(MAX_PAYLOAD);
  expect(tooLarge.bytes).toBeGreaterThan(2 * MAX_PAYLOAD);
  expect(tooLarge.subject).toBe('cdevents.raw.argo-eu.service.deployed');
  expect(tooLarge.message).toContain(`max_payload of ${MAX_PAYLOAD}`);
  // Something else going wrong is not "too large" (a retry may help there).
  expect(isPayloadTooLarge(new Error("'payload' max_payload size exceeded"))).toBe(false);
  const ack = await publishRaw(jetstream(nc), deployed(10), { instance: 'argo-eu' });
  expect(ack.duplicate).toBe(false);
  expect(await stored()).toBe(before + 1);
});

test('the rule counts the headers as the client does: the largest message it lets through is sent, one byte more is refused by both', async () => {
  const headers = new HeaderList();
  headers.set('Argus-Test', 'h'.repeat(100));
  const fits = MAX_PAYLOAD - headers.encode().length;
  const subject = 'argus.max-payload.probe';
  const sized = (bytes: number) => ({ subject, data: new Uint8Array(bytes), headers });
  expect(maxPayloadProblem(nc, sized(fits))).toBeUndefined();
  expect(() => nc.publish(subject, sized(fits).data, { headers })).not.toThrow();
  const over = maxPayloadProblem(nc, sized(fits + 1));
  expect(over).toBeInstanceOf(PayloadTooLargeError);
  expect(over?.bytes).toBe(MAX_PAYLOAD + 1);
  // The client refuses the same message (its own error, whose wording nothing here depends on).
  expect(() => nc.publish(subject, sized(fits + 1).data, { headers })).toThrow();
  // The body alone over the limit is refused without looking at headers.
  expect(maxPayloadProblem(nc, { subject, data: new Uint8Array(MAX_PAYLOAD + 1) })?.bytes).toBe(
    MAX_PAYLOAD + 1,
  );
  // Before a server has said its limit, there is nothing to check against.
  expect(maxPayloadProblem({}, sized(10 * MAX_PAYLOAD))).toBeUndefined();
});
