import { useEffect, useState } from 'preact/hooks';
import { type Params, query, Unauthorized } from './api.js';
import { askForToken } from './token.js';

export type Loaded<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'error'; readonly message: string }
  | { readonly state: 'ok'; readonly data: T };

/**
 * Loads one API answer; again when the path, the parameters or `reload` (a counter a page bumps
 * after a change) change. A 401 opens the token prompt.
 */
export const useQuery = <T>(path: string, params: Params = {}, reload = 0): Loaded<T> => {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const key = `${path}?${JSON.stringify(params)}#${reload}`;
  useEffect(() => {
    const controller = new AbortController();
    setLoaded({ state: 'loading' });
    query<T>(path, params, controller.signal).then(
      (data) => setLoaded({ state: 'ok', data }),
      (error: Error) => {
        if (controller.signal.aborted) return;
        if (error instanceof Unauthorized) askForToken(error.message);
        setLoaded({ state: 'error', message: error.message });
      },
    );
    return () => controller.abort();
  }, [key]);
  return loaded;
};
