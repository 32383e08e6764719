import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import type { ExtraRoute } from '@argus/runtime';

/**
 * The dashboard (packages/web) at `/`: its page, and under `/assets/` the files `pnpm build` bundles
 * into the web package's dist/assets (the pages' script, uPlot's own file, the early-calls script,
 * one stylesheet), all from this machine (no CDN). The page addresses (`/services/<id>`, `/live`,
 * ...) answer index.html so they can be shared and reloaded.
 *
 * The page refers to its files under a version (`/assets/v-<version>/main.js`), a digest of every
 * served file's name, size and time, and those answers may be kept a year: a page loaded again asks
 * the hub for its data only. A new build is a new version, so a browser never runs old files with a
 * new page.
 */

/** The web package (a dependency of the hub, so it is found as the hub is). */
const webDir = (): string => dirname(createRequire(import.meta.url).resolve('@argus/web/package.json'));

/** Paths the single-page app answers with index.html. */
export const DASHBOARD_PAGES = /^\/(?:|live|dora|instances|dead-letters|services\/[^/]+)$/;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** How long a browser keeps a file asked for under the current version: its address changes with it. */
const KEEP_VERSIONED = 'public, max-age=31536000, immutable';
/** Pages, unversioned files and files of another version: asked again each time. */
const ASK_AGAIN = 'no-cache';
/** How long a read version is used before the files are looked at again, in ms. */
const VERSION_READ_EVERY_MS = 1000;
/** `/assets/v-<version>/<file>`. */
const VERSIONED_PATH = /^\/assets\/v-([\w-]+)(\/.*)$/;
/** What the page's CSP allows: its own files, no inline script (uPlot and Preact set inline styles). */
const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const dashboardRoute = (): ExtraRoute => {
  const web = webDir();
  const built = join(web, 'dist/assets');
  const page = join(web, 'public/index.html');
  const headers = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy':
      "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  };
  /** The version of the files served now; a rebuild under a running hub changes it. */
  const readVersion = async (): Promise<string> => {
    const files = [page, ...(await readdir(built)).map((f) => join(built, f))].sort();
    const digest = createHash('sha256');
    for (const file of files) {
      const { size, mtimeMs } = await stat(file);
      digest.update(`${file}\0${size}\0${mtimeMs}\n`);
    }
    return digest.digest('base64url').slice(0, 12);
  };
  // Not built (or being rebuilt): no version, so nothing is kept.
  const readVersionOrNone = (): Promise<string> => readVersion().catch(() => '');
  // Read again at most once a second: one page load asks for several files at once.
  let known: { readonly at: number; readonly version: Promise<string> } | undefined;
  const currentVersion = (): Promise<string> => {
    if (known === undefined || Date.now() - known.at > VERSION_READ_EVERY_MS)
      known = { at: Date.now(), version: readVersionOrNone() };
    return known.version;
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
      let html: string;
      try {
        html = await readFile(page, 'utf8');
      } catch {
        return false;
      }
      const version = (await exists(join(built, 'main.js'))) ? await currentVersion() : '';
      html =
        version === ''
          ? '<!doctype html><title>Argus</title><p>The dashboard is not built: run <code>pnpm build</code> and reload.</p>'
          : html.replaceAll('"/assets/', `"/assets/v-${version}/`);
      res
        .writeHead(200, {
          ...headers,
          'content-security-policy': PAGE_CSP,
          'content-type': CONTENT_TYPES['.html'],
          'cache-control': ASK_AGAIN,
        })
        .end(html);
      return true;
    }
    let cacheControl = ASK_AGAIN;
    const versioned = VERSIONED_PATH.exec(path);
    if (versioned !== null) {
      const [, version, rest] = versioned;
      path = `/assets${rest}`;
      // A file asked for under an older version gets today's, which must not be kept as that version's.
      const current = await currentVersion();
      if (current !== '' && version === current) cacheControl = KEEP_VERSIONED;
    }
    if (!path.startsWith('/assets/')) return false;
    // Only the bundle's own files: a plain name with a known type, nothing above dist/assets.
    const name = path.slice('/assets/'.length);
    if (!/^[\w.-]+$/.test(name) || name.startsWith('.') || CONTENT_TYPES[extname(name)] === undefined)
      return false;
    return sendFile(res, join(built, name), cacheControl);
  };
};

const exists = (file: string): Promise<boolean> =>
  stat(file).then(
    () => true,
    () => false,
  );
