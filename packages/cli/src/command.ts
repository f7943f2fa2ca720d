import { parseArgs } from 'util';
import { PretrainError } from '@pretrain/core';

export type OptionType = 'string' | 'boolean';

export interface OptionSpec {
  type: OptionType;
  short?: string;
  multiple?: boolean;
  /** Shown in --help, e.g. `FILE`. */
  valueName?: string;
  description: string;
  default?: string | boolean;
}

/** Where a command writes: stdout for results, stderr for progress and logs. */
export interface CommandIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  cwd: string;
}

export type ParsedOptions = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  options: ParsedOptions;
  positionals: string[];
  io: CommandIO;
  log(line: string): void;
  verbose: boolean;
}

export interface Command {
  /** Words after `pretrain`, e.g. ['tokenizer', 'train']. */
  path: string[];
  summary: string;
  /** Extra help text: what the command reads and writes, an example. */
  details: string;
  positionals?: string;
  options: Record<string, OptionSpec>;
  run(context: CommandContext): Promise<void>;
}

/** Options every command takes. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  verbose: { type: 'boolean', short: 'v', description: 'print stack traces with errors, and more detail' },
};

export const CONFIG_OPTIONS: Record<string, OptionSpec> = {
  config: { type: 'string', short: 'c', valueName: 'FILE', description: 'experiment config (JSON or YAML)' },
  set: { type: 'string', multiple: true, valueName: 'KEY=VALUE', description: 'override one config value, e.g. --set trainer.maxSteps=50 (repeatable)' },
  out: { type: 'string', short: 'o', valueName: 'DIR', description: 'run folder (default: config outputDir, else runs/<name>-<time>)' },
};

/** A usage mistake (unknown flag, missing argument): printed with a pointer to --help, exit code 2. */
export class UsageError extends PretrainError {
  constructor(message: string, readonly command?: Command) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseCommandArgs(command: Command, argv: string[]): { options: ParsedOptions; positionals: string[] } {
  const all = { ...command.options, ...COMMON_OPTIONS };
  const config: Record<string, { type: OptionType; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(all)) {
    config[name] = { type: spec.type };
    if (spec.short) config[name].short = spec.short;
    if (spec.multiple) config[name].multiple = true;
  }
  try {
    const parsed = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
    const options: ParsedOptions = { ...(parsed.values as ParsedOptions) };
    for (const [name, spec] of Object.entries(all)) if (options[name] === undefined && spec.default !== undefined) options[name] = spec.default;
    return { options, positionals: parsed.positionals };
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${message} (see: pretrain ${command.path.join(' ')} --help)`, command);
  }
}

export function commandHelp(command: Command): string {
  const all = { ...command.options, ...COMMON_OPTIONS };
  const lines = [`Usage: pretrain ${command.path.join(' ')}${command.positionals ? ` ${command.positionals}` : ''} [options]`, '', command.summary, ''];
  if (command.details) lines.push(command.details.trim(), '');
  lines.push('Options:');
  const flags = Object.entries(all).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`;
    return [flag, `${spec.description}${spec.default !== undefined && spec.type === 'string' ? ` (default: ${spec.default})` : ''}`];
  });
  const width = Math.max(...flags.map(([f]) => f.length)) + 2;
  for (const [flag, description] of flags) lines.push(`  ${flag.padEnd(width)}${description}`);
  return `${lines.join('\n')}\n`;
}

export function stringOption(options: ParsedOptions, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
}

export function requireString(options: ParsedOptions, name: string, command: string): string {
  const value = stringOption(options, name);
  if (!value) throw new UsageError(`missing --${name} (see: pretrain ${command} --help)`);
  return value;
}

export function numberOption(options: ParsedOptions, name: string): number | undefined {
  const value = stringOption(options, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${value}"`);
  return n;
}
