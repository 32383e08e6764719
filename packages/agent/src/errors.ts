/**
 * The agent's errors: one class per failure a caller branches on (by class or by `reason`, never by
 * message text), each message saying what was wrong and what to do.
 */

/** Base class of the agent package's errors. */
export class AgentError extends Error {
  override name = 'AgentError';
}

/** An HTTP status other than 2xx, with the server's message. */
export class HttpStatusError extends AgentError {
  override name = 'HttpStatusError';
  readonly status: number;
  readonly url: string;
  constructor(status: number, url: string, body: string) {
    super(`${url} answered ${status}: ${body.slice(0, 300)}`);
    this.status = status;
    this.url = url;
  }
}

/** The server's certificate could not be verified: says which flag fixes it. */
export class TlsVerificationError extends AgentError {
  override name = 'TlsVerificationError';
  readonly code: string;
  constructor(url: URL, cause: NodeJS.ErrnoException) {
    super(
      `cannot verify the TLS certificate of ${url.origin} (${cause.code ?? 'TLS'}: ${cause.message}): ` +
        'trust the CA that signed it with --argocd-ca <pem file>, or use --insecure in a lab',
      { cause },
    );
    this.code = cause.code ?? '';
  }
}

/** The Kubernetes watch's resourceVersion expired (410 Gone): it cannot resume, the source lists again. */
export class ResourceVersionExpiredError extends AgentError {
  override name = 'ResourceVersionExpiredError';
  constructor(detail: string) {
    super(`the watch's resourceVersion expired (410 Gone: ${detail}): listing again`);
  }
}

/** Why a source's conversation with Argo CD or Kubernetes broke off (it reconnects and lists again). */
export type SourceProtocolReason =
  | 'stream-ended-before-list'
  | 'list-cut-short'
  | 'stream-error'
  | 'watch-error';

const SOURCE_PROTOCOL_ADVICE: Record<SourceProtocolReason, string> = {
  'stream-ended-before-list':
    'the agent reconnects and lists again; if it repeats, look at the idle and response timeouts of a proxy in front of Argo CD',
  'list-cut-short':
    'the agent lists again; if it repeats, look for a proxy that cuts long responses or limits their size',
  'stream-error':
    "the agent reconnects; check that the token may read applications (Argo CD RBAC 'applications, get')",
  'watch-error':
    'the agent lists again; check that its service account may list and watch applications.argoproj.io',
};

/** Argo CD's stream or list, or the Kubernetes watch, broke off or reported an error. */
export class SourceProtocolError extends AgentError {
  override name = 'SourceProtocolError';
  readonly reason: SourceProtocolReason;
  constructor(reason: SourceProtocolReason, what: string) {
    super(`${what}: ${SOURCE_PROTOCOL_ADVICE[reason]}`);
    this.reason = reason;
  }
}

/** A kubeconfig (or the pod's environment) does not say how to reach the Kubernetes API. */
export class KubeconfigError extends AgentError {
  override name = 'KubeconfigError';
  readonly reason: 'not-in-pod' | 'no-context' | 'no-server';
  readonly file: string | undefined;
  constructor(reason: KubeconfigError['reason'], message: string, file?: string) {
    super(message);
    this.reason = reason;
    this.file = file;
  }
}

/** A Notifications post that carries no Application: the reason, for the 400 and the log. */
export class NotAnApplicationError extends AgentError {
  override name = 'NotAnApplicationError';
  readonly reason: 'not-json' | 'not-an-application';
  constructor(reason: 'not-json' | 'not-an-application', message: string) {
    super(message);
    this.reason = reason;
  }
}

/** The agent is stopping and takes no more work; the sender should retry (another replica, or after the restart). */
export class AgentStoppingError extends AgentError {
  override name = 'AgentStoppingError';
  constructor() {
    super('the agent is stopping');
  }
}

/** The outbox is full: the oldest waiting entries stay; this one cannot be accepted. */
export class OutboxFullError extends AgentError {
  override name = 'OutboxFullError';
  readonly depth: number;
  constructor(depth: number) {
    super(
      `the on-disk spool holds ${depth} events, its limit: NATS has been unreachable too long; ` +
        'restore the connection to NATS (the spool drains by itself), or raise --max-spool',
    );
    this.depth = depth;
  }
}

/** The spool file does not hold what the agent wrote (changed or truncated while it ran). */
export class SpoolDamagedError extends AgentError {
  override name = 'SpoolDamagedError';
  readonly file: string;
  readonly offset: number;
  constructor(file: string, offset: number) {
    super(
      `spool ${file}: entry at byte ${offset} is cut short: the file was changed while the agent ran; ` +
        'stop the agent and move the file aside (deployments are derived again from Argo CD history)',
    );
    this.file = file;
    this.offset = offset;
  }
}
