import {
  AGENTS_BUCKET,
  type BucketOptions,
  ensureBucket,
  HUB_BUCKET,
  jetStreamManagerOf,
  MAX_HEARTBEAT_BYTES,
  messageIdKey,
  openBucket,
  progressBucket,
} from '@argus/bus';
import type { Logger } from '@argus/runtime';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Registry } from './registry.js';

/**
 * Creates (or makes safe, see `ensureBucket`) the KV buckets of the agents: `argus_agents` for the
 * heartbeats and `argus_agent_progress_<instance>` for every instance the registry lists, plus the
 * hub's own `argus_hub`. The hub holds the only right to create them, so no agent can create a bucket
 * stream with its own configuration (a republish that copies others' state to it, subjects that
 * capture others' keys). Returns the secret of the raw message ids the HTTP ingest publishes.
 */
export const ensureAgentState = async (
  nc: NatsConnection,
  registry: Registry,
  replicas: number,
  logger: Logger,
  progressMaxBytes?: number,
): Promise<{ ingestMsgIdKey: string }> => {
  const jsm = await jetStreamManagerOf(nc);
  const buckets: [string, BucketOptions][] = [
    [AGENTS_BUCKET, { replicas, maxValueBytes: MAX_HEARTBEAT_BYTES }],
    [HUB_BUCKET, { replicas }],
    ...[...registry.instances.keys()].map((i): [string, BucketOptions] => [
      progressBucket(i),
      { replicas, ...(progressMaxBytes === undefined ? {} : { maxBytes: progressMaxBytes }) },
    ]),
  ];
  const changed: Record<string, string> = {};
  for (const [bucket, options] of buckets) {
    const outcome = await ensureBucket(jsm, bucket, options);
    if (outcome !== 'exists') changed[bucket] = outcome;
  }
  if (Object.keys(changed).length > 0) {
    logger.info({ buckets: changed }, 'KV buckets created or made to refuse roll-ups and purges');
  }
  return { ingestMsgIdKey: await messageIdKey(await openBucket(nc, HUB_BUCKET, { replicas })) };
};
