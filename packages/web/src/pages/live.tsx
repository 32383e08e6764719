import { useEffect, useRef, useState } from 'preact/hooks';
import { type ApiEvent, follow, Unauthorized } from '../api.js';
import { time } from '../format.js';
import { setParam } from '../router.js';
import { Empty } from '../states.js';
import { askForToken } from '../token.js';

/** Events kept in the page: older ones fall off, so 1,000 events/s never grows the page. */
export const LIVE_BUFFER = 2000;
const ROW_PX = 28;

/** `/live`: the unified stream as it happens, newest first, rendered only where visible. */
export const Live = ({ url }: { url: URL }) => {
  const cluster = url.searchParams.get('cluster') ?? '';
  const type = url.searchParams.get('type') ?? '';
  const instance = url.searchParams.get('instance') ?? '';
  const [events, setEvents] = useState<ApiEvent[]>([]);
  const [paused, setPaused] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [scrollTop, setScrollTop] = useState(0);
  const pending = useRef<ApiEvent[]>([]);
  const pausedRef = useRef(false);
  pausedRef.current = paused;

  useEffect(() => {
    const controller = new AbortController();
    setEvents([]);
    setError(undefined);
    let frame = 0;
    // One render per animation frame, whatever the rate of events.
    const flush = () => {
      frame = 0;
      if (pausedRef.current || pending.current.length === 0) return;
      const batch = pending.current.reverse();
      pending.current = [];
      setEvents((old) => [...batch, ...old].slice(0, LIVE_BUFFER));
    };
    follow(
      { cluster, type, instance },
      (batch) => {
        pending.current.push(...batch);
        if (pending.current.length > LIVE_BUFFER) pending.current = pending.current.slice(-LIVE_BUFFER);
        if (frame === 0) frame = requestAnimationFrame(flush);
      },
      controller.signal,
    ).then(
      () => {
        if (!controller.signal.aborted) setError('the hub ended the stream: reload to follow again');
      },
      (e: Error) => {
        if (controller.signal.aborted) return;
        if (e instanceof Unauthorized) askForToken(e.message);
        setError(e.message);
      },
    );
    return () => {
      controller.abort();
      cancelAnimationFrame(frame);
    };
  }, [cluster, type, instance]);

  const height = 28 * 16;
  const first = Math.max(0, Math.floor(scrollTop / ROW_PX) - 5);
  const visible = events.slice(first, first + Math.ceil(height / ROW_PX) + 10);
  const input = (name: string, label: string, value: string, placeholder: string) => (
    <label>
      {label}
      <input
        value={value}
        placeholder={placeholder}
        onChange={(e) => setParam(name, (e.target as HTMLInputElement).value.trim())}
      />
    </label>
  );
  return (
    <>
      <h1>Live stream</h1>
      <div class="filters">
        {input('cluster', 'Cluster', cluster, 'any')}
        {input('type', 'Type', type, 'dev.cdevents.service.deployed.0.2.0')}
        {input('instance', 'Instance', instance, 'any')}
        <button type="button" onClick={() => setPaused(!paused)} aria-pressed={paused}>
          {paused ? 'Resume' : 'Pause'}
        </button>
      </div>
      <p class="meta" role="status" aria-live="polite">
        {error === undefined
          ? `${paused ? 'Paused' : 'Following'}: ${events.length} event${events.length === 1 ? '' : 's'} shown (the newest ${LIVE_BUFFER} are kept)`
          : ''}
      </p>
      {error !== undefined && (
        <p class="state error" role="alert">
          {error}
        </p>
      )}
      {events.length === 0 && error === undefined ? (
        <Empty>
          Waiting for events: nothing has arrived since this page opened. Start an agent or `argus send` one.
        </Empty>
      ) : (
        <ul
          class="live"
          aria-label="Events, newest first"
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus to scroll by keyboard
          tabIndex={0}
          onScroll={(e) => setScrollTop((e.target as HTMLElement).scrollTop)}
        >
          <li aria-hidden="true" style={{ height: `${events.length * ROW_PX}px`, listStyle: 'none' }} />
          {visible.map((e, i) => (
            <li class="row" style={{ top: `${(first + i) * ROW_PX}px` }} data-id={e.id}>
              {time(e.timestamp)} · {e.cluster || '(no cluster)'} · {e.subjectType}.{e.predicate} ·{' '}
              {e.subjectId} · {e.instance}
            </li>
          ))}
        </ul>
      )}
    </>
  );
};
