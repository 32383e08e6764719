import { NatsServer } from './nats-server.js';
import { freePorts } from './ports.js';
import { waitFor } from './wait-for.js';

export interface NatsClusterOptions {
  /** @default 3 */
  readonly size?: number;
  /** @default 30000 */
  readonly leaderTimeoutMs?: number;
}

interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number };
}

/** A JetStream cluster of real nats-servers on loopback, ready once a meta leader is elected. */
export class NatsCluster {
  readonly servers: NatsServer[];
  readonly #leaderTimeoutMs: number;

  private constructor(servers: NatsServer[], leaderTimeoutMs: number) {
    this.servers = servers;
    this.#leaderTimeoutMs = leaderTimeoutMs;
  }

  static async start(options: NatsClusterOptions = {}): Promise<NatsCluster> {
    const size = options.size ?? 3;
    const routePorts = await freePorts(size);
    const servers = await Promise.all(
      routePorts.map((routePort, i) =>
        NatsServer.start({
          serverName: `argus-n${i + 1}`,
          config: [
            'cluster {',
            '  name: argus-test',
            `  listen: 127.0.0.1:${routePort}`,
            `  routes: [${routePorts
              .filter((p) => p !== routePort)
              .map((p) => `nats-route://127.0.0.1:${p}`)
              .join(', ')}]`,
            '}',
          ].join('\n'),
        }),
      ),
    );
    const cluster = new NatsCluster(servers, options.leaderTimeoutMs ?? 30_000);
    await cluster.waitForLeader();
    return cluster;
  }

  /** Client URLs of every node, comma-separated. */
  get urls(): string {
    return this.servers.map((s) => s.url).join(',');
  }

  /** The server name of the JetStream meta leader, as the running nodes see it. */
  async leader(): Promise<string | undefined> {
    for (const server of this.servers) {
      if (server.child?.exitCode !== null || server.child?.signalCode !== null) continue;
      try {
        const jsz = (await (await fetch(`http://127.0.0.1:${server.monitorPort}/jsz`)).json()) as Jsz;
        const leader = jsz.meta_cluster?.leader;
        if (leader !== undefined && leader !== '') return leader;
      } catch {
        // this node is down or starting
      }
    }
    return undefined;
  }

  /** Waits for a meta leader; with `other`, for one that is not that server (after killing it). */
  waitForLeader(other?: string): Promise<string> {
    return waitFor(
      async () => {
        const leader = await this.leader();
        return leader === other ? undefined : leader;
      },
      {
        what: other === undefined ? 'a JetStream meta leader' : `a JetStream meta leader other than ${other}`,
        timeoutMs: this.#leaderTimeoutMs,
        intervalMs: 100,
      },
    );
  }

  /** Index in `servers` of the node with this server name (`argus-n1`...). */
  indexOf(name: string): number {
    return this.servers.findIndex((_, i) => `argus-n${i + 1}` === name);
  }

  async kill(index: number): Promise<void> {
    await this.servers[index]?.kill();
  }

  async restart(index: number): Promise<void> {
    await this.servers[index]?.restart();
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
