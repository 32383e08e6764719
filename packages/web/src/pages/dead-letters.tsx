import { useEffect, useState } from 'preact/hooks';
import { Forbidden, post, Unauthorized } from '../api.js';
import { asText, fromBase64, HEX_VIEW_BYTES, hexDump } from '../bytes.js';
import { time } from '../format.js';
import { Empty, Status } from '../states.js';
import { askForToken } from '../token.js';
import { useQuery } from '../use-query.js';

interface DeadLetter {
  sequence: number;
  time?: string;
  reason?: string;
  errorClass?: string;
  detail?: string;
  producer?: string;
  originalSubject?: string;
  originalSequence?: number;
  originalSize?: number;
  truncated?: boolean;
  replayOf?: number;
}

interface Shown {
  deadLetter?: DeadLetter;
  data?: string;
  headers?: { name: string; value: string }[];
}

/** Dead letters per page, as the gRPC call pages them. */
export const DEAD_LETTER_PAGE = 50;

type View = 'text' | 'hex' | 'base64';

type Replay =
  | { readonly state: 'idle' }
  | { readonly state: 'confirm' }
  | { readonly state: 'running' }
  | { readonly state: 'done'; readonly message: string }
  | { readonly state: 'denied'; readonly message: string }
  | { readonly state: 'failed'; readonly message: string };

const bytesLabel = (d: DeadLetter): string =>
  `${d.originalSize ?? 0} B${d.truncated ? ' (only the first kept)' : ''}`;

