/**
 * The `argus` CLI of this repository as a subprocess, run from source (`node --conditions=argus-source
 * --import tsx packages/cli/src/bin.ts ...`): a command that runs to its end (runArgus) and a
 * long-running one (ArgusProcess). Async on purpose: a test that runs a hub in its own process must
 * keep answering while the CLI talks to it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (this module is packages/testkit/src or packages/testkit/dist). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The CLI's entry point, as source. */
export const ARGUS_BIN = fileURLToPath(new URL('../../cli/src/bin.ts', import.meta.url));

/** Node's arguments that run a TypeScript entry point of this repository from source. */
const fromSource = (script: string, args: readonly string[]): string[] => [
  '--conditions=argus-source',
  '--import',
  'tsx',
  script,
  ...args,
];

export interface RunArgusOptions {
  /** Added to this process's environment. */
  readonly env?: Record<string, string>;
  /** Written to the command's stdin, then closed (closed at once without it). */
  readonly input?: string;
  /** SIGKILL after this long (code null then); 30 s by default. */
  readonly timeoutMs?: number;
}

export interface ArgusResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `argus ...args` to its end. */
export const runArgus = (args: readonly string[], options: RunArgusOptions = {}): Promise<ArgusResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, fromSource(ARGUS_BIN, args), {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });

export interface ArgusProcessOptions {
  /** Added to this process's environment. */
  readonly env?: Record<string, string> | undefined;
  /** Another TypeScript entry point of this repository to run from source instead of the CLI. */
  readonly script?: string | undefined;
  /** An executable to run as is (e.g. the `argus` of an assembled image folder) instead of the source. */
  readonly executable?: string | undefined;
  /** The whole environment, instead of this process's plus `env`. */
  readonly cleanEnv?: boolean | undefined;
  /** @default the repository root */
  readonly cwd?: string | undefined;
}

const running = new Set<ChildProcess>();
// A test process that dies must not leave its hubs and agents behind (nats-server gets the same).
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** How much of the output (stdout and stderr, interleaved) an ArgusProcess keeps: the latest. */
const KEEP_CHARS = 20_000;

/** A long-running `argus` subprocess (a hub, an agent, a tail) with its latest output kept for failure messages. */
export class ArgusProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #expectedExit = false;

  constructor(args: readonly string[], options: ArgusProcessOptions = {}) {
    const [file, argv] =
      options.executable === undefined
        ? [process.execPath, fromSource(options.script ?? ARGUS_BIN, args)]
        : [options.executable, [...args]];
    this.child = spawn(file, argv, {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.cleanEnv === true ? { ...options.env } : { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-KEEP_CHARS);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    running.add(this.child);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        running.delete(this.child);
        resolve({ code, signal });
      }),
    );
  }

  /** Whether it still runs. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Rejects, with the process's output, if it exits without being asked to (kill, stop); never settles
   * otherwise. For `Promise.race([work, proc.died])`.
   */
  get died(): Promise<never> {
    return this.exited.then((exit) => {
      if (this.#expectedExit) return new Promise<never>(() => undefined);
      throw new Error(`argus exited unexpectedly (${exit.signal ?? exit.code}):\n${this.output}`);
    });
  }

  /** Sends `signal` (SIGKILL by default) unless it has exited, and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.#expectedExit = true;
    if (this.running) this.child.kill(signal);
    await this.exited;
  }

  /** SIGTERM, and the exit code must be 0. */
  async stop(): Promise<void> {
    this.#expectedExit = true;
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const exit = await this.exited;
    if (exit.code !== 0)
      throw new Error(`process exited ${exit.signal ?? exit.code} on SIGTERM:\n${this.output}`);
  }
}
