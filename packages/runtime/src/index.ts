export { Backoff, sleep } from './backoff.js';
export { OptionsError } from './errors.js';
export type { ExtraRoute, HealthServer, Readiness } from './health.js';
export { HTTP_REQUEST_TIMEOUT_MS, startHealthServer } from './health.js';
export { readBodyWithin } from './http-body.js';
export type { AnonymousPolicy } from './http-receiver.js';
export {
  answerJson,
  assertDeclaredLength,
  assertJsonContentType,
  authorize,
  HttpProblem,
  readBody,
  receiverRoute,
} from './http-receiver.js';
export type { LongRunning } from './lifecycle.js';
export { PeriodicTask, READY, readinessOf, statusOf } from './lifecycle.js';
export { isLoopback, listenFailure, loadListenerTls, parseListen } from './listen.js';
export type { Logger } from './logger.js';
export { createLogger } from './logger.js';
export type { OptionsSpec, ParsedOptions } from './options.js';
export {
  envName,
  flagName,
  LISTENER_TLS_OPTIONS,
  LOG_LEVEL_OPTION,
  NATS_CLIENT_OPTIONS,
  optionsHelp,
  optionsMarkdown,
  parseArgsConfig,
  parseDuration,
  parseOptions,
} from './options.js';
export { Shutdown } from './shutdown.js';
export { bearerToken, parseTokens, TokenVerifier } from './tokens.js';
