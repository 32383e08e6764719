/**
 * `pnpm bench`: runs every `*.bench.ts` here (or those named on the command line), prints a table
 * per benchmark with ratios against its same-run baseline, and the machine. With ARGUS_BENCH_OUT set,
 * writes all results as JSON to that file.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type BenchResult, machine, printResult } from './harness.js';

// Ctrl-C or a kill ends the run through 'exit', whose handlers stop the hubs and nats-servers it started
// (a signal's default ending skips them).
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)
  process.once(signal, () => process.exit(code));

const here = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = (await readdir(here))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();
const host = machine();
console.log(`# Argus benchmarks, ${host.date}`);
console.log(
  `machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB, node ${host.node}, ${host.platform}; data in ${host.dataFilesystem}`,
);
const results: BenchResult[] = [];
for (const file of files) {
  const module = (await import(new URL(file, `file://${here}`).href)) as {
    run: () => Promise<BenchResult>;
    byNameOnly?: boolean;
  };
  // Long runs (catch-up, soak) only when named: `pnpm bench soak`.
  if (module.byNameOnly === true && !only.some((o) => file.startsWith(o))) {
    console.log(`\n(${file} skipped: long; run it by name, pnpm bench ${file.replace('.bench.ts', '')})`);
    continue;
  }
  const result = await module.run();
  printResult(result);
  results.push(result);
}
if (process.env.ARGUS_BENCH_OUT !== undefined) {
  await writeFile(process.env.ARGUS_BENCH_OUT, `${JSON.stringify({ machine: host, results }, null, 2)}\n`);
  console.log(`\nresults written to ${process.env.ARGUS_BENCH_OUT}`);
}
