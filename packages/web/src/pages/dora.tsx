import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { doraCall, doraGrouping } from '../calls.js';
import { duration } from '../format.js';
import { setParam } from '../router.js';
import { Empty, Status } from '../states.js';
import { useQuery } from '../use-query.js';

interface Metrics {
  key?: string;
  bucketStart?: string;
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
/** Groups drawn in the trend charts (the most deployments first): more lines are unreadable. */
const TREND_GROUPS = 6;
const COLOURS = ['#0b57d0', '#8c1d18', '#146c2e', '#7c4dff', '#b26a00', '#00696f'];

/** One metric of a bucket, or null where it has no sample (a gap, not a zero). */
const TREND_METRICS: readonly { title: string; value: (m: Metrics) => number | null }[] = [
  { title: 'Deployments per day', value: (m) => m.deploymentsPerDay ?? 0 },
  {
    title: 'Lead time, median (hours)',
    value: (m) => (m.leadTimeSamples ? (m.leadTimeMedianSeconds ?? 0) / 3600 : null),
  },
  {
    title: 'Change failure rate (%)',
    value: (m) => (m.deployments ? (m.changeFailureRate ?? 0) * 100 : null),
  },
  {
    title: 'Time to restore, median (hours)',
    value: (m) => (m.restoredIncidents ? (m.timeToRestoreMedianSeconds ?? 0) / 3600 : null),
  },
];

/**
 * uPlot, loaded only by this page: the bundle keeps it in a file of its own (~50 KB), so the other
 * pages and this page's table do not wait for it.
 */
let uPlotModule: Promise<typeof uPlot> | undefined;
const loadUPlot = (): Promise<typeof uPlot> => {
  uPlotModule ??= import('uplot').then((module) => module.default);
  return uPlotModule;
};

/** One metric's weekly trend, a line per group; `data-points` counts the points drawn. */
const TrendChart = ({
  title,
  weeks,
  series,
}: {
  title: string;
  weeks: number[];
  series: { key: string; values: (number | null)[] }[];
}) => {
  const box = useRef<HTMLDivElement>(null);
  const key = JSON.stringify([title, weeks, series]);
  useEffect(() => {
    let plot: uPlot | undefined;
    let gone = false;
    loadUPlot().then(
      (UPlot) => {
        if (gone || box.current === null) return;
        plot = new UPlot(
          {
            width: Math.min(box.current.clientWidth || 440, 440),
            height: 200,
            title,
            series: [
              {},
              ...series.map((s, i) => ({
                label: s.key || '(none)',
                stroke: COLOURS[i % COLOURS.length] ?? '#0b57d0',
                points: { show: true },
              })),
            ],
          },
          [weeks, ...series.map((s) => s.values)],
          box.current,
        );
      },
      (error: Error) => {
        if (!gone && box.current !== null)
          box.current.textContent = `The chart could not be drawn: ${error.message}`;
      },
    );
    return () => {
      gone = true;
      plot?.destroy();
    };
  }, [key]);
  const points = series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
  return (
    <figure class="chart" aria-label={`Weekly trend: ${title}`} data-points={points}>
      <div ref={box} />
    </figure>
  );
};

/** The four metrics of each of the last WEEKS weeks, per group, from one bucketed call. */
const Trend = ({ groupBy }: { groupBy: string }) => {
  // The window is fixed when the page opens, so a re-render does not ask again.
  const [range] = useState(() => {
    const until = Date.now();
    return { since: new Date(until - WEEKS * WEEK_MS).toISOString(), until: new Date(until).toISOString() };
  });
  const loaded = useQuery<{ metrics?: Metrics[] }>({
    path: 'dora',
    params: { groupBy, bucket: 'week', ...range },
  });
  return (
    <Status loaded={loaded}>
      {({ metrics = [] }) => {
        const byKey = new Map<string, Metrics[]>();
        for (const m of metrics) byKey.set(m.key ?? '', [...(byKey.get(m.key ?? '') ?? []), m]);
        const total = (list: Metrics[]) => list.reduce((n, m) => n + (m.deployments ?? 0), 0);
        const groups = [...byKey]
          .sort((a, b) => total(b[1]) - total(a[1]) || a[0].localeCompare(b[0]))
          .slice(0, TREND_GROUPS);
        const weeks = (groups[0]?.[1] ?? []).map((m) => new Date(m.bucketStart ?? 0).getTime() / 1000);
        if (weeks.length === 0) return <Empty>No deployments in the last {WEEKS} weeks.</Empty>;
        return (
          <>
            <h2>
              Weekly trend by {groupBy}
              {byKey.size > TREND_GROUPS && (
                <span class="meta">
                  {' '}
                  the {TREND_GROUPS} of {byKey.size} with the most deployments
                </span>
              )}
            </h2>
            <div class="charts">
              {TREND_METRICS.map(({ title, value }) => (
                <TrendChart
                  title={title}
                  weeks={weeks}
                  series={groups.map(([key, list]) => ({ key, values: list.map(value) }))}
                />
              ))}
            </div>
          </>
        );
      }}
    </Status>
  );
};

/** `/dora`: the four DORA metrics over 30 days, grouped, with their weekly trends. */
export const Dora = ({ url }: { url: URL }) => {
  const groupBy = doraGrouping(url);
  const loaded = useQuery<{ metrics?: Metrics[] }>(doraCall(url));
  // The chart library loads while the table's data does: it is no part of the table.
  useEffect(() => void loadUPlot().catch(() => undefined), []);
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
      {/* After the table's answer: two DORA queries at once on two cores took ~2 s each at 10M events;
          one after the other the table is drawn in ~0.5 s and the trend follows. */}
      {loaded.state !== 'loading' && <Trend groupBy={groupBy} />}
    </>
  );
};
