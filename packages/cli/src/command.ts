import type { ParseArgsConfig } from 'node:util';

/** Where a command writes and reads: injected so tests can run commands in-process. */
export interface CommandIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readStdin: () => Promise<Buffer>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * A command's flags as `node:util` `parseArgs` takes them (`specCommand` derives them from an
 * `@argus/runtime` OptionsSpec).
 */
type ParseArgsOptions = NonNullable<ParseArgsConfig['options']>;

export interface OptionHelp {
  readonly flag: string;
  readonly description: string;
}

/** One `argus <name>` command. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: ParseArgsOptions;
  readonly optionHelp: readonly OptionHelp[];
  readonly examples?: readonly string[];
  /** Returns the process exit code. */
  run(args: { values: Record<string, unknown>; positionals: string[] }, io: CommandIO): Promise<number>;
}

/** Bad flags or arguments: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export const formatHelp = (command: Command): string => {
  const width = Math.max(...command.optionHelp.map((o) => o.flag.length), 10) + 2;
  const lines = [`argus ${command.name}: ${command.summary}`, '', `Usage: ${command.usage}`];
  if (command.optionHelp.length > 0) {
    lines.push('', 'Options:');
    for (const o of command.optionHelp) lines.push(`  ${o.flag.padEnd(width)}${o.description}`);
  }
  if (command.examples !== undefined && command.examples.length > 0) {
    lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  }
  return `${lines.join('\n')}\n`;
};
