import { ago, version } from '../format.js';
import { setParam } from '../router.js';
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
 * Service rows drawn at once: 10,000 services x 20 clusters took Chromium 12 s to draw (the
 * filters narrow the rest down).
 */
const MAX_ROWS = 300;

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
    <select value={value} onChange={(e) => setParam(name, (e.target as HTMLSelectElement).value)}>
      <option value="">all</option>
      {options.map((o) => (
        <option value={o}>{o}</option>
      ))}
    </select>
  </label>
);

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
          const shown = deployments.filter(
            (d) =>
              (chosen('cluster') === '' || d.cluster === chosen('cluster')) &&
              (chosen('environment') === '' || d.environment === chosen('environment')) &&
              (chosen('instance') === '' || d.instance === chosen('instance')),
          );
          // Columns grouped by environment, then by cluster name.
          const clusters = [...new Map(shown.map((d) => [d.cluster, d.environment])).entries()].sort(
            (a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0]),
          );
          const services = distinct(shown.map((d) => d.service));
          // Indexed once: a find per cell made 10,000 services x 20 clusters take minutes.
          const cellOf = new Map(shown.map((d) => [`${d.service}\u0000${d.cluster}`, d]));
          const rowOf = new Map<string, Deployment[]>();
          for (const d of shown) rowOf.set(d.service, [...(rowOf.get(d.service) ?? []), d]);
          return (
            <>
              <div class="filters">
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
              {services.length > MAX_ROWS && (
                <p class="state">
                  The first {MAX_ROWS} of {services.length} services: filter by cluster, environment or
                  instance.
                </p>
              )}
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
                      {services.slice(0, MAX_ROWS).map((service) => {
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
