/** An option (flag, env var or file key) is unknown, missing or malformed. */
export class OptionsError extends Error {
  override name = 'OptionsError';
  /** The option as the user spelled it: `--nats` or `ARGUS_NATS`. */
  readonly option: string | undefined;
  constructor(message: string, option?: string) {
    super(message);
    this.option = option;
  }
}
