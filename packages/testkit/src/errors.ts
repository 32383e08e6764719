/** The nats-server binary is not installed (or not where ARGUS_NATS_SERVER points). */
export class NatsServerNotFoundError extends Error {
  override name = 'NatsServerNotFoundError';
  readonly binary: string;
  constructor(binary: string, cause?: unknown) {
    super(
      `nats-server not found (tried ${JSON.stringify(binary)}): run "bash deploy/scripts/setup.sh" ` +
        '(installs the Debian package nats-server) or set ARGUS_NATS_SERVER to the binary',
      { cause },
    );
    this.binary = binary;
  }
}

/** nats-server exited or did not become ready; the message carries its output. */
export class NatsServerStartError extends Error {
  override name = 'NatsServerStartError';
  readonly output: string;
  constructor(message: string, output: string) {
    super(`${message}\n--- nats-server output ---\n${output}`);
    this.output = output;
  }
}

/** `waitFor` gave up: says what it waited for, how long, and the last failure. */
export class WaitForTimeoutError extends Error {
  override name = 'WaitForTimeoutError';
  readonly what: string;
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number, cause?: unknown) {
    const last = cause instanceof Error ? `; last error: ${cause.message}` : '';
    super(`timed out after ${timeoutMs} ms waiting for ${what}${last}`, { cause });
    this.what = what;
    this.timeoutMs = timeoutMs;
  }
}
