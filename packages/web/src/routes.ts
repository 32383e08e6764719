/** What each address of the dashboard shows: the one home of the pages' addresses in the browser. */
export type Route =
  | { readonly page: 'overview' }
  | { readonly page: 'service'; readonly service: string }
  | { readonly page: 'live' }
  | { readonly page: 'dora' }
  | { readonly page: 'instances' }
  | { readonly page: 'dead-letters' };

const NAMED: Readonly<Record<string, Route>> = {
  '/live': { page: 'live' },
  '/dora': { page: 'dora' },
  '/instances': { page: 'instances' },
  '/dead-letters': { page: 'dead-letters' },
};

/** The page of a path; an unknown path shows what runs where. */
export const routeOf = (pathname: string): Route => {
  const service = /^\/services\/([^/]+)$/.exec(pathname)?.[1];
  if (service !== undefined) return { page: 'service', service: decodeURIComponent(service) };
  return NAMED[pathname] ?? { page: 'overview' };
};
