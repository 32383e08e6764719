import { useRef } from 'preact/hooks';
import { chosen as chosenIn, OVERVIEW_PAGE_ROWS, overviewCall, overviewPage } from '../calls.js';
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

/** Filters live in the address; changing one starts again at the first page. */
const setFilter = (name: string, value: string): void => setParams({ [name]: value, page: '' });

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
  options: readonly string[];
  value: string;
}) => (
  <label>
    {label}
    <select value={value} onChange={(e) => setFilter(name, (e.target as HTMLSelectElement).value)}>
      <option value="">all</option>
      {/* A value from a shared address is offered before the hub has listed the values. */}
      {(value === '' || options.includes(value) ? options : [value, ...options]).map((o) => (
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
        Services {(page - 1) * OVERVIEW_PAGE_ROWS + 1}–{Math.min(page * OVERVIEW_PAGE_ROWS, total)} of {total}
      </span>
      <button type="button" disabled={page >= pages} onClick={() => go(page + 1)}>
        Next
      </button>
    </nav>
  );
};

interface Column {
  cluster: string;
  environment: string;
}

/** The API's JSON leaves out empty strings, zeros, false and empty lists (proto3 defaults). */
type Answer = {
  deployments?: Partial<Deployment>[];
  truncated?: boolean;
  totalServices?: number;
  columns?: Partial<Column>[];
  clusters?: string[];
  environments?: string[];
  instances?: string[];
};
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

/** The values each filter offers: those of the last answer, kept while the next one loads. */
type Choices = Required<Pick<Answer, 'clusters' | 'environments' | 'instances'>>;
const NO_CHOICES: Choices = { clusters: [], environments: [], instances: [] };

/** One page of the matrix: its services' rows under the filters' columns. */
const Matrix = ({ answer, page }: { answer: Answer; page: number }) => {
  const deployments = (answer.deployments ?? []).map(withDefaults);
  // Columns grouped by environment, then by cluster name.
  const clusters = (answer.columns ?? [])
    .map((c) => ({ cluster: c.cluster ?? '', environment: c.environment ?? '' }))
    .sort((a, b) => a.environment.localeCompare(b.environment) || a.cluster.localeCompare(b.cluster));
  // Indexed once: a find per cell made 10,000 services x 20 clusters take minutes.
  const cellOf = new Map(deployments.map((d) => [`${d.service}\u0000${d.cluster}`, d]));
  const rowOf = new Map<string, Deployment[]>();
  for (const d of deployments) rowOf.set(d.service, [...(rowOf.get(d.service) ?? []), d]);
  const total = answer.totalServices ?? 0;
  const pages = Math.max(1, Math.ceil(total / OVERVIEW_PAGE_ROWS));
  return (
    <>
      {(total > OVERVIEW_PAGE_ROWS || page > 1) && <Pager page={page} pages={pages} total={total} />}
      {answer.truncated && (
        <p class="state">Only the first cells are shown: filter by cluster or instance.</p>
      )}
      <div class="scroll">
        <table aria-label="Services by cluster">
          <thead>
            <tr>
              <th scope="col">Service</th>
              {clusters.map(({ cluster, environment }) => (
                <th scope="col">
                  {cluster}
                  {environment !== '' && <span class="meta">{environment}</span>}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {[...rowOf.keys()].map((service) => {
              const cells = (rowOf.get(service) ?? []).filter((d) => d.kind !== 'service.removed');
              const common = usual(cells);
              const skewed = new Set(cells.map((c) => c.artifactId)).size > 1;
              return (
                <tr data-service={service}>
                  <th scope="row">
                    <a href={`/services/${encodeURIComponent(service)}`}>{service}</a>
                    {skewed && <span class="badge warn">version skew</span>}
                  </th>
                  {clusters.map(({ cluster }) => {
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
    </>
  );
};

/** `/`: what runs where, services by cluster, a page of services at a time. */
export const Overview = ({ url }: { url: URL }) => {
  const chosen = (name: string) => chosenIn(url, name);
  const page = overviewPage(url);
  const filtered = ['service', 'cluster', 'environment', 'instance'].some((name) => chosen(name) !== '');
  const loaded = useQuery<Answer>(overviewCall(url));
  // The filters stay on the page while an answer loads: typing in the service box keeps its focus.
  const choices = useRef<Choices>(NO_CHOICES);
  if (loaded.state === 'ok')
    choices.current = {
      clusters: loaded.data.clusters ?? [],
      environments: loaded.data.environments ?? [],
      instances: loaded.data.instances ?? [],
    };
  return (
    <>
      <h1>What runs where</h1>
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
        <Filter name="cluster" label="Cluster" options={choices.current.clusters} value={chosen('cluster')} />
        <Filter
          name="environment"
          label="Environment"
          options={choices.current.environments}
          value={chosen('environment')}
        />
        <Filter
          name="instance"
          label="Instance"
          options={choices.current.instances}
          value={chosen('instance')}
        />
      </div>
      <Status loaded={loaded}>
        {(answer) =>
          (answer.totalServices ?? 0) > 0 ? (
            <Matrix answer={answer} page={page} />
          ) : filtered ? (
            <Empty>Nothing matches these filters.</Empty>
          ) : (
            <Empty>{NO_EVENTS}</Empty>
          )
        }
      </Status>
    </>
  );
};
