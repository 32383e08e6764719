/**
 * Storage limits (adversarial review 2, finding 19) on a real nats-server: streams and buckets of an
 * earlier Argus, which had none, get them in place; an operator's own limit is left alone; limits
 * that do not fit the server's store are refused with what to do.
 */
import { captureLogs, NatsServer } from '@argus/testkit';
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { StreamLimitError } from '../src/errors.js';
import {
  connectNats,
  DEFAULT_PROGRESS_BUCKET_MAX_BYTES,
  DEFAULT_RAW_MAX_BYTES,
  DLQ_STREAM,
  ensureBucket,
  ensureStreams,
  progressBucket,
  RAW_STREAM,
  UNIFIED_STREAM,
} from '../src/index.js';

let server: NatsServer;
let nc: NatsConnection;
const logs = captureLogs({ level: 'warn' });

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connectNats({ servers: server.url, name: 'stream-limits-test', logger: logs.logger });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe('storage limits', () => {
  test('an unlimited raw stream and progress bucket of an earlier Argus get limits in place; an operator limit stays', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: RAW_STREAM,
      subjects: ['cdevents.raw.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: 15 * 60 * 1e9,
    });
    await jsm.streams.add({
      name: UNIFIED_STREAM,
      subjects: ['cdevents.unified.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: 15 * 60 * 1e9,
      max_bytes: 100 * 1024 * 1024,
    });
    const report = await ensureStreams(jsm);
    expect(report.limited).toEqual([RAW_STREAM]);
    expect(report.created).toEqual([DLQ_STREAM]);
    const raw = (await jsm.streams.info(RAW_STREAM)).config;
    expect(raw.max_bytes).toBe(DEFAULT_RAW_MAX_BYTES);
    expect(raw.discard).toBe(DiscardPolicy.New);
    expect((await jsm.streams.info(UNIFIED_STREAM)).config.max_bytes).toBe(100 * 1024 * 1024);
    expect(report.drift.some((d) => d.stream === UNIFIED_STREAM && d.field === 'max_bytes')).toBe(true);

    const bucket = progressBucket('argo-old');
    await jsm.streams.add({
      name: `KV_${bucket}`,
      subjects: [`$KV.${bucket}.>`],
      max_msgs_per_subject: 1,
      deny_delete: true,
      deny_purge: true,
      allow_rollup_hdrs: false,
    });
    expect(await ensureBucket(jsm, bucket)).toBe('updated');
    expect((await jsm.streams.info(`KV_${bucket}`)).config.max_bytes).toBe(DEFAULT_PROGRESS_BUCKET_MAX_BYTES);
    expect(await ensureBucket(jsm, bucket)).toBe('exists');
  });

  test('limits beyond the server store are refused with what to do', async () => {
    const jsm = await jetstreamManager(nc);
    for (const name of [RAW_STREAM, UNIFIED_STREAM, DLQ_STREAM]) await jsm.streams.delete(name);
    const error = await ensureStreams(jsm, { unifiedMaxBytes: 64 * 1024 ** 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamLimitError);
    expect(String(error)).toMatch(/--unified-max-bytes/);
  });
});
