import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import type { ExtraRoute } from '@argus/runtime';

/**
 * The dashboard (packages/web) at `/`: its pages, its compiled modules under `/assets/`, and the
 * libraries it imports under `/vendor/`, all from this machine (no CDN). The page addresses
 * (`/services/<id>`, `/live`, ...) answer index.html so they can be shared and reloaded.
 *
 * The page refers to its files under a version (`/assets/v-<version>/main.js`), a digest of every
 * served file's name, size and time, and those answers may be kept a year: a page loaded again takes
 * its 20 modules from the browser's cache instead of asking for each (at 10M events, Chromium spent
 * ~0.2 s of every load on them before the page could ask for its data; docs/benchmarks.md). A new
 * build is a new version, so a browser never runs old modules with a new page.
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

/** How long a browser keeps a file asked for under the current version: its address changes with it. */
const KEEP_VERSIONED = 'public, max-age=31536000, immutable';
/** Pages, unversioned files and files of another version: asked again each time. */
const ASK_AGAIN = 'no-cache';
/** How long a read version is used before the files are looked at again, in ms. */
const VERSION_READ_EVERY_MS = 1000;
/** `/assets/v-<version>/<file>` or `/vendor/v-<version>/<file>`. */
const VERSIONED_PATH = /^\/(assets|vendor)\/v-([\w-]+)(\/.*)$/;

export const dashboardRoute = (): ExtraRoute => {
  const web = webDir();
  const built = join(web, 'dist');
  const publicDir = join(web, 'public');
  const vendorFiles = new Map(
    Object.values(VENDOR)
      .filter((v) => v.url.endsWith('.js') || v.url.endsWith('.css'))
      .map((v) => [v.url, v.file] as const),
  );
  // Files' headers; a page's CSP also names its import map (pageHeaders).
  const headers = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy':
      "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  };
  /** The version of the files served now; a rebuild under a running hub changes it. */
  const readVersion = async (): Promise<string> => {
    const files = [
      ...[...vendorFiles.values()].map((file) => file()),
      ...(await readdir(built, { recursive: true }))
        .filter((f) => f.endsWith('.js'))
        .map((f) => join(built, f)),
      ...(await readdir(publicDir)).map((f) => join(publicDir, f)),
    ].sort();
    const digest = createHash('sha256');
    for (const file of files) {
      const { size, mtimeMs } = await stat(file);
      digest.update(`${file}\0${size}\0${mtimeMs}\n`);
    }
    return digest.digest('base64url').slice(0, 12);
  };
  // Not built (or being rebuilt): no version, so nothing is kept.
  const readVersionOrNone = (): Promise<string> => readVersion().catch(() => '');
  // Read again at most once a second: one page load asks for 20 files at once.
  let known: { readonly at: number; readonly version: Promise<string> } | undefined;
  const currentVersion = (): Promise<string> => {
    if (known === undefined || Date.now() - known.at > VERSION_READ_EVERY_MS)
      known = { at: Date.now(), version: readVersionOrNone() };
    return known.version;
  };
  /** The import map of a version, and the CSP that lets that map (and nothing inline else) run. */
  const pageHeaders = (version: string) => {
    const importMap = JSON.stringify({
      imports: Object.fromEntries(
        Object.entries(VENDOR)
          .filter(([, v]) => v.url.endsWith('.js'))
          .map(([name, v]) => [name, v.url.replace('/vendor/', `/vendor/v-${version}/`)]),
      ),
    });
    const importMapHash = createHash('sha256').update(importMap).digest('base64');
    return {
      importMap,
      headers: {
        ...headers,
        'content-security-policy': `default-src 'self'; script-src 'self' 'sha256-${importMapHash}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
      },
    };
  };

  const sendFile = async (
    res: Parameters<ExtraRoute>[1],
    file: string,
    cacheControl: string,
  ): Promise<boolean> => {
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
        'cache-control': cacheControl,
      })
      .end(body);
    return true;
  };

  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let path = new URL(req.url ?? '/', 'http://hub').pathname;
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
      const version = notBuilt ? '' : await currentVersion();
      const { importMap, headers: withMap } = pageHeaders(version);
      const html = notBuilt
        ? '<!doctype html><title>Argus</title><p>The dashboard is not built: run <code>pnpm build</code> (tsc -b) and reload.</p>'
        : page
            .replaceAll('"/assets/', `"/assets/v-${version}/`)
            .replaceAll('"/vendor/', `"/vendor/v-${version}/`)
            // Last: the map's addresses carry their version already.
            .replace('<!--importmap-->', `<script type="importmap">${importMap}</script>`);
      res
        .writeHead(200, { ...withMap, 'content-type': CONTENT_TYPES['.html'], 'cache-control': ASK_AGAIN })
        .end(html);
      return true;
    }
    let cacheControl = ASK_AGAIN;
    const versioned = VERSIONED_PATH.exec(path);
    if (versioned !== null) {
      const [, root, version, rest] = versioned;
      path = `/${root}${rest}`;
      // A file asked for under an older version gets today's, which must not be kept as that version's.
      const current = await currentVersion();
      if (current !== '' && version === current) cacheControl = KEEP_VERSIONED;
    }
    const vendor = vendorFiles.get(path);
    if (vendor !== undefined) return sendFile(res, vendor(), cacheControl);
    if (path.startsWith('/assets/')) {
      const name = normalize(path.slice('/assets/'.length));
      if (name.startsWith('..') || name.includes('\0') || !/^[\w./-]+$/.test(name)) return false;
      if (name.endsWith('.css') || name.endsWith('.svg'))
        return sendFile(res, join(publicDir, name), cacheControl);
      if (name.endsWith('.js')) return sendFile(res, join(built, name), cacheControl);
    }
    return false;
  };
};
