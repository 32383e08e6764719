export type { Command, CommandIO } from './command.js';
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './command.js';
export type { CommandEntry } from './main.js';
export { COMMANDS, main } from './main.js';
export { VERSION } from './version.js';
