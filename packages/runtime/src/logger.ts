import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

/** Paths whose values never reach a log line: tokens, passwords, credentials, authorization headers. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'argocdToken',
  '*.argocdToken',
  'natsCreds',
  '*.natsCreds',
  'bearer',
  '*.bearer',
];

export interface LoggerSetup {
  /** Process name, e.g. `argus-hub`. */
  readonly service: string;
  /** Instance id of an agent, or hub replica name. */
  readonly instance?: string;
  /** @default 'info' (or env ARGUS_LOG_LEVEL) */
  readonly level?: string;
  /** Where lines go. @default standard output */
  readonly destination?: DestinationStream;
}

/** The one root logger of a process. Components take it and call `.child({ component })`. */
export const createLogger = (setup: LoggerSetup): Logger => {
  const options: LoggerOptions = {
    name: setup.service,
    level: setup.level ?? process.env.ARGUS_LOG_LEVEL ?? 'info',
    base: { service: setup.service, ...(setup.instance === undefined ? {} : { instance: setup.instance }) },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return setup.destination === undefined ? pino(options) : pino(options, setup.destination);
};
