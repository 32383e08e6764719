import { cpus, tmpdir, totalmem } from 'node:os';
import { dataFilesystem } from '@argus/store';

export interface Measurement {
  readonly name: string;
  /** Median operations per second over the rounds. */
  readonly opsPerSec: number;
  /** Ratio against the baseline of the same benchmark, measured in the same run. */
  readonly ratio?: number;
  readonly unit?: string;
}

export interface BenchResult {
  readonly benchmark: string;
  readonly baseline: string;
  readonly measurements: readonly Measurement[];
  readonly notes?: readonly string[];
}

export const machine = () => ({
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.versions.node,
  platform: `${process.platform}/${process.arch}`,
  /** Where the benchmarks' data directories go (os.tmpdir(): TMPDIR moves them). */
  dataFilesystem: `${tmpdir()} on ${dataFilesystem(tmpdir()).description}`,
});

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/**
 * Measures several functions in interleaved rounds (a, b, c, a, b, c, ...), so drift of the machine
 * (JIT, GC, a noisy neighbour) affects all of them alike; returns the median rate of each.
 */
export const compareRates = (
  fns: Record<string, () => unknown>,
  options: { rounds?: number; roundMs?: number } = {},
): Record<string, number> => {
  const rounds = options.rounds ?? 7;
  const roundMs = options.roundMs ?? 250;
  const rates: Record<string, number[]> = {};
  for (const [name, fn] of Object.entries(fns)) {
    rates[name] = [];
    const warmUntil = performance.now() + roundMs;
    while (performance.now() < warmUntil) fn();
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(fns)) {
      let n = 0;
      const start = performance.now();
      const end = start + roundMs;
      while (performance.now() < end) {
        for (let i = 0; i < 100; i++) fn();
        n += 100;
      }
      rates[name]?.push(n / ((performance.now() - start) / 1000));
    }
  }
  return Object.fromEntries(Object.entries(rates).map(([name, values]) => [name, median(values)]));
};

export const formatRate = (value: number): string =>
  value >= 1e6
    ? `${(value / 1e6).toFixed(2)} M/s`
    : value >= 1e3
      ? `${(value / 1e3).toFixed(1)} k/s`
      : `${value.toFixed(1)} /s`;

export const printResult = (result: BenchResult): void => {
  console.log(`\n## ${result.benchmark} (baseline: ${result.baseline})`);
  const width = Math.max(...result.measurements.map((m) => m.name.length));
  for (const m of result.measurements) {
    const ratio = m.ratio === undefined ? '' : `  ${m.ratio.toFixed(3)}x baseline`;
    const value = m.unit === undefined ? formatRate(m.opsPerSec) : `${m.opsPerSec.toFixed(1)} ${m.unit}`;
    console.log(`  ${m.name.padEnd(width)}  ${value.padStart(12)}${ratio}`);
  }
  for (const note of result.notes ?? []) console.log(`  note: ${note}`);
};
