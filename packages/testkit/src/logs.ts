import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

export type LogLine = Record<string, unknown> & { level: number; msg?: string };

export interface LogCapture {
  readonly logger: Logger;
  /** The stream behind `logger`, for code that builds its own logger (`runHub(options, destination)`). */
  readonly destination: Writable;
  /** Every line logged so far, parsed. */
  lines(): LogLine[];
  find(predicate: (line: LogLine) => boolean): LogLine | undefined;
  /** The raw text logged so far (for "never contains a token" assertions). */
  text(): string;
  clear(): void;
}

/** A pino logger writing into memory, so tests assert on log lines instead of eyeballing them. */
export const captureLogs = (options: { level?: string; name?: string } = {}): LogCapture => {
  let raw = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw += chunk.toString('utf8');
      done();
    },
  });
  const logger = pino({ level: options.level ?? 'trace', name: options.name ?? 'test' }, destination);
  const lines = () =>
    raw
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as LogLine);
  return {
    logger,
    destination,
    lines,
    find: (predicate) => lines().find(predicate),
    text: () => raw,
    clear: () => {
      raw = '';
    },
  };
};
