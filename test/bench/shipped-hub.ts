/**
 * The hub as users run it, for the benchmarks: the shipped `argus hub` (packages/cli/bundle, built here
 * with `pnpm build`) in its own process with its default flags (only the addresses are chosen: NATS, a
 * fresh data directory and free ports), its CPU and memory read from /proc, its stored count from its
 * own HTTP JSON API. And a watch on the unified stream, which the hub writes after the insert: an
 * event seen there is queryable.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UNIFIED_SUBJECT_PREFIX } from '@argus/bus';
import { freePort, waitFor } from '@argus/testkit';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { procCpuSeconds, procCpuSplit, procKb } from './proc.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The `argus` command as shipped: the bundle `pnpm build` writes, which the images run. */
export const ARGUS_SHIPPED = fileURLToPath(new URL('../../packages/cli/bundle/argus.js', import.meta.url));

const running = new Set<ChildProcess>();
// A benchmark that dies (an uncaught error ends it through 'exit') must not leave its hub behind: an
// orphaned soak hub kept running, its NATS gone (the testkit kills nats-server the same way).
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Builds this checkout with `pnpm build`, so the measured process is the shipped code (the bundle). */
export const buildCli = (): void => {
  const build = spawnSync('pnpm', ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.error !== undefined)
    throw new Error(
      `benchmark: pnpm build could not run (${build.error.message}): deploy/scripts/setup.sh installs pnpm`,
    );
  if (build.status !== 0) throw new Error(`benchmark: pnpm build failed:\n${build.stdout}${build.stderr}`);
};

export interface ShippedHub {
  readonly pid: number;
  readonly httpUrl: string;
  /** Events the hub's store holds, from its own `GET /api/v1/query/stats`. */
  storedEvents(): Promise<number>;
  cpuSeconds(): number;
  /** The part of cpuSeconds spent in the kernel for it (creating ClickHouse's part files, mostly). */
  systemCpuSeconds(): number;
  rssMb(): number;
  peakRssMb(): number;
  /** The last chunks the hub printed (its JSON log lines). */
  output(): string;
  /** SIGTERM, then waits for the exit; the data directory is removed. */
  stop(): Promise<void>;
}

/** Starts `argus hub` with its defaults on `natsUrl` and waits until `/readyz` says ready. */
export const startShippedHub = async (
  natsUrl: string,
  extraArgs: readonly string[] = [],
): Promise<ShippedHub> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'argus-bench-shipped-'));
  const http = `127.0.0.1:${await freePort()}`;
  const grpc = `127.0.0.1:${await freePort()}`;
  const output: string[] = [];
  const args = [
    'hub',
    '--nats',
    natsUrl,
    '--data-dir',
    dataDir,
    '--http-listen',
    http,
    '--grpc-listen',
    grpc,
  ];
  const child: ChildProcess = spawn(process.execPath, [ARGUS_SHIPPED, ...args, ...extraArgs], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
    if (output.length > 200) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  running.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const pid = child.pid ?? Number.NaN;
  const httpUrl = `http://${http}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`argus hub exited (${child.exitCode}):\n${output.join('')}`);
        return (await fetch(`${httpUrl}/readyz`).catch(() => undefined))?.status === 200;
      },
      { what: 'the shipped hub to be ready', timeoutMs: 60_000, intervalMs: 50 },
    );
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    pid,
    httpUrl,
    storedEvents: async () => {
      const answer = await fetch(`${httpUrl}/api/v1/query/stats`);
      const body = (await answer.json()) as { storedEvents?: string | number };
      if (!answer.ok) throw new Error(`hub stats answered ${answer.status}: ${JSON.stringify(body)}`);
      return Number(body.storedEvents ?? 0);
    },
    cpuSeconds: () => procCpuSeconds(pid),
    systemCpuSeconds: () => procCpuSplit(pid).system,
    rssMb: () => procKb(pid, 'VmRSS') / 1024,
    peakRssMb: () => procKb(pid, 'VmHWM') / 1024,
    output: () => output.join(''),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

/**
 * Every event the hub republishes on the unified stream: distinct ids, repeats, the first and last
 * arrival, and with `sentAt` filled in by the publisher, the publish-to-queryable latency of each.
 */
export class UnifiedWatch {
  readonly sentAt = new Map<string, number>();
  readonly latencies: { at: number; ms: number }[] = [];
  readonly #seen = new Set<string>();
  readonly #sub: Subscription;
  repeats = 0;
  first = 0;
  last = 0;

  constructor(nc: NatsConnection) {
    this.#sub = nc.subscribe(`${UNIFIED_SUBJECT_PREFIX}.>`, {
      callback: (_err, msg) => {
        const now = performance.now();
        const id = msg.headers?.get('ce-id') ?? '';
        if (this.#seen.has(id)) {
          this.repeats++;
          return;
        }
        this.#seen.add(id);
        if (this.first === 0) this.first = now;
        this.last = now;
        const sent = this.sentAt.get(id);
        if (sent !== undefined) {
          this.latencies.push({ at: now, ms: now - sent });
          this.sentAt.delete(id);
        }
      },
    });
  }

  get distinct(): number {
    return this.#seen.size;
  }

  /** Events per second from the first arrival to the last. */
  rate(): number {
    return this.distinct / ((this.last - this.first) / 1000);
  }

  stop(): void {
    this.#sub.unsubscribe();
  }
}

export const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};
