import { readFile } from 'node:fs/promises';
import { DEFAULT_MAX_EVENT_BYTES, parseDetailed, ValidationError } from '@argus/cdevents';
import { type Command, EXIT_FAILURE, EXIT_OK, UsageError } from '../command.js';

interface Verdict {
  readonly file: string;
  readonly valid: boolean;
  readonly type?: string;
  readonly specVersion?: string;
  readonly id?: string;
  readonly reason?: string;
  readonly issues?: readonly { path: string; message: string }[];
}

const check = (file: string, bytes: Uint8Array, maxBytes: number): Verdict => {
  try {
    const { event, specVersion } = parseDetailed(bytes, { maxBytes });
    return { file, valid: true, type: event.context.type, specVersion, id: event.context.id };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { file, valid: false, reason: error.reason, issues: error.issues };
  }
};

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check CDEvent JSON files against the CDEvents v0.5.1 / v0.4.1 schemas',
  usage: 'argus validate [--output text|json] [--max-bytes N] <file|-> [file...]',
  options: {
    output: { type: 'string', default: 'text' },
    'max-bytes': { type: 'string', default: String(DEFAULT_MAX_EVENT_BYTES) },
  },
  optionHelp: [
    { flag: '--output text|json', description: 'human lines (default) or one JSON verdict per line' },
    {
      flag: '--max-bytes N',
      description: `largest accepted file in bytes (default ${DEFAULT_MAX_EVENT_BYTES})`,
    },
    { flag: '<file|->', description: 'files to check; "-" reads one event from standard input' },
  ],
  examples: ['argus validate event.json', 'cat event.json | argus validate -'],
  async run({ values, positionals }, io) {
    const output = String(values.output);
    if (output !== 'text' && output !== 'json')
      throw new UsageError(`--output must be text or json, got "${output}"`);
    const maxBytes = Number(values['max-bytes']);
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new UsageError(`--max-bytes must be a positive integer, got "${String(values['max-bytes'])}"`);
    }
    if (positionals.length === 0) throw new UsageError('name at least one file, or "-" for standard input');
    let failures = 0;
    for (const file of positionals) {
      let bytes: Uint8Array;
      try {
        bytes = file === '-' ? await io.readStdin() : await readFile(file);
      } catch (error) {
        failures++;
        const message = error instanceof Error ? error.message : String(error);
        io.stderr(`${file}: cannot read: ${message}\n`);
        continue;
      }
      const verdict = check(file, bytes, maxBytes);
      if (!verdict.valid) failures++;
      if (output === 'json') io.stdout(`${JSON.stringify(verdict)}\n`);
      else if (verdict.valid)
        io.stdout(`${file}: valid ${verdict.type} (CDEvents ${verdict.specVersion}, id ${verdict.id})\n`);
      else {
        io.stdout(`${file}: invalid (${verdict.reason})\n`);
        for (const issue of verdict.issues ?? []) io.stdout(`  ${issue.path}: ${issue.message}\n`);
      }
    }
    return failures === 0 ? EXIT_OK : EXIT_FAILURE;
  },
};
