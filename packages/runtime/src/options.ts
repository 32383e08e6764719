import { OptionsError } from './errors.js';

/** How an option's text is read. `duration` accepts `500ms`, `30s`, `5m`, `2h`, `7d` or plain milliseconds. */
export type OptionKind = 'string' | 'integer' | 'boolean' | 'duration' | 'list';

interface OptionBase {
  readonly kind: OptionKind;
  /** One line for `--help`. */
  readonly description: string;
  /** Placeholder in help, e.g. `<url>`. */
  readonly placeholder?: string;
  /** The option must be given (no default). */
  readonly required?: boolean;
  /** Allowed values of a string option. */
  readonly choices?: readonly string[];
  /** What a string option's value must match, and how the refusal describes it. */
  readonly pattern?: { readonly regex: RegExp; readonly accepted: string };
  /** Smallest accepted integer or duration. */
  readonly min?: number;
  /**
   * `false`: a flag only, never read from `ARGUS_*`. For per-call arguments (a query's
   * `--cluster`) that an environment set for a service (an agent's `ARGUS_CLUSTER`) must not change.
   */
  readonly env?: false;
}

export type OptionSpec =
  | (OptionBase & { readonly kind: 'string'; readonly default?: string })
  | (OptionBase & { readonly kind: 'integer'; readonly default?: number })
  | (OptionBase & { readonly kind: 'boolean'; readonly default?: boolean })
  | (OptionBase & { readonly kind: 'duration'; readonly default?: number })
  | (OptionBase & { readonly kind: 'list'; readonly default?: readonly string[] });

export type OptionsSpec = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S['kind'] extends 'string'
  ? string
  : S['kind'] extends 'integer' | 'duration'
    ? number
    : S['kind'] extends 'boolean'
      ? boolean
      : readonly string[];

type HasValue<S extends OptionSpec> = S extends { readonly default: unknown }
  ? true
  : S extends { readonly required: true }
    ? true
    : S['kind'] extends 'boolean'
      ? true
      : false;

/** The parsed options: options with a default or `required` are always present. */
export type ParsedOptions<T extends OptionsSpec> = {
  readonly [K in keyof T as HasValue<T[K]> extends true ? K : never]: ValueOf<T[K]>;
} & {
  readonly [K in keyof T as HasValue<T[K]> extends true ? never : K]?: ValueOf<T[K]>;
};

