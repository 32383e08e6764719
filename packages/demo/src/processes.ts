import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A long-running child whose output goes to a log file; an unexpected exit is remembered. */
export class Supervised {
  readonly name: string;
  readonly log: string;
  readonly child: ChildProcess;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #stopping = false;
  readonly exited: Promise<void>;

  constructor(
    name: string,
    command: string,
    args: readonly string[],
    logDir: string,
    env: NodeJS.ProcessEnv = {},
  ) {
    this.name = name;
    this.log = join(logDir, `${name}.log`);
    const out = createWriteStream(this.log);
    this.child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.pipe(out);
    this.child.stderr?.pipe(out);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve();
      });
      this.child.once('error', (error) => {
        out.write(`spawn failed: ${error.message}\n`);
        this.#exit = { code: 127, signal: null };
        resolve();
      });
    });
  }

  /** Why it died, when it died without being asked to. */
  get failure(): string | undefined {
    if (this.#exit === undefined || this.#stopping) return undefined;
    return `${this.name} exited (${this.#exit.signal ?? `code ${this.#exit.code}`}); see ${this.log}`;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#exit !== undefined) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Runs a command to completion, collecting its output. */
export const runCommand = (
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('error', (error) => resolve({ code: 127, stdout, stderr: `${stderr}${error.message}\n` }));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });

/** Polls a URL until it answers 2xx; throws naming the process and its log otherwise. */
export const waitReady = async (url: string, who: Supervised, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (who.failure !== undefined) throw new Error(who.failure);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${who.name} was not ready at ${url} within ${timeoutMs / 1000} s; see ${who.log}`);
};

/** Waits until a TCP port accepts connections. */
export const waitPort = async (port: number, who: Supervised, timeoutMs = 20_000): Promise<void> => {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (who.failure !== undefined) throw new Error(who.failure);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`${who.name} did not listen on port ${port} within ${timeoutMs / 1000} s; see ${who.log}`);
};

/** One Prometheus sample's value (summed over label sets) from a /metrics text. */
export const metric = (text: string, name: string): number => {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{'))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
};
