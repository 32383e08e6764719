import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import type { ExtraRoute } from '@argus/runtime';

/**
 * The dashboard (packages/web) at `/`: its pages, its compiled modules under `/assets/`, and the
 * libraries it imports under `/vendor/`, all from this machine (no CDN). The page addresses
 * (`/services/<id>`, `/live`, ...) answer index.html so they can be shared and reloaded.
 */

/** The web package, and the libraries it depends on (resolved from it: pnpm keeps them its own). */
const webDir = (): string => dirname(createRequire(import.meta.url).resolve('@argus/web/package.json'));
const packageDir = (name: string): string =>
  dirname(createRequire(join(webDir(), 'package.json')).resolve(`${name}/package.json`));

/** Bare module name -> the file the browser gets: the one home of the page's import map. */
const VENDOR: Readonly<Record<string, { readonly url: string; readonly file: () => string }>> = {
  preact: { url: '/vendor/preact.js', file: () => join(packageDir('preact'), 'dist/preact.mjs') },
  'preact/hooks': {
    url: '/vendor/preact-hooks.js',
    file: () => join(packageDir('preact'), 'hooks/dist/hooks.mjs'),
  },
  'preact/jsx-runtime': {
    url: '/vendor/preact-jsx-runtime.js',
    file: () => join(packageDir('preact'), 'jsx-runtime/dist/jsxRuntime.mjs'),
  },
  uplot: { url: '/vendor/uplot.js', file: () => join(packageDir('uplot'), 'dist/uPlot.esm.js') },
  'uplot.css': { url: '/vendor/uplot.css', file: () => join(packageDir('uplot'), 'dist/uPlot.min.css') },
};

/** Paths the single-page app answers with index.html. */
export const DASHBOARD_PAGES = /^\/(?:|live|dora|instances|dead-letters|services\/[^/]+)$/;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export const dashboardRoute = (): ExtraRoute => {
  const web = webDir();
  const built = join(web, 'dist');
  const publicDir = join(web, 'public');
  const vendorFiles = new Map(
    Object.values(VENDOR)
      .filter((v) => v.url.endsWith('.js') || v.url.endsWith('.css'))
      .map((v) => [v.url, v.file] as const),
  );
  const importMap = JSON.stringify({
    imports: Object.fromEntries(
      Object.entries(VENDOR)
        .filter(([, v]) => v.url.endsWith('.js'))
        .map(([name, v]) => [name, v.url]),
    ),
  });
  const importMapHash = createHash('sha256').update(importMap).digest('base64');
  const headers = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': `default-src 'self'; script-src 'self' 'sha256-${importMapHash}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
  };

  const sendFile = async (res: Parameters<ExtraRoute>[1], file: string): Promise<boolean> => {
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return false;
    }
    res
      .writeHead(200, {
        ...headers,
        'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
      })
      .end(body);
    return true;
  };

  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = new URL(req.url ?? '/', 'http://hub').pathname;
    if (DASHBOARD_PAGES.test(path)) {
      let page: string;
      try {
        page = await readFile(join(publicDir, 'index.html'), 'utf8');
      } catch {
        return false;
      }
      const notBuilt = !(await readFile(join(built, 'main.js')).then(
        () => true,
        () => false,
      ));
      const html = notBuilt
        ? '<!doctype html><title>Argus</title><p>The dashboard is not built: run <code>pnpm build</code> (tsc -b) and reload.</p>'
        : page.replace('<!--importmap-->', `<script type="importmap">${importMap}</script>`);
      res
        .writeHead(200, { ...headers, 'content-type': CONTENT_TYPES['.html'], 'cache-control': 'no-cache' })
        .end(html);
      return true;
    }
    const vendor = vendorFiles.get(path);
    if (vendor !== undefined) return sendFile(res, vendor());
    if (path.startsWith('/assets/')) {
      const name = normalize(path.slice('/assets/'.length));
      if (name.startsWith('..') || name.includes('\0') || !/^[\w./-]+$/.test(name)) return false;
      if (name.endsWith('.css') || name.endsWith('.svg')) return sendFile(res, join(publicDir, name));
      if (name.endsWith('.js')) return sendFile(res, join(built, name));
    }
    return false;
  };
};
