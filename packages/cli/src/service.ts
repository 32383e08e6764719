import type { OptionsSpec, ParsedOptions, Shutdown } from '@argus/runtime';
import { type Command, EXIT_FAILURE, EXIT_OK } from './command.js';
import { specCommand } from './options.js';

const EXIT_SECOND_SIGNAL = 130;

/**
 * A command that runs a long-lived process (hub, agent): options from one spec (flags, `ARGUS_*` env,
 * help), started by `start`, stopped gracefully on SIGINT/SIGTERM.
 */
export const serviceCommand = <S extends OptionsSpec>(definition: {
  name: string;
  summary: string;
  usage: string;
  spec: S;
  examples: readonly string[];
  start: (options: ParsedOptions<S>) => Promise<{ readonly shutdown: Shutdown }>;
}): Command =>
  specCommand(definition, async (options) => {
    const running = await definition.start(options);
    return new Promise<number>((resolve) => {
      running.shutdown.handleSignals((code) =>
        resolve(code === 0 ? EXIT_OK : code === EXIT_SECOND_SIGNAL ? EXIT_SECOND_SIGNAL : EXIT_FAILURE),
      );
    });
  });
