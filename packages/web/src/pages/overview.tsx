import { ago, version } from '../format.js';
import { setParams } from '../router.js';
import { Empty, NO_EVENTS, Status } from '../states.js';
import { useQuery } from '../use-query.js';

interface Deployment {
  service: string;
  cluster: string;
  environment: string;
  instance: string;
  kind: string;
  artifactId: string;
  time: string;
  openIncidents: number;
}

/**
 * Service rows drawn per page. All of 10,000 services x 20 clusters took Chromium 12 s to draw; 300
 * rows took 0.35 s to lay out, 100 rows 0.1 s (docs/benchmarks.md, 2026-12-06, third session). The
 * rest are a page or a filter away.
 */
const PAGE_ROWS = 100;

/** Filters live in the address; changing one starts again at the first page. */
const setFilter = (name: string, value: string): void => setParams({ [name]: value, page: '' });

const distinct = (values: string[]): string[] => [...new Set(values.filter((v) => v !== ''))].sort();

/** The artifact most clusters run: the others are skew. */
const usual = (cells: Deployment[]): string | undefined => {
  const counts = new Map<string, number>();
  for (const c of cells) counts.set(c.artifactId, (counts.get(c.artifactId) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
};

const Filter = ({
  name,
  label,
  options,
  value,
}: {
  name: string;
  label: string;
  options: string[];
  value: string;
}) => (
  <label>
    {label}
    <select value={value} onChange={(e) => setFilter(name, (e.target as HTMLSelectElement).value)}>
      <option value="">all</option>
      {options.map((o) => (
        <option value={o}>{o}</option>
      ))}
    </select>
  </label>
);

/** Previous and next page of services, and where this page is. */
const Pager = ({ page, pages, total }: { page: number; pages: number; total: number }) => {
  const go = (to: number) => setParams({ page: to === 1 ? '' : String(to) });
  return (
    <nav class="pager" aria-label="Pages of services">
      <button type="button" disabled={page <= 1} onClick={() => go(page - 1)}>
        Previous
      </button>
      <span aria-live="polite">
        Services {(page - 1) * PAGE_ROWS + 1}–{Math.min(page * PAGE_ROWS, total)} of {total}
      </span>
      <button type="button" disabled={page >= pages} onClick={() => go(page + 1)}>
        Next
      </button>
    </nav>
  );
};

/** The API's JSON leaves out empty strings, zeros and false (proto3 defaults). */
type Answer = { deployments?: Partial<Deployment>[]; truncated?: boolean };
const withDefaults = (d: Partial<Deployment>): Deployment => ({
  service: '',
  cluster: '',
  environment: '',
  instance: '',
  kind: '',
  artifactId: '',
  time: '',
  openIncidents: 0,
  ...d,
});

/** `/`: what runs where, services by cluster. */
export const Overview = ({ url }: { url: URL }) => {
  const loaded = useQuery<Answer>('deployments');
  const chosen = (name: string) => url.searchParams.get(name) ?? '';
  return (
    <>
      <h1>What runs where</h1>
      <Status loaded={loaded}>
        {(answer) => {
          const deployments = (answer.deployments ?? []).map(withDefaults);
          const truncated = answer.truncated ?? false;
          if (deployments.length === 0) return <Empty>{NO_EVENTS}</Empty>;
          const named = chosen('service').toLowerCase();
          const shown = deployments.filter(
            (d) =>
              (named === '' || d.service.toLowerCase().includes(named)) &&
              (chosen('cluster') === '' || d.cluster === chosen('cluster')) &&
              (chosen('environment') === '' || d.environment === chosen('environment')) &&
              (chosen('instance') === '' || d.instance === chosen('instance')),
          );
          // Columns grouped by environment, then by cluster name.
          const clusters = [...new Map(shown.map((d) => [d.cluster, d.environment])).entries()].sort(
            (a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0]),
          );
          const services = distinct(shown.map((d) => d.service));
          const pages = Math.max(1, Math.ceil(services.length / PAGE_ROWS));
          const page = Math.min(pages, Math.max(1, Math.floor(Number(chosen('page')) || 1)));
          // Indexed once: a find per cell made 10,000 services x 20 clusters take minutes.
          const cellOf = new Map(shown.map((d) => [`${d.service}\u0000${d.cluster}`, d]));
          const rowOf = new Map<string, Deployment[]>();
          for (const d of shown) rowOf.set(d.service, [...(rowOf.get(d.service) ?? []), d]);
          return (
            <>
              <div class="filters">
                <label>
                  Service
                  <input
                    type="search"
                    value={chosen('service')}
                    placeholder="name contains"
                    onInput={(e) => setFilter('service', (e.target as HTMLInputElement).value)}
                  />
                </label>
                <Filter
                  name="cluster"
                  label="Cluster"
                  options={distinct(deployments.map((d) => d.cluster))}
                  value={chosen('cluster')}
                />
                <Filter
                  name="environment"
                  label="Environment"
                  options={distinct(deployments.map((d) => d.environment))}
                  value={chosen('environment')}
                />
                <Filter
                  name="instance"
                  label="Instance"
                  options={distinct(deployments.map((d) => d.instance))}
                  value={chosen('instance')}
                />
              </div>
              {services.length > PAGE_ROWS && <Pager page={page} pages={pages} total={services.length} />}
              {truncated && (
                <p class="state">Only the first cells are shown: filter by cluster or instance.</p>
              )}
              {shown.length === 0 ? (
                <Empty>Nothing matches these filters.</Empty>
              ) : (
                <div class="scroll">
                  <table aria-label="Services by cluster">
                    <thead>
                      <tr>
                        <th scope="col">Service</th>
                        {clusters.map(([cluster, environment]) => (
                          <th scope="col">
                            {cluster}
                            {environment !== '' && <span class="meta">{environment}</span>}
                          </th>
                        ))}
                      </tr>
                    </thead>
                    <tbody>
                      {services.slice((page - 1) * PAGE_ROWS, page * PAGE_ROWS).map((service) => {
                        const cells = (rowOf.get(service) ?? []).filter((d) => d.kind !== 'service.removed');
                        const common = usual(cells);
                        const skewed = new Set(cells.map((c) => c.artifactId)).size > 1;
                        return (
                          <tr data-service={service}>
                            <th scope="row">
                              <a href={`/services/${encodeURIComponent(service)}`}>{service}</a>
                              {skewed && <span class="badge warn">version skew</span>}
                            </th>
                            {clusters.map(([cluster]) => {
                              const d = cellOf.get(`${service}\u0000${cluster}`);
                              if (d === undefined) return <td class="none">—</td>;
                              const skew = skewed && d.kind !== 'service.removed' && d.artifactId !== common;
                              return (
                                <td class={skew ? 'skew' : ''} data-cluster={cluster} title={d.artifactId}>
                                  <span class="version">
                                    {d.kind === 'service.removed' ? 'removed' : version(d.artifactId)}
                                  </span>
                                  {skew && <span class="badge warn">differs</span>}
                                  {d.openIncidents > 0 && (
                                    <span class="badge">
                                      {d.openIncidents} open incident{d.openIncidents > 1 ? 's' : ''}
                                    </span>
                                  )}
                                  <span class="meta">
                                    {d.kind.replace('service.', '')} {ago(d.time)} by {d.instance}
                                  </span>
                                </td>
                              );
                            })}
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </div>
              )}
            </>
          );
        }}
      </Status>
    </>
  );
};