/** `grpcListen` -> `--grpc-listen`. */
export const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
/** `grpcListen` -> `ARGUS_GRPC_LISTEN`. */
export const envName = (key: string): string =>
  `ARGUS_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `30s`, `5m`, `1.5h`, `250ms` or a plain number of milliseconds. */
export const parseDuration = (text: string): number | undefined => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (m === null) return undefined;
  return Math.round(Number(m[1]) * (UNITS[m[2] ?? 'ms'] ?? 1));
};

const convert = (key: string, spec: OptionSpec, raw: string | boolean, where: string): unknown => {
  const fail = (accepted: string): never => {
    throw new OptionsError(
      `${where} ${JSON.stringify(String(raw))} is not valid: expected ${accepted}`,
      where,
    );
  };
  switch (spec.kind) {
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const v = raw.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
      return fail('true or false');
    }
    case 'integer': {
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) return fail('an integer');
      if (spec.min !== undefined && n < spec.min) return fail(`an integer >= ${spec.min}`);
      return n;
    }
    case 'duration': {
      const n = parseDuration(String(raw));
      if (n === undefined) return fail('a duration such as 500ms, 30s, 5m, 2h or 7d');
      if (spec.min !== undefined && n < spec.min) return fail(`a duration of at least ${spec.min} ms`);
      return n;
    }
    case 'list':
      return String(raw)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'string': {
      const s = String(raw);
      if (spec.choices !== undefined && !spec.choices.includes(s))
        return fail(`one of ${spec.choices.join(', ')}`);
      if (s === '' && spec.required === true) return fail(`a non-empty value for ${key}`);
      if (spec.pattern !== undefined && !spec.pattern.regex.test(s)) return fail(spec.pattern.accepted);
      return s;
    }
  }
};

export interface OptionSources {
  /** Flags as parsed from argv, keyed by option key (camelCase) or flag name without dashes. */
  readonly flags?: Readonly<Record<string, string | boolean | undefined>>;
  /** Environment (ARGUS_* variables are read). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const camel = (flag: string): string =>
  flag.replace(/^--?/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Reads options once, at the edge: flag beats env var beats default. Unknown flags are an error
 * that lists the known ones; missing required options name both the flag and the env var.
 * Returns a frozen object.
 */
export const parseOptions = <T extends OptionsSpec>(spec: T, sources: OptionSources): ParsedOptions<T> => {
  const flags = new Map<string, string | boolean>();
  for (const [name, value] of Object.entries(sources.flags ?? {})) {
    if (value === undefined) continue;
    const key = camel(name);
    if (!Object.hasOwn(spec, key)) {
      const known = Object.keys(spec).map(flagName).join(', ');
      throw new OptionsError(`unknown option ${flagName(key)}; known options: ${known}`, flagName(key));
    }
    flags.set(key, value);
  }
  const out: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(spec)) {
    const flagValue = flags.get(key);
    const envValue = option.env === false ? undefined : sources.env?.[envName(key)];
    if (flagValue !== undefined) out[key] = convert(key, option, flagValue, flagName(key));
    else if (envValue !== undefined && envValue !== '')
      out[key] = convert(key, option, envValue, envName(key));
    else if (option.default !== undefined) out[key] = option.default;
    else if (option.kind === 'boolean') out[key] = false;
    else if (option.required === true) {
      throw new OptionsError(
        `${flagName(key)} is required (or set ${envName(key)}): ${option.description}`,
        flagName(key),
      );
    }
  }
  return Object.freeze(out) as ParsedOptions<T>;
};

const describeDefault = (option: OptionSpec): string => {
  if (option.default === undefined) return option.required === true ? ' (required)' : '';
  if (option.kind === 'duration') return ` (default ${formatDuration(option.default)})`;
  if (option.kind === 'list')
    return option.default.length === 0 ? '' : ` (default ${option.default.join(',')})`;
  return ` (default ${String(option.default)})`;
};

export const formatDuration = (ms: number): string => {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
};

/** A reference table (Markdown) of a spec: flag, environment variable, default, meaning. */
export const optionsMarkdown = (spec: OptionsSpec): string => {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = Object.entries(spec).map(([key, option]) => {
    const value = option.kind === 'boolean' ? '' : ` ${option.placeholder ?? `<${option.kind}>`}`;
    const fallback = describeDefault(option).replace(/^ \((?:default )?(.*)\)$/, '$1');
    return `| \`${flagName(key)}${cell(value)}\` | ${option.env === false ? '' : `\`${envName(key)}\``} | ${cell(fallback)} | ${cell(option.description)} |`;
  });
  return ['| flag | environment | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
};

/** Help lines for every option: flag, env var, description, default. */
export const optionsHelp = (spec: OptionsSpec): { flag: string; description: string }[] =>
  Object.entries(spec).map(([key, option]) => ({
    flag: `${flagName(key)}${option.kind === 'boolean' ? '' : ` ${option.placeholder ?? `<${option.kind}>`}`}`,
    description: `${option.description}${describeDefault(option)}${option.env === false ? '' : ` [${envName(key)}]`}`,
  }));

/** `parseArgs` option config for a spec (everything as strings; `parseOptions` converts). */
export const parseArgsConfig = (
  spec: OptionsSpec,
): Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> =>
  Object.fromEntries(
    Object.entries(spec).map(([key, option]) => [
      flagName(key).slice(2),
      { type: option.kind === 'boolean' ? ('boolean' as const) : ('string' as const) },
    ]),
  );

/** A JetStream domain as nats-server accepts it (`jetstream { domain }`): it becomes one token of `$JS.<domain>.API`. */
const JS_DOMAIN = /^[^\s.*>]+$/;

/** The NATS connection options every Argus process takes (hub, agent). */
export const NATS_CLIENT_OPTIONS = {
  nats: {
    kind: 'string',
    description: 'NATS server URL(s), comma-separated',
    default: 'nats://127.0.0.1:4222',
    placeholder: '<url>',
  },
  natsCreds: {
    kind: 'string',
    description: 'NATS credentials file (.creds) of this process',
    placeholder: '<file>',
  },
  natsUser: { kind: 'string', description: 'NATS user name (with --nats-password)', placeholder: '<user>' },
  natsPassword: { kind: 'string', description: 'NATS password', placeholder: '<password>' },
  natsCa: {
    kind: 'string',
    description: "PEM file of the CA that signed the NATS servers' certificates (TLS)",
    placeholder: '<file>',
  },
  natsCert: {
    kind: 'string',
    description: 'client certificate (PEM) for NATS mutual TLS, with --nats-key',
    placeholder: '<file>',
  },
  natsKey: { kind: 'string', description: 'client key (PEM) for NATS mutual TLS', placeholder: '<file>' },
  natsInboxPrefix: {
    kind: 'string',
    description: 'prefix of reply subjects, so NATS permissions can keep each user to its own replies',
    default: '_INBOX',
    placeholder: '<prefix>',
  },
  natsJsDomain: {
    kind: 'string',
    description:
      "JetStream domain of the hub's NATS (its jetstream.domain), for a process connected to a leaf nats-server: JetStream and KV calls then go to $JS.<domain>.API (deploy/nats/README.md, leaf nodes)",
    placeholder: '<domain>',
    pattern: {
      regex: JS_DOMAIN,
      accepted:
        'a JetStream domain: one subject token, without ".", "*", ">" or spaces (nats-server refuses those)',
    },
  },
} as const satisfies OptionsSpec;

/** TLS for a process's listeners (HTTP; on the hub also the gRPC API). */
export const LISTENER_TLS_OPTIONS = {
  tlsCert: {
    kind: 'string',
    description: 'serve the listeners over TLS with this certificate (PEM), with --tls-key',
    placeholder: '<file>',
  },
  tlsKey: { kind: 'string', description: 'private key (PEM) of --tls-cert', placeholder: '<file>' },
} as const satisfies OptionsSpec;

export const LOG_LEVEL_OPTION = {
  logLevel: {
    kind: 'string',
    description: 'log level',
    default: 'info',
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
  },
} as const satisfies OptionsSpec;
