export type { CommandIO } from './command.js';
export { main } from './main.js';
