import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { saveToken } from './api.js';
import { DeadLetters } from './pages/dead-letters.js';
import { Dora } from './pages/dora.js';
import { Instances } from './pages/instances.js';
import { Live } from './pages/live.js';
import { Overview } from './pages/overview.js';
import { ServicePage } from './pages/service.js';
import { onLinkClick, useLocation } from './router.js';
import { routeOf } from './routes.js';
import { onTokenNeeded } from './token.js';

const PAGES = [
  ['/', 'What runs where'],
  ['/live', 'Live'],
  ['/dora', 'DORA'],
  ['/instances', 'Instances'],
  ['/dead-letters', 'Dead letters'],
] as const;

/** The token form: kept in sessionStorage (this tab only), sent as a bearer header, never in the address. */
const TokenForm = ({ reason, done }: { reason: string; done: () => void }) => {
  const [value, setValue] = useState('');
  return (
    <form
      class="token"
      onSubmit={(e) => {
        e.preventDefault();
        saveToken(value.trim());
        done();
      }}
    >
      <h1>This hub needs an API token</h1>
      <p role="alert">{reason}</p>
      <label for="token">API token (one of the hub's --api-tokens, or an --admin-tokens one to replay)</label>
      <input
        id="token"
        type="password"
        autocomplete="off"
        value={value}
        onInput={(e) => setValue((e.target as HTMLInputElement).value)}
      />
      <button type="submit">Use this token</button>
    </form>
  );
};

const App = () => {
  const url = useLocation();
  const [tokenReason, setTokenReason] = useState<string | undefined>(undefined);
  const [generation, setGeneration] = useState(0);
  useEffect(() => onTokenNeeded((reason) => setTokenReason(reason)), []);
  const path = url.pathname;
  const route = routeOf(path);
  const page =
    tokenReason !== undefined ? (
      <TokenForm
        reason={tokenReason}
        done={() => {
          setTokenReason(undefined);
          setGeneration(generation + 1);
        }}
      />
    ) : route.page === 'service' ? (
      <ServicePage service={route.service} />
    ) : route.page === 'live' ? (
      <Live url={url} />
    ) : route.page === 'dora' ? (
      <Dora url={url} />
    ) : route.page === 'instances' ? (
      <Instances />
    ) : route.page === 'dead-letters' ? (
      <DeadLetters />
    ) : (
      <Overview url={url} />
    );
  return (
    // Links navigate in place; the handler sits on the container so every page's links take part.
    // biome-ignore lint/a11y/noStaticElementInteractions: delegation of link clicks, keyboard works through the links themselves
    // biome-ignore lint/a11y/useKeyWithClickEvents: same
    <div onClick={onLinkClick}>
      <header>
        <strong>Argus</strong>
        <nav aria-label="Pages">
          {PAGES.map(([href, label]) => (
            <a href={href} aria-current={path === href ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
      </header>
      <main key={generation}>{page}</main>
    </div>
  );
};

const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(<App />, root);
}
