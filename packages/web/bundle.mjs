// Bundles the dashboard for the hub to serve (`pnpm build` runs it after `tsc -b`, which checks
// the types): dist/assets/ holds the page's script, the chart library's own file, the early-calls
// script and one stylesheet, instead of the 20 module files a browser had to fetch in three rounds
// on a first visit (docs/benchmarks.md, docs/architecture.md).
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, 'dist/assets');
// Browsers of the last two years: no syntax is lowered.
const target = ['chrome120', 'firefox121', 'safari17'];
const common = {
  absWorkingDir: here,
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  target,
  logLevel: 'warning',
};

await rm(outdir, { recursive: true, force: true });
await Promise.all([
  // The pages, as ES modules; `import('uplot')` on /dora becomes a file of its own (splitting).
  build({
    ...common,
    entryPoints: { main: 'src/main.tsx' },
    outdir,
    format: 'esm',
    splitting: true,
    chunkNames: '[name]-[hash]',
  }),
  // A classic script run before the pages' modules: it starts the page's first API calls.
  build({ ...common, entryPoints: { early: 'src/early.ts' }, outdir, format: 'iife' }),
  build({ ...common, entryPoints: { style: 'src/style.css' }, outdir }),
]);
