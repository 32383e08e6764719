import { type Command, EXIT_OK } from '../command.js';
import { VERSION } from '../version.js';

export const versionCommand: Command = {
  name: 'version',
  summary: 'print the Argus version',
  usage: 'argus version [--json]',
  options: { json: { type: 'boolean', default: false } },
  optionHelp: [{ flag: '--json', description: 'print {"version","node","platform"} as JSON' }],
  async run({ values }, io) {
    if (values.json === true) {
      io.stdout(
        `${JSON.stringify({ version: VERSION, node: process.versions.node, platform: process.platform })}\n`,
      );
    } else {
      io.stdout(`argus ${VERSION} (node ${process.versions.node})\n`);
    }
    return EXIT_OK;
  },
};
