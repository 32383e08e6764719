import {
  type OptionsSpec,
  optionsHelp,
  type ParsedOptions,
  parseArgsConfig,
  parseOptions,
} from '@argus/runtime';
import type { Command, CommandIO } from './command.js';

/** `parseArgs` values (strings and booleans by flag name) as the flag map `parseOptions` reads. */
export const optionsFromFlags = (
  values: Record<string, unknown>,
): Record<string, string | boolean | undefined> => {
  const flags: Record<string, string | boolean | undefined> = {};
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'string' || typeof value === 'boolean') flags[name] = value;
  }
  return flags;
};

/**
 * A command whose flags are one options spec: the parser's config and the help lines come from the
 * spec, and `run` gets the options already parsed (flags over `ARGUS_*` env over defaults).
 */
export const specCommand = <S extends OptionsSpec>(
  definition: { name: string; summary: string; usage: string; spec: S; examples: readonly string[] },
  run: (options: ParsedOptions<S>, positionals: readonly string[], io: CommandIO) => Promise<number>,
): Command => ({
  name: definition.name,
  summary: definition.summary,
  usage: definition.usage,
  options: parseArgsConfig(definition.spec),
  optionHelp: optionsHelp(definition.spec),
  examples: definition.examples,
  run: ({ values, positionals }, io) =>
    run(parseOptions(definition.spec, { flags: optionsFromFlags(values), env: io.env }), positionals, io),
});
