import type { OptionsSpec, ParsedOptions } from '@argus/runtime';
import { type Command, type CommandIO, EXIT_FAILURE, UsageError } from '../command.js';
import { specCommand } from '../options.js';
import {
  type ClientOptions,
  type Connection,
  connect,
  describeServiceError,
  isServiceError,
} from './connection.js';

/**
 * An `argus` command that asks the hub's query API: shared client options, one connection, and
 * gRPC errors printed as their status and message (exit 1), never a stack trace.
 */
export const clientCommand = <S extends OptionsSpec>(definition: {
  name: string;
  summary: string;
  usage: string;
  spec: S;
  examples: readonly string[];
  /** The command reads positional arguments itself; without this, any is refused. */
  takesArguments?: true;
  run: (
    options: ParsedOptions<S> & ClientOptions,
    connection: Connection,
    io: CommandIO,
    positionals: readonly string[],
  ) => Promise<number>;
}): Command =>
  specCommand(definition, async (parsed, positionals, io) => {
    const options = parsed as ParsedOptions<S> & ClientOptions;
    if (definition.takesArguments !== true && positionals.length > 0)
      throw new UsageError(
        `takes no arguments, got ${positionals.map((p) => JSON.stringify(p)).join(' ')} (a flag without its -- ?)`,
      );
    const connection = connect(options, io);
    try {
      return await definition.run(options, connection, io, positionals);
    } catch (error) {
      if (!isServiceError(error)) throw error;
      io.stderr(`argus ${definition.name}: ${describeServiceError(error, options.hub)}\n`);
      return EXIT_FAILURE;
    } finally {
      connection.close();
    }
  });
