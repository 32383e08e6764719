import { useLayoutEffect, useState } from 'preact/hooks';
import { query, Unauthorized } from './api.js';
import type { Call } from './calls.js';
import { askForToken } from './token.js';

export type Loaded<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'error'; readonly message: string }
  | { readonly state: 'ok'; readonly data: T };

/**
 * Loads one API answer; again when the call's path, the parameters or `reload` (a counter a page bumps
 * after a change) change. A 401 opens the token prompt. The call starts (or takes the answer early.ts
 * started) as the page is rendered, not after its first paint a frame or more later: a layout effect.
 */
export const useQuery = <T>({ path, params }: Call, reload = 0): Loaded<T> => {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const key = `${path}?${JSON.stringify(params)}#${reload}`;
  useLayoutEffect(() => {
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
