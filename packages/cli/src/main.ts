import { parseArgs } from 'node:util';
import { OptionsError } from '@argus/runtime';
import { type Command, type CommandIO, EXIT_OK, EXIT_USAGE, formatHelp, UsageError } from './command.js';
import { agentCommand } from './commands/agent.js';
import { doraCommand } from './commands/dora.js';
import { hubCommand } from './commands/hub.js';
import { instancesCommand, statsCommand } from './commands/instances.js';
import { queryCommand } from './commands/query.js';
import { sendCommand } from './commands/send.js';
import { tailCommand } from './commands/tail.js';
import { timelineCommand } from './commands/timeline.js';
import { validateCommand } from './commands/validate.js';
import { versionCommand } from './commands/version.js';
import { VERSION } from './version.js';

export const COMMANDS: readonly Command[] = [
  hubCommand,
  agentCommand,
  queryCommand,
  tailCommand,
  timelineCommand,
  doraCommand,
  instancesCommand,
  statsCommand,
  sendCommand,
  validateCommand,
  versionCommand,
];

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

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export const main = async (argv: readonly string[], io: CommandIO): Promise<number> => {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    io.stdout(overview());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-v') return versionCommand.run({ values: {}, positionals: [] }, io);
  if (name === 'help') {
    const target = COMMANDS.find((c) => c.name === rest[0]);
    io.stdout(target === undefined ? overview() : formatHelp(target));
    return rest[0] === undefined || target !== undefined ? EXIT_OK : EXIT_USAGE;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr(`argus: unknown command "${name}"\n\n${overview()}`);
    return EXIT_USAGE;
  }
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
      error instanceof OptionsError ||
      (error instanceof TypeError && 'code' in error)
    ) {
      io.stderr(`argus ${command.name}: ${error.message}\n\n${formatHelp(command)}`);
      return EXIT_USAGE;
    }
    throw error;
  }
};
