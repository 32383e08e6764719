import type { ComponentChildren } from 'preact';
import type { Loaded } from './use-query.js';

/** Loading and error states said plainly; `children` renders the data. */
export const Status = <T,>({
  loaded,
  children,
}: {
  loaded: Loaded<T>;
  children: (data: T) => ComponentChildren;
}) => {
  if (loaded.state === 'loading')
    return (
      <p class="state" role="status">
        Loading…
      </p>
    );
  if (loaded.state === 'error')
    return (
      <p class="state error" role="alert">
        {loaded.message}
      </p>
    );
  return <>{children(loaded.data)}</>;
};

export const Empty = ({ children }: { children: ComponentChildren }) => (
  <p class="state" role="status">
    {children}
  </p>
);

export const NO_EVENTS = (
  <>
    No events yet: start an agent or <code>argus send</code> one.
  </>
);
