import type { Params } from './api.js';
import { routeOf } from './routes.js';

/**
 * The API calls the pages make as they open, in one place: the pages ask them through useQuery and
 * early.ts starts them before the pages' modules have loaded, so both must build the same address.
 */
export interface Call {
  readonly path: string;
  readonly params: Params;
}

/**
 * Service rows per page of what runs where, asked of the hub page by page. All of 10,000 services x
 * 20 clusters took Chromium 12 s to draw; 300 rows took 0.35 s to lay out, 100 rows 0.1 s; and the
 * whole matrix was 2.3 MB of JSON to fetch and parse for a page of it (docs/benchmarks.md, 2026-12-06).
 */
export const OVERVIEW_PAGE_ROWS = 100;

/** The filter of `/` named `name` in the address, '' when unset. */
export const chosen = (url: URL, name: string): string => url.searchParams.get(name) ?? '';

/** The page of services `/` shows, 1 unless the address says another. */
export const overviewPage = (url: URL): number => Math.max(1, Math.floor(Number(chosen(url, 'page')) || 1));

export const overviewCall = (url: URL): Call => {
  const page = overviewPage(url);
  return {
    path: 'deployments',
    params: {
      serviceContains: chosen(url, 'service'),
      cluster: chosen(url, 'cluster'),
      environment: chosen(url, 'environment'),
      instance: chosen(url, 'instance'),
      pageSize: String(OVERVIEW_PAGE_ROWS),
      page: page === 1 ? '' : String(page),
    },
  };
};

export const timelineCall = (service: string): Call => ({
  // With upstream: where the deployed artifacts came from (their builds, the changes merged in their
  // chains), the links DORA's lead time follows, found by the hub in the same call.
  path: `services/${encodeURIComponent(service)}/timeline`,
  params: { upstream: 'true' },
});

/** How `/dora` groups, from its address. */
export const doraGrouping = (url: URL): string => url.searchParams.get('groupBy') ?? 'cluster';

/** The 30-day table of `/dora` (its weekly trend is asked for after, by its own call). */
export const doraCall = (url: URL): Call => ({ path: 'dora', params: { groupBy: doraGrouping(url) } });

export const INSTANCES_CALL: Call = { path: 'instances', params: {} };
export const STATS_CALL: Call = { path: 'stats', params: {} };

/** The calls the page at `url` makes first, to be started as early as the page can. */
export const openingCalls = (url: URL): readonly Call[] => {
  const route = routeOf(url.pathname);
  switch (route.page) {
    case 'overview':
      return [overviewCall(url)];
    case 'service':
      return [timelineCall(route.service)];
    case 'dora':
      return [doraCall(url)];
    case 'instances':
      return [INSTANCES_CALL, STATS_CALL];
    default:
      // The live stream and the dead letters' pages keep state of their own (a stream, page tokens).
      return [];
  }
};
