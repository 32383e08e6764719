import { INSTANCES_CALL, STATS_CALL } from '../calls.js';
import { ago } from '../format.js';
import { Empty, NO_EVENTS, Status } from '../states.js';
import { useQuery } from '../use-query.js';

interface Instance {
  instance: string;
  architecture?: string;
  version?: string;
  clusters?: string[];
  lastHeartbeat?: string;
  eventsLastHour?: number | string;
  source?: string;
}

/** A heartbeat older than this is marked stale (agents beat every few seconds). */
export const STALE_AFTER_MS = 120_000;

/** `/instances`: who reports, how alive, how busy; and the hub's lag. */
export const Instances = () => {
  const loaded = useQuery<{ instances?: Instance[] }>(INSTANCES_CALL);
  const stats = useQuery<{ consumerPending?: number | string; storedEvents?: number | string }>(STATS_CALL);
  return (
    <>
      <h1>Instances</h1>
      <Status loaded={stats}>
        {(s) => (
          <p>
            Hub lag: <strong data-testid="lag">{Number(s.consumerPending ?? 0)}</strong> messages waiting ·{' '}
            {Number(s.storedEvents ?? 0)} events stored
          </p>
        )}
      </Status>
      <Status loaded={loaded}>
        {({ instances = [] }) =>
          instances.length === 0 ? (
            <Empty>{NO_EVENTS}</Empty>
          ) : (
            <div class="scroll">
              <table aria-label="Reporting instances">
                <thead>
                  <tr>
                    <th scope="col">Instance</th>
                    <th scope="col">Architecture</th>
                    <th scope="col">Source</th>
                    <th scope="col">Heartbeat</th>
                    <th scope="col">Events last hour</th>
                    <th scope="col">Clusters</th>
                  </tr>
                </thead>
                <tbody>
                  {instances.map((i) => {
                    const stale =
                      i.lastHeartbeat !== undefined &&
                      Date.now() - new Date(i.lastHeartbeat).getTime() > STALE_AFTER_MS;
                    return (
                      <tr>
                        <th scope="row">{i.instance}</th>
                        <td>{i.architecture || 'producer (no agent)'}</td>
                        <td>{i.source || '—'}</td>
                        <td class={stale ? 'stale' : ''}>
                          {i.lastHeartbeat === undefined ? 'none' : ago(i.lastHeartbeat)}
                          {stale && ' (stale)'}
                        </td>
                        <td>{Number(i.eventsLastHour ?? 0)}</td>
                        <td>{(i.clusters ?? []).join(', ')}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )
        }
      </Status>
    </>
  );
};
