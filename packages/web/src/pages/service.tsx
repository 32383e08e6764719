import { useState } from 'preact/hooks';
import type { ApiEvent } from '../api.js';
import { timelineCall } from '../calls.js';
import { duration, time, version } from '../format.js';
import { Empty, Status } from '../states.js';
import { useQuery } from '../use-query.js';

interface Entry {
  event: ApiEvent;
  kind: string;
  detail: string;
}

/** `/services/<id>`: one service's changes, builds, deployments and incidents across clusters, oldest first. */
export const ServicePage = ({ service }: { service: string }) => {
  const loaded = useQuery<{ entries?: Entry[]; clusters?: string[]; upstream?: Entry[] }>(
    timelineCall(service),
  );
  const [open, setOpen] = useState<string | undefined>(undefined);
  return (
    <>
      <h1>Service {service}</h1>
      <Status loaded={loaded}>
        {({ entries: story = [], clusters = [], upstream = [] }) => {
          const entries = [...upstream, ...story].sort(
            (a, b) => new Date(a.event.timestamp).getTime() - new Date(b.event.timestamp).getTime(),
          );
          if (story.length === 0) return <Empty>No deployments or incidents of {service} yet.</Empty>;
          // Lead time per stage: from the artifact's first deployment anywhere to this one.
          const firstSeen = new Map<string, number>();
          return (
            <>
              <p>
                Seen in {clusters.length} cluster{clusters.length === 1 ? '' : 's'}: {clusters.join(', ')}
              </p>
              <ol class="timeline" aria-label={`Life of ${service}`}>
                {entries.map((e, index) => {
                  const at = new Date(e.event.timestamp).getTime();
                  const previous = entries[index - 1];
                  const artifact = e.kind.startsWith('service.') ? e.event.artifactId : '';
                  const first = artifact === '' ? undefined : firstSeen.get(artifact);
                  if (artifact !== '' && first === undefined) firstSeen.set(artifact, at);
                  const key = `${e.event.id}|${index}`;
                  return (
                    <li class={e.kind.startsWith('incident') ? 'incident' : ''} data-kind={e.kind}>
                      <button
                        type="button"
                        aria-expanded={open === key}
                        onClick={() => setOpen(open === key ? undefined : key)}
                      >
                        {time(e.event.timestamp)} · <strong>{e.kind}</strong>
                        {e.event.cluster && ` in ${e.event.cluster}`}
                        {e.event.environment && ` (${e.event.environment})`} ·{' '}
                        {e.kind.startsWith('service') ? version(e.detail) : e.detail}
                      </button>
                      <span class="meta">
                        by {e.event.instance}
                        {previous !== undefined &&
                          ` · ${duration((at - new Date(previous.event.timestamp).getTime()) / 1000)} after the previous step`}
                        {first !== undefined &&
                          ` · ${duration((at - first) / 1000)} after this artifact's first deployment`}
                      </span>
                      {open === key && (
                        <pre data-testid="cdevent-json">
                          {JSON.stringify(JSON.parse(e.event.cdeventJson), null, 2)}
                        </pre>
                      )}
                    </li>
                  );
                })}
              </ol>
            </>
          );
        }}
      </Status>
    </>
  );
};
