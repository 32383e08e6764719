import type { Logger } from '@argus/runtime';
import type { Store } from '@argus/store';
import type { HubMetrics } from './metrics.js';

/**
 * Looks at the parts ClickHouse detached, once at start. A damaged part (a truncated `data.bin`)
 * makes ClickHouse move it aside at start, and its events vanish from every query while the hub says
 * ready (adversarial review 2, finding 12: 5,800 of 5,951 events). The hub keeps running (new events
 * are stored fine, and a not-ready hub would only be taken out of service), but says so at error
 * level with what to do, and `argus_hub_store_broken_parts` stays above 0 until the part is dealt with.
 */
export const reportDetachedParts = async (
  store: Store,
  logger: Logger,
  metrics: HubMetrics,
): Promise<void> => {
  let parts: Awaited<ReturnType<Store['detachedParts']>>;
  try {
    parts = await store.detachedParts();
  } catch (err) {
    logger.warn({ err }, 'could not list detached ClickHouse parts (system.detached_parts)');
    return;
  }
  const broken = parts.filter((p) => p.broken);
  metrics.brokenParts.set(broken.length);
  if (broken.length === 0) return;
  logger.error(
    {
      parts: broken.map((p) => `${p.table}/detached/${p.name}${p.reason === '' ? '' : ` (${p.reason})`}`),
      database: store.database,
    },
    `ClickHouse detached ${broken.length} damaged part(s) at start: the events in them are no longer queried. ` +
      'To restore those of the last days, run a hub once with another --consumer name (it reads all of CDEVENTS_RAW, 7 days by default, and stores only what is missing), then delete that consumer; ' +
      "older ones are lost unless a backup has them. Then remove the part's directory under detached/ to clear this error",
  );
};
