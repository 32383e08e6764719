import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { query } from '../api.js';
import { duration } from '../format.js';
import { setParam } from '../router.js';
import { Empty, Status } from '../states.js';
import { useQuery } from '../use-query.js';

interface Metrics {
  key?: string;
  deployments?: number;
  deploymentsPerDay?: number;
  leadTimeSamples?: number;
  leadTimeMedianSeconds?: number;
  failedDeployments?: number;
  changeFailureRate?: number;
  restoredIncidents?: number;
  timeToRestoreMedianSeconds?: number;
}

const WEEKS = 12;
const WEEK_MS = 7 * 86_400_000;

/** Deployments per day and median lead time (hours) of each of the last WEEKS weeks. */
const Trend = ({ filter }: { filter: Record<string, string> }) => {
  const box = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<string>('Loading the weekly trend…');
  const key = JSON.stringify(filter);
  useEffect(() => {
    let plot: uPlot | undefined;
    const now = Date.now();
    const weeks = Array.from({ length: WEEKS }, (_, i) => now - (WEEKS - i) * WEEK_MS);
    void Promise.all(
      weeks.map((start) =>
        query<{ metrics?: Metrics[] }>('dora', {
          ...filter,
          since: new Date(start).toISOString(),
          until: new Date(start + WEEK_MS).toISOString(),
        }),
      ),
    ).then(
      (answers) => {
        if (box.current === null) return;
        const perDay = answers.map((a) => a.metrics?.[0]?.deploymentsPerDay ?? 0);
        const lead = answers.map((a) => (a.metrics?.[0]?.leadTimeMedianSeconds ?? 0) / 3600);
        setState('');
        plot = new uPlot(
          {
            width: Math.min(box.current.clientWidth || 600, 900),
            height: 240,
            title: 'Weekly trend',
            series: [
              {},
              { label: 'deployments/day', stroke: '#0b57d0', points: { show: true } },
              { label: 'median lead time (h)', stroke: '#8c1d18', points: { show: true }, scale: 'h' },
            ],
            axes: [{}, {}, { side: 1, scale: 'h' }],
          },
          [weeks.map((w) => (w + WEEK_MS) / 1000), perDay, lead],
          box.current,
        );
      },
      (error: Error) => setState(error.message),
    );
    return () => plot?.destroy();
  }, [key]);
  return (
    <figure class="chart" aria-label="Weekly trend of deployments per day and median lead time">
      {state !== '' && <p class="state">{state}</p>}
      <div ref={box} />
    </figure>
  );
};

/** `/dora`: the four DORA metrics over 30 days, grouped, with a weekly trend chart. */
export const Dora = ({ url }: { url: URL }) => {
  const groupBy = url.searchParams.get('groupBy') ?? 'cluster';
  const loaded = useQuery<{ metrics?: Metrics[] }>('dora', { groupBy });
  return (
    <>
      <h1>DORA metrics (last 30 days)</h1>
      <div class="filters">
        <label>
          Group by
          <select
            value={groupBy}
            onChange={(e) => setParam('groupBy', (e.target as HTMLSelectElement).value)}
          >
            <option value="cluster">cluster</option>
            <option value="environment">environment</option>
            <option value="service">service</option>
          </select>
        </label>
      </div>
      <Status loaded={loaded}>
        {({ metrics = [] }) =>
          metrics.length === 0 ? (
            <Empty>No deployments in the last 30 days: DORA needs service events.</Empty>
          ) : (
            <div class="scroll">
              <table aria-label={`DORA metrics by ${groupBy}`}>
                <thead>
                  <tr>
                    <th scope="col">{groupBy}</th>
                    <th scope="col">Deployments (per day)</th>
                    <th scope="col">Lead time (median)</th>
                    <th scope="col">Change failure rate</th>
                    <th scope="col">Time to restore (median)</th>
                  </tr>
                </thead>
                <tbody>
                  {metrics.map((m) => (
                    <tr>
                      <th scope="row">{m.key || '(none)'}</th>
                      <td>
                        {m.deployments ?? 0} ({(m.deploymentsPerDay ?? 0).toFixed(2)})
                      </td>
                      <td>
                        {m.leadTimeSamples
                          ? `${duration(m.leadTimeMedianSeconds ?? 0)} (${m.leadTimeSamples} traced)`
                          : 'no traced change'}
                      </td>
                      <td>
                        {((m.changeFailureRate ?? 0) * 100).toFixed(0)}% ({m.failedDeployments ?? 0})
                      </td>
                      <td>
                        {m.restoredIncidents
                          ? duration(m.timeToRestoreMedianSeconds ?? 0)
                          : 'no restored incident'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Status>
      <Trend filter={{}} />
    </>
  );
};
