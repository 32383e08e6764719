/** Marks an OptionsError of any copy of this package (see OptionsError.is). */
const OPTIONS_ERROR = Symbol.for('argus.OptionsError');

/** An option (flag, env var or file key) is unknown, missing or malformed. */
export class OptionsError extends Error {
  override name = 'OptionsError';
  readonly [OPTIONS_ERROR] = true;
  /** The option as the user spelled it: `--nats` or `ARGUS_NATS`. */
  readonly option: string | undefined;
  constructor(message: string, option?: string) {
    super(message);
    this.option = option;
  }

  /**
   * An OptionsError from this copy of the package or another: the `argus` bundle holds its own copy,
   * and the hub, which it loads as a package, throws from the package's.
   */
  static is(error: unknown): error is OptionsError {
    return typeof error === 'object' && error !== null && OPTIONS_ERROR in error;
  }
}
