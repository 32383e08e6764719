#!/usr/bin/env node
import { main } from './main.js';

const readStdin = async (): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin,
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
    // Output is flushed and every shutdown step has run; a handle left open (a timer of a client
    // library) must not keep the process alive after it said it stopped.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error: unknown) => {
    // Unexpected failures still get one readable line; the stack only with ARGUS_DEBUG=1.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`argus: ${message}\n`);
    if (process.env.ARGUS_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  },
);
