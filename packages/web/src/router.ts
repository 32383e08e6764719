import { useEffect, useState } from 'preact/hooks';

/** History-API navigation: shareable addresses, no reload. */
export const navigate = (href: string): void => {
  history.pushState(null, '', href);
  dispatchEvent(new PopStateEvent('popstate'));
};

export const useLocation = (): URL => {
  const [url, setUrl] = useState(() => new URL(location.href));
  useEffect(() => {
    const update = () => setUrl(new URL(location.href));
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return url;
};

/** A link that navigates in place (and still opens in a new tab with a modifier key). */
export const onLinkClick = (event: MouseEvent): void => {
  const anchor = (event.target as HTMLElement).closest('a');
  if (anchor === null || anchor.origin !== location.origin || anchor.target !== '') return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
};

/** Updates query parameters of the address (filters), keeping the page; '' removes one. */
export const setParams = (changes: Readonly<Record<string, string>>): void => {
  const url = new URL(location.href);
  for (const [name, value] of Object.entries(changes)) {
    if (value === '') url.searchParams.delete(name);
    else url.searchParams.set(name, value);
  }
  history.replaceState(null, '', url);
  dispatchEvent(new PopStateEvent('popstate'));
};

/** Updates one query parameter of the address. */
export const setParam = (name: string, value: string): void => setParams({ [name]: value });
