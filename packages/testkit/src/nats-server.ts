import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { NatsServerNotFoundError, NatsServerStartError } from './errors.js';
import { freePort } from './ports.js';

export interface NatsServerOptions {
  /** @default true */
  readonly jetstream?: boolean;
  /** Client port. @default a free port */
  readonly port?: number;
  /** JetStream store. @default a new temporary directory, removed by stop() */
  readonly storeDir?: string;
  /** Keep the store directory after stop(). @default false */
  readonly keepStore?: boolean;
  /**
   * JetStream store limits of the server. Account limits (`jetstream { max_file }` in an account) are
   * reserved from these at start, so a config with larger ones needs a larger store here.
   * @default { maxMem: '256MB', maxFile: '4GB' }
   */
  readonly jetstreamLimits?: { readonly maxMem: string; readonly maxFile: string };
  /** JetStream domain of the server (`jetstream { domain }`), which leaf nodes' clients address. */
  readonly jetstreamDomain?: string;
  /** Extra configuration text appended to the generated config (accounts, cluster, tls...). */
  readonly config?: string;
  readonly args?: readonly string[];
  /**
   * Extra environment of the nats-server process, on top of this process's: values for `$NAME`
   * references in the configuration (passwords, as a deployment passes them from a Secret).
   */
  readonly env?: Readonly<Record<string, string>>;
  /** @default env ARGUS_NATS_SERVER or 'nats-server' */
  readonly binary?: string;
  readonly serverName?: string;
  /** @default 15000 */
  readonly startTimeoutMs?: number;
}

const OUTPUT_LINES = 200;
const running = new Set<NatsServer>();

// A test process that dies must not leave servers behind.
process.once('exit', () => {
  for (const server of running) server.child?.kill('SIGKILL');
});

const binaryOf = (options: NatsServerOptions): string =>
  options.binary ?? process.env.ARGUS_NATS_SERVER ?? 'nats-server';

/** `true` when the nats-server binary can be run. */
export const natsServerAvailable = (binary = process.env.ARGUS_NATS_SERVER ?? 'nats-server'): boolean => {
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0;
};

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connectTcp({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * A real nats-server for tests: its own port, monitoring port and store directory; restart with
 * the same ports and data; SIGKILL for chaos. Output is kept and attached to start failures.
 */
export class NatsServer {
  readonly port: number;
  readonly monitorPort: number;
  readonly storeDir: string;
  readonly configFile: string;
  readonly #options: NatsServerOptions;
  readonly #ownsStore: boolean;
  #output: string[] = [];
  child: ChildProcess | undefined;

  private constructor(
    options: NatsServerOptions,
    port: number,
    monitorPort: number,
    storeDir: string,
    ownsStore: boolean,
  ) {
    this.#options = options;
    this.port = port;
    this.monitorPort = monitorPort;
    this.storeDir = storeDir;
    this.#ownsStore = ownsStore;
    this.configFile = join(storeDir, 'nats-server.conf');
  }

  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const port = options.port ?? (await freePort());
    const monitorPort = await freePort();
    const ownsStore = options.storeDir === undefined;
    const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'argus-nats-'));
    const server = new NatsServer(options, port, monitorPort, storeDir, ownsStore);
    server.#writeConfig();
    await server.#spawn();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines nats-server printed. */
  logs(): string {
    return this.#output.join('\n');
  }

  #writeConfig(): void {
    const js = this.#options.jetstream ?? true;
    const lines = [
      `listen: 127.0.0.1:${this.port}`,
      `http: 127.0.0.1:${this.monitorPort}`,
      `server_name: ${this.#options.serverName ?? `argus-test-${this.port}`}`,
    ];
    const limits = this.#options.jetstreamLimits ?? { maxMem: '256MB', maxFile: '4GB' };
    if (js)
      lines.push(
        `jetstream { store_dir: ${JSON.stringify(join(this.storeDir, 'js'))}, max_mem: ${limits.maxMem}, max_file: ${limits.maxFile}${this.#options.jetstreamDomain === undefined ? '' : `, domain: ${this.#options.jetstreamDomain}`} }`,
      );
    if (this.#options.config !== undefined) lines.push(this.#options.config);
    writeFileSync(this.configFile, `${lines.join('\n')}\n`);
  }

  async #spawn(): Promise<void> {
    const binary = binaryOf(this.#options);
    const child = spawn(binary, ['-c', this.configFile, ...(this.#options.args ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(this.#options.env === undefined ? {} : { env: { ...process.env, ...this.#options.env } }),
    });
    this.child = child;
    running.add(this);
    const keep = (chunk: Buffer) => {
      this.#output.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      if (this.#output.length > OUTPUT_LINES) this.#output = this.#output.slice(-OUTPUT_LINES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const failed = new Promise<Error>((resolve) => {
      child.once('error', (error: NodeJS.ErrnoException) =>
        resolve(error.code === 'ENOENT' ? new NatsServerNotFoundError(binary, error) : error),
      );
      child.once('exit', (code, signal) =>
        resolve(
          new NatsServerStartError(
            `nats-server exited before it was ready (code ${code}, signal ${signal})`,
            this.logs(),
          ),
        ),
      );
    });
    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 15_000);
    const ready = (async () => {
      while (Date.now() < deadline) {
        if (await portOpen(this.port)) {
          try {
            const res = await fetch(`http://127.0.0.1:${this.monitorPort}/healthz`);
            if (res.ok) return;
          } catch {
            // monitoring not up yet
          }
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new NatsServerStartError('nats-server did not become ready in time', this.logs());
    })();
    const outcome = await Promise.race([ready.then(() => undefined), failed]);
    if (outcome instanceof Error) {
      running.delete(this);
      throw outcome;
    }
  }

  async #waitExit(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    running.delete(this);
  }

  /** Graceful stop; removes the store directory the server created (unless keepStore). */
  async stop(): Promise<void> {
    await this.#waitExit('SIGTERM');
    if (this.#ownsStore && this.#options.keepStore !== true)
      rmSync(this.storeDir, { recursive: true, force: true });
  }

  /** SIGKILL: no flush, no goodbye. The store stays, for restart(). */
  async kill(): Promise<void> {
    await this.#waitExit('SIGKILL');
  }

  /** Stops (if running) and starts again with the same ports, config and data. */
  async restart(): Promise<void> {
    await this.#waitExit('SIGTERM');
    await this.#spawn();
  }

  /** A client connection to this server. */
  connect(options: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
    return connect({ servers: this.url, ...options });
  }
}
