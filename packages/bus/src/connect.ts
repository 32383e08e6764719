import { readFile } from 'node:fs/promises';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { setJsDomain } from './jetstream.js';

export interface NatsSetup {
  /** Comma-separated server URLs. */
  readonly servers: string;
  readonly name: string;
  readonly credsFile?: string | undefined;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /** TLS: the CA to trust, and a client certificate and key for mutual TLS. */
  readonly tls?:
    | {
        readonly caFile?: string | undefined;
        readonly certFile?: string | undefined;
        readonly keyFile?: string | undefined;
      }
    | undefined;
  /** Reply subjects start with this (default `_INBOX`): per-user prefixes let permissions isolate replies. */
  readonly inboxPrefix?: string | undefined;
  /** The hub's JetStream domain, for a process on a leaf node: every JetStream call goes to `$JS.<domain>.API`. */
  readonly jsDomain?: string | undefined;
  readonly logger: Logger;
  /** While no server answers the first connection, a warning this often. @default 5000 */
  readonly waitingLogMs?: number;
  /** While a lost connection is not back, a reminder this often (ms). @default DEFAULT_STILL_DISCONNECTED_LOG_MS */
  readonly stillDisconnectedLogMs?: number;
}

/** Wait between two reconnect attempts, in ms (nats.js adds up to 100 ms of jitter). */
export const RECONNECT_WAIT_MS = 1000;
/**
 * How often a connection still lost says so, in ms: the loss is logged once, not per reconnect
 * attempt (an outage of a minute logged 68 lines), and a reminder keeps it in a recent log window.
 */
export const DEFAULT_STILL_DISCONNECTED_LOG_MS = 60_000;

/** The NATS options every Argus process takes (`NATS_CLIENT_OPTIONS` of @argus/runtime), parsed. */
export interface NatsClientOptions {
  readonly nats: string;
  readonly natsCreds?: string | undefined;
  readonly natsUser?: string | undefined;
  readonly natsPassword?: string | undefined;
  readonly natsCa?: string | undefined;
  readonly natsCert?: string | undefined;
  readonly natsKey?: string | undefined;
  readonly natsInboxPrefix?: string | undefined;
  readonly natsJsDomain?: string | undefined;
}

/** A connection setup from the parsed NATS options of a process. */
export const natsSetup = (options: NatsClientOptions, name: string, logger: Logger): NatsSetup => ({
  servers: options.nats,
  name,
  credsFile: options.natsCreds,
  user: options.natsUser,
  password: options.natsPassword,
  tls: { caFile: options.natsCa, certFile: options.natsCert, keyFile: options.natsKey },
  inboxPrefix: options.natsInboxPrefix,
  jsDomain: options.natsJsDomain,
  logger,
});

const inboxPrefixes = new WeakMap<NatsConnection, string>();

/** Since when (epoch ms) a connection made by connectNats has been without a server; absent: connected. */
const disconnectedSince = new WeakMap<NatsConnection, number>();

/**
 * Why a connection cannot carry work right now, for /readyz (undefined: it can). `isClosed()` alone
 * stays false for the whole of a reconnect loop, so the status events of connectNats are what tell.
 */
export const natsNotReadyReason = (nc: NatsConnection, now = Date.now()): string | undefined => {
  if (nc.isClosed()) return 'nats: connection closed';
  const since = disconnectedSince.get(nc);
  if (since === undefined) return undefined;
  return `nats: disconnected for ${Math.round((now - since) / 1000)} s, reconnecting`;
};

/** The reply-subject prefix a connection was made with (`_INBOX` unless set). */
export const inboxPrefixOf = (nc: NatsConnection): string => inboxPrefixes.get(nc) ?? '_INBOX';

/**
 * Connects to NATS and keeps reconnecting forever: an outage pauses the work, it never ends the
 * process. Status changes are logged.
 */
export const connectNats = async (setup: NatsSetup): Promise<NatsConnection> => {
  const logger = setup.logger.child({ component: 'nats' });
  const servers = setup.servers
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const authenticator =
    setup.credsFile === undefined ? undefined : credsAuthenticator(await readFile(setup.credsFile));
  const tlsEntries = Object.entries(setup.tls ?? {}).filter(([, v]) => v !== undefined);
  const tls = tlsEntries.length === 0 ? undefined : Object.fromEntries(tlsEntries);
  // The first connection is waited for (NATS may start after us), but not in silence: a wrong URL
  // would otherwise look like a hang.
  const waitingSince = Date.now();
  const stillWaiting = setInterval(
    () =>
      logger.warn(
        { servers, waitingMs: Date.now() - waitingSince },
        'no NATS server answers yet; still trying (check --nats and that nats-server runs)',
      ),
    setup.waitingLogMs ?? 5000,
  );
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: setup.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      waitOnFirstConnect: true,
      ...(authenticator === undefined ? {} : { authenticator }),
      ...(setup.user === undefined ? {} : { user: setup.user }),
      ...(setup.password === undefined ? {} : { pass: setup.password }),
      ...(setup.inboxPrefix === undefined ? {} : { inboxPrefix: setup.inboxPrefix }),
      ...(tls === undefined ? {} : { tls }),
    });
  } finally {
    clearInterval(stillWaiting);
  }
  if (setup.inboxPrefix !== undefined) inboxPrefixes.set(nc, setup.inboxPrefix);
  setJsDomain(nc, setup.jsDomain);
  logger.info({ server: nc.getServer(), jsDomain: setup.jsDomain }, 'nats connected');
  const connection = nc;
  let attempts = 0;
  let reminder: NodeJS.Timeout | undefined;
  const downMs = () => Date.now() - (disconnectedSince.get(connection) ?? Date.now());
  const lost = (): void => {
    if (disconnectedSince.has(connection)) return;
    disconnectedSince.set(connection, Date.now());
    attempts = 0;
    logger.warn(
      { server: connection.getServer(), reconnectEveryMs: RECONNECT_WAIT_MS },
      'nats connection lost: waiting for a NATS server (reconnecting every second, logged again each minute); work that needs NATS waits until it answers',
    );
    reminder = setInterval(
      () => logger.warn({ disconnectedMs: downMs(), attempts }, 'still no NATS server; reconnecting'),
      setup.stillDisconnectedLogMs ?? DEFAULT_STILL_DISCONNECTED_LOG_MS,
    );
    reminder.unref();
  };
  const back = (): void => {
    clearInterval(reminder);
    if (!disconnectedSince.has(connection)) return;
    logger.info({ server: connection.getServer(), disconnectedMs: downMs(), attempts }, 'nats reconnected');
    disconnectedSince.delete(connection);
  };
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') lost();
      else if (status.type === 'reconnecting') {
        lost();
        attempts++;
      } else if (status.type === 'reconnect') back();
      else if (status.type === 'error') logger.error({ err: status.error }, 'nats error');
    }
    clearInterval(reminder);
  })();
  return nc;
};

/**
 * Drains a connection (pending publishes flushed, subscriptions finished) but never waits longer
 * than `timeoutMs`: with NATS unreachable a drain never completes, and the reconnect timers of an
 * open connection would keep the process alive after its shutdown. Then it closes.
 */
export const drainOrClose = async (nc: NatsConnection, timeoutMs = 5000): Promise<void> => {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  const drained = nc.isDraining()
    ? nc.closed().then(() => true)
    : nc.drain().then(
        () => true,
        () => false,
      );
  const inTime = await Promise.race([
    drained,
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (!inTime && !nc.isClosed()) await nc.close();
};
