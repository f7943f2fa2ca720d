#!/usr/bin/env node
import { allCommands } from './commands';
import { main } from './main';

main(process.argv.slice(2), allCommands, { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() }).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`error: ${(error as Error)?.message ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
