/**
 * The command line of a reactor: the NATS connection options every Argus process takes (URL,
 * credentials file or user and password, TLS, inbox prefix; the same flags and ARGUS_* variables as
 * the hub and the agents), plus the reactor's own. One parser for both reactors.
 */
import { parseArgs } from 'node:util';
import {
  NATS_CLIENT_OPTIONS,
  type OptionsSpec,
  type ParsedOptions,
  parseArgsConfig,
  parseOptions,
} from '@argus/runtime';

/** Options of a reactor: NATS connection options plus `extra`. */
export const reactorSpec = <S extends OptionsSpec>(extra: S) => ({ ...NATS_CLIENT_OPTIONS, ...extra });

/** Parses argv (a leading `--` from `pnpm <script> -- --flag` skipped) and the ARGUS_* environment. */
export const parseReactorOptions = <S extends OptionsSpec>(
  spec: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedOptions<S> => {
  const { values } = parseArgs({
    args: argv.filter((arg, i) => !(i === 0 && arg === '--')),
    options: parseArgsConfig(spec),
    strict: true,
  });
  const flags: Record<string, string | boolean | undefined> = {};
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'string' || typeof value === 'boolean') flags[name] = value;
  }
  return parseOptions(spec, { flags, env });
};
