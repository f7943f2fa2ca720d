import { PretrainError } from '@pretrain/core';
import { Command, CommandIO, UsageError, commandHelp, parseCommandArgs } from './command';
import { InterruptedError, installInterruptHandlers } from './interrupt';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

function version(): string {
  return (require('../package.json') as { version: string }).version;
}

export function globalHelp(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length)) + 2;
  return [
    'Usage: pretrain <command> [options]',
    '',
    'Pre-train transformer language models on unlabeled text and fine-tune them on labeled tasks.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.path.join(' ').padEnd(width)}${c.summary}`),
    '',
    'Run `pretrain <command> --help` for the options of one command.',
    'Global: --verbose (stack traces on errors), --version.',
    '',
  ].join('\n');
}

/** Finds the longest command path that prefixes argv. */
export function findCommand(commands: Command[], argv: string[]): { command?: Command; rest: string[] } {
  let best: Command | undefined;
  for (const command of commands) {
    const matches = command.path.every((word, i) => argv[i] === word);
    if (matches && (!best || command.path.length > best.path.length)) best = command;
  }
  return { command: best, rest: best ? argv.slice(best.path.length) : argv };
}

/** Runs the CLI and returns the process exit code. Errors are printed as one message (stack with --verbose). */
export async function main(argv: string[], commands: Command[], io: CommandIO): Promise<number> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  const log = (line: string) => io.stderr.write(`${line}\n`);
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(globalHelp(commands));
    return argv.length === 0 ? EXIT_USAGE : EXIT_OK;
  }
  if (argv[0] === '--version') {
    io.stdout.write(`${version()}\n`);
    return EXIT_OK;
  }
  const { command, rest } = findCommand(commands, argv);
  if (!command) {
    const group = commands.filter((c) => c.path[0] === argv[0] && c.path.length > 1);
    const hint = group.length > 0 ? ` Did you mean: ${group.map((c) => `pretrain ${c.path.join(' ')}`).join(', ')}?` : ' Run `pretrain --help` for the list.';
    log(`error: unknown command "${argv.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ')}".${hint}`);
    return EXIT_USAGE;
  }
  const removeHandlers = installInterruptHandlers(log);
  try {
    const { options, positionals } = parseCommandArgs(command, rest);
    if (options.help) {
      io.stdout.write(commandHelp(command));
      return EXIT_OK;
    }
    await command.run({ options, positionals, io, log, verbose });
    return EXIT_OK;
  } catch (error) {
    return reportError(error, verbose, log);
  } finally {
    removeHandlers();
  }
}

function reportError(error: unknown, verbose: boolean, log: (line: string) => void): number {
  if (error instanceof InterruptedError) {
    log(error.message);
    return EXIT_INTERRUPTED;
  }
  const message = error instanceof Error ? error.message : String(error);
  log(`error: ${message}`);
  if (verbose && error instanceof Error && error.stack) log(error.stack);
  else if (!(error instanceof PretrainError)) log('(run with --verbose for the stack trace)');
  return error instanceof UsageError ? EXIT_USAGE : EXIT_ERROR;
}
