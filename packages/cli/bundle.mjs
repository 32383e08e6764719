// Bundles the `argus` command for running (`pnpm build` runs it after `tsc -b`): bundle/argus.js and a
// file per command, loaded when that command runs. One bundle instead of ~300 module files of its
// dependencies took an agent's memory after start from 82 to 67 MB on Node 24 (docs/benchmarks.md):
// Node keeps each module's source and records. The hub (@argus/hub) stays a package of its own: it
// finds the dashboard and chdb's native library through node_modules, and its memory is not the
// constraint.
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, 'bundle');

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: here,
  entryPoints: { argus: 'dist/bin.js' },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: '[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Whitespace and syntax only: names stay, so a stack trace still says which function (full
  // minification saved no memory more: 67.3 against 67.7 MB after start on Node 24).
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  external: ['@argus/hub'],
  // CommonJS dependencies (grpc-js, pino, prom-client) call require() for Node's own modules.
  banner: {
    js: "import { createRequire as argusCreateRequire } from 'node:module'; const require = argusCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
