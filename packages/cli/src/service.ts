import {
  type OptionsSpec,
  optionsHelp,
  type ParsedOptions,
  parseArgsConfig,
  parseOptions,
  type Shutdown,
} from '@argus/runtime';
import { type Command, EXIT_FAILURE, EXIT_OK } from './command.js';
import { optionsFromFlags } from './options.js';

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
}): Command => ({
  name: definition.name,
  summary: definition.summary,
  usage: definition.usage,
  options: parseArgsConfig(definition.spec),
  optionHelp: optionsHelp(definition.spec),
  examples: definition.examples,
  async run({ values }, io) {
    const options = parseOptions(definition.spec, { flags: optionsFromFlags(values), env: io.env });
    const running = await definition.start(options);
    return new Promise<number>((resolve) => {
      running.shutdown.handleSignals((code) =>
        resolve(code === 0 ? EXIT_OK : code === EXIT_SECOND_SIGNAL ? EXIT_SECOND_SIGNAL : EXIT_FAILURE),
      );
    });
  },
});
