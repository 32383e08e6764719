import { parseArgs } from 'node:util';
import { OptionsError } from '@argus/runtime';
import { type Command, type CommandIO, EXIT_OK, EXIT_USAGE, formatHelp, UsageError } from './command.js';
import { didYouMean } from './suggest.js';
import { VERSION } from './version.js';

/**
 * One entry of the command list: what the overview prints, and how to load the command. Commands load
 * only when run or asked for help, so `argus agent` never loads the hub, the store or ClickHouse
 * clients (about 16 MB of RSS), and `argus validate` neither.
 */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'hub',
    summary: "run the hub: consume agents' streams, validate, dedupe, tag, store in ClickHouse, republish",
    load: async () => (await import('./commands/hub.js')).hubCommand,
  },
  {
    name: 'agent',
    summary: 'run an agent beside one Argo CD: watch its Applications, publish CDEvents onto JetStream',
    load: async () => (await import('./commands/agent.js')).agentCommand,
  },
  {
    name: 'query',
    summary: 'search the unified stream: newest first, filtered by cluster, instance, type, subject, time',
    load: async () => (await import('./commands/query.js')).queryCommand,
  },
  {
    name: 'tail',
    summary: 'follow the unified stream live (Ctrl-C to stop), with the same filters as query',
    load: async () => (await import('./commands/tail.js')).tailCommand,
  },
  {
    name: 'timeline',
    summary: "one service's deployments, upgrades, rollbacks and incidents across every cluster",
    load: async () => (await import('./commands/timeline.js')).timelineCommand,
  },
  {
    name: 'dora',
    summary: 'DORA metrics: deployment frequency, lead time, change failure rate, time to restore',
    load: async () => (await import('./commands/dora.js')).doraCommand,
  },
  {
    name: 'where',
    summary: 'what runs where: the last deployment of every service in every cluster, with open incidents',
    load: async () => (await import('./commands/where.js')).whereCommand,
  },
  {
    name: 'instances',
    summary: 'the Argo CD instances that report: agents, architecture, clusters, last heartbeat, events',
    load: async () => (await import('./commands/instances.js')).instancesCommand,
  },
  {
    name: 'stats',
    summary: 'ingest counters of the hub, consumer lag, stored events and dead letters',
    load: async () => (await import('./commands/instances.js')).statsCommand,
  },
  {
    name: 'dlq',
    summary:
      'dead letters: list them with their reason, show one with its original bytes, replay it after a fix',
    load: async () => (await import('./commands/dlq.js')).dlqCommand,
  },
  {
    name: 'sql',
    summary:
      "read-only SQL on the hub's ClickHouse (the embedded one too); needs an admin token when the hub has tokens",
    load: async () => (await import('./commands/sql.js')).sqlCommand,
  },
  {
    name: 'send',
    summary: "publish a CDEvent through the hub's HTTP ingest (for CI pipelines): from a file or from flags",
    load: async () => (await import('./commands/send.js')).sendCommand,
  },
  {
    name: 'validate',
    summary: 'check CDEvent JSON files against the CDEvents v0.5.1 / v0.4.1 schemas',
    load: async () => (await import('./commands/validate.js')).validateCommand,
  },
  {
    name: 'version',
    summary: 'print the Argus version',
    load: async () => (await import('./commands/version.js')).versionCommand,
  },
];

const find = (name: string | undefined): CommandEntry | undefined => COMMANDS.find((c) => c.name === name);

const overview = (): string => {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `argus ${VERSION}: one CDEvents stream for every Argo CD`,
    '',
    'Usage: argus <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    `  ${'help'.padEnd(width)}show help for a command: argus help <command>`,
    '',
    'Every command takes --help.',
    '',
  ].join('\n');
};

/** The hint under a usage error: where the whole help is, not the help itself. */
const usageHint = (command: Command): string => `Run "argus ${command.name} --help" for its options.`;

/** A usage error as one line: node's unknown-option text is long, and a near flag is the useful part. */
const usageMessage = (error: Error, command: Command): string => {
  const unknown = /^Unknown option '(-{1,2}[^']+)'/.exec(error.message);
  if (unknown === null || unknown[1] === undefined) return error.message;
  const flags = Object.keys(command.options).map((name) => `--${name}`);
  return `unknown option ${unknown[1]}${didYouMean(unknown[1], flags)}`;
};

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export const main = async (argv: readonly string[], io: CommandIO): Promise<number> => {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    io.stdout(overview());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-v') {
    const version = await (find('version') as CommandEntry).load();
    return version.run({ values: {}, positionals: [] }, io);
  }
  if (name === 'help') {
    const target = find(rest[0]);
    io.stdout(target === undefined ? overview() : formatHelp(await target.load()));
    return rest[0] === undefined || target !== undefined ? EXIT_OK : EXIT_USAGE;
  }
  const entry = find(name);
  if (entry === undefined) {
    const names = COMMANDS.map((c) => c.name);
    io.stderr(
      `argus: unknown command "${name}"${didYouMean(name, names)}\nRun "argus --help" for the commands.\n`,
    );
    return EXIT_USAGE;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(formatHelp(command));
    return EXIT_OK;
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: command.options,
      allowPositionals: true,
      strict: true,
    });
    return await command.run({ values, positionals }, io);
  } catch (error) {
    if (
      error instanceof UsageError ||
      OptionsError.is(error) ||
      (error instanceof TypeError && 'code' in error)
    ) {
      io.stderr(`argus ${command.name}: ${usageMessage(error, command)}\n${usageHint(command)}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
};