/** One dead letter, loaded when opened: its headers and bytes, and the replay. */
const Detail = ({ sequence, onReplayed }: { sequence: number; onReplayed: (message: string) => void }) => {
  const loaded = useQuery<Shown>({ path: `dead-letters/${sequence}`, params: {} });
  const [view, setView] = useState<View | undefined>(undefined);
  const [replay, setReplay] = useState<Replay>({ state: 'idle' });
  const run = () => {
    setReplay({ state: 'running' });
    post<{ rawSequence?: number | string; duplicate?: boolean }>(`dead-letters/${sequence}/replay`).then(
      (r) =>
        onReplayed(
          r.duplicate
            ? `Dead letter ${sequence} was replayed already (raw sequence ${r.rawSequence ?? 0}): nothing sent.`
            : `Dead letter ${sequence} replayed as raw sequence ${r.rawSequence ?? 0}. If it is still refused, it comes back with its reason.`,
        ),
      (error: Error) => {
        if (error instanceof Unauthorized) askForToken(error.message);
        setReplay(
          error instanceof Forbidden
            ? { state: 'denied', message: error.message }
            : { state: 'failed', message: error.message },
        );
      },
    );
  };
  return (
    <section class="detail" aria-label={`Dead letter ${sequence}`}>
      <h2>Dead letter {sequence}</h2>
      <Status loaded={loaded}>
        {({ deadLetter: d = { sequence }, data = '', headers = [] }) => {
          const bytes = fromBase64(data);
          const text = asText(bytes);
          const shown: View = view ?? (text === undefined ? 'hex' : 'text');
          return (
            <>
              <dl class="facts">
                <dt>Reason</dt>
                <dd>
                  <strong>{d.reason || '(none)'}</strong> ({d.errorClass || 'no error class'})
                  {(d.replayOf ?? 0) > 0 && `, replay of ${d.replayOf}`}
                </dd>
                <dt>Detail</dt>
                <dd data-testid="dead-letter-detail">{d.detail || '—'}</dd>
                <dt>From</dt>
                <dd>
                  {d.producer || '—'} on <code>{d.originalSubject || '—'}</code> (raw sequence{' '}
                  {d.originalSequence ?? 0})
                </dd>
                <dt>Size</dt>
                <dd>{bytesLabel(d)}</dd>
              </dl>
              <h3>Headers</h3>
              {headers.length === 0 ? (
                <p class="meta">No headers besides the hub's.</p>
              ) : (
                <div class="scroll">
                  <table aria-label="Original headers">
                    <tbody>
                      {headers.map((h) => (
                        <tr>
                          <th scope="row">{h.name}</th>
                          <td>{h.value}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              <h3>Original bytes</h3>
              <fieldset class="views">
                <legend>Show the bytes as</legend>
                {(['text', 'hex', 'base64'] as const).map((v) => (
                  <button
                    type="button"
                    aria-pressed={shown === v}
                    disabled={v === 'text' && text === undefined}
                    onClick={() => setView(v)}
                  >
                    {v}
                  </button>
                ))}
              </fieldset>
              {text === undefined && (
                <p class="meta" role="note">
                  Not valid UTF-8: shown as hex (the first {HEX_VIEW_BYTES / 1024} KiB) or base64.
                </p>
              )}
              <pre class="bytes" data-testid="dead-letter-bytes">
                {shown === 'text' ? text : shown === 'hex' ? hexDump(bytes) : data}
              </pre>
              <h3>Replay</h3>
              {replay.state === 'idle' || replay.state === 'failed' || replay.state === 'denied' ? (
                <button type="button" onClick={() => setReplay({ state: 'confirm' })}>
                  Replay…
                </button>
              ) : replay.state === 'confirm' || replay.state === 'running' ? (
                <fieldset class="confirm">
                  <legend>Confirm the replay</legend>
                  <p>
                    Send dead letter {sequence} through the pipeline again? Do it after the fix (a registry
                    entry, a hub upgrade). It is sent once and leaves this list; if still refused it comes
                    back with its reason.
                  </p>
                  <button type="button" disabled={replay.state === 'running'} onClick={run}>
                    Replay now
                  </button>{' '}
                  <button
                    type="button"
                    disabled={replay.state === 'running'}
                    onClick={() => setReplay({ state: 'idle' })}
                  >
                    Cancel
                  </button>
                </fieldset>
              ) : null}
              {replay.state === 'denied' && (
                <p class="state error" role="alert">
                  Permission denied: {replay.message}.{' '}
                  <button type="button" onClick={() => askForToken('Replaying needs an admin token.')}>
                    Use an admin token
                  </button>
                </p>
              )}
              {replay.state === 'failed' && (
                <p class="state error" role="alert">
                  The replay failed: {replay.message}
                </p>
              )}
            </>
          );
        }}
      </Status>
    </section>
  );
};

/** `/dead-letters`: what the hub refused and why, the original bytes on demand, and the replay. */
export const DeadLetters = () => {
  // Page tokens of the pages seen, for going back; the last is the page shown.
  const [tokens, setTokens] = useState<string[]>(['']);
  const [open, setOpen] = useState<number | undefined>(undefined);
  const [reload, setReload] = useState(0);
  const [replayed, setReplayed] = useState<string | undefined>(undefined);
  const pageToken = tokens[tokens.length - 1] ?? '';
  const loaded = useQuery<{ deadLetters?: DeadLetter[]; nextPageToken?: string; total?: number | string }>(
    { path: 'dead-letters', params: { pageSize: String(DEAD_LETTER_PAGE), pageToken } },
    reload,
  );
  // A replayed dead letter is gone: the panel closes and the list loads again.
  const onReplayed = (message: string) => {
    setReplayed(message);
    setOpen(undefined);
    setReload(reload + 1);
  };
  useEffect(() => {
    if (open !== undefined) document.getElementById(`dead-letter-${open}`)?.focus();
  }, [open]);
  return (
    <>
      <h1>Dead letters</h1>
      <p class="meta">
        Messages the hub refused (CDEVENTS_DLQ), oldest first, with the reason. Open one for its headers and
        original bytes; replay it after a fix.
      </p>
      {replayed !== undefined && (
        <p class="state ok" role="status">
          {replayed}
        </p>
      )}
      <Status loaded={loaded}>
        {({ deadLetters = [], nextPageToken = '', total = 0 }) =>
          deadLetters.length === 0 && tokens.length === 1 ? (
            <Empty>No dead letters: the hub stored or dropped as duplicate everything it received.</Empty>
          ) : (
            <>
              <p>
                <strong data-testid="dead-letter-total">{Number(total)}</strong> in CDEVENTS_DLQ
                {tokens.length > 1 && ` · page ${tokens.length}`}
              </p>
              <div class="scroll">
                <table aria-label="Dead letters">
                  <thead>
                    <tr>
                      <th scope="col">Seq</th>
                      <th scope="col">When</th>
                      <th scope="col">Reason</th>
                      <th scope="col">Producer and subject</th>
                      <th scope="col">Size</th>
                    </tr>
                  </thead>
                  <tbody>
                    {deadLetters.map((d) => (
                      <tr data-sequence={d.sequence} class={open === d.sequence ? 'open' : ''}>
                        <th scope="row">
                          <button
                            type="button"
                            aria-expanded={open === d.sequence}
                            aria-controls={open === d.sequence ? `dead-letter-${d.sequence}` : undefined}
                            onClick={() => setOpen(open === d.sequence ? undefined : d.sequence)}
                          >
                            #{d.sequence}
                            <span class="sr-only"> {open === d.sequence ? 'hide' : 'show'} the original</span>
                          </button>
                        </th>
                        <td>{d.time === undefined ? '—' : time(d.time)}</td>
                        <td>
                          <strong>{d.reason || '(none)'}</strong>
                          {(d.replayOf ?? 0) > 0 && <span class="badge warn">replay of {d.replayOf}</span>}
                          <span class="meta">
                            {d.errorClass}
                            {d.detail ? `: ${d.detail}` : ''}
                          </span>
                        </td>
                        <td>
                          {d.producer || '—'}
                          <span class="meta">{d.originalSubject}</span>
                        </td>
                        <td class="nowrap">{bytesLabel(d)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <nav class="pager" aria-label="Pages of dead letters">
                <button
                  type="button"
                  disabled={tokens.length === 1}
                  onClick={() => setTokens(tokens.slice(0, -1))}
                >
                  Previous page
                </button>
                <button
                  type="button"
                  disabled={nextPageToken === ''}
                  onClick={() => setTokens([...tokens, nextPageToken])}
                >
                  Next page
                </button>
              </nav>
              {open !== undefined && (
                <div id={`dead-letter-${open}`} tabIndex={-1}>
                  <Detail key={open} sequence={open} onReplayed={onReplayed} />
                </div>
              )}
            </>
          )
        }
      </Status>
    </>
  );
};
