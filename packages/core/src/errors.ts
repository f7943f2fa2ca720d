/**
 * Errors users are meant to read: one message naming the file, line or config path at fault.
 * The CLI prints `message` alone (stack traces only with --verbose).
 */
export class PretrainError extends Error {
  constructor(
    message: string,
    readonly details: { file?: string; line?: number; path?: string; cause?: unknown } = {},
  ) {
    super(message);
    this.name = 'PretrainError';
  }
}

/** Config validation failure; `issues` holds one `path: problem` line per problem. */
export class ConfigError extends PretrainError {
  constructor(readonly issues: string[], file?: string) {
    super(`${file ? `Invalid config ${file}:\n  ` : 'Invalid config:\n  '}${issues.join('\n  ')}`, { file });
    this.name = 'ConfigError';
  }
}

/**
 * Config path of an objective's entry or one of its options, for PretrainError details and messages:
 * `objectives[mlm]`, `objectives[mlm].options.labelField`. A plugin knows its name, not its index in
 * the list; the name is what the config writes.
 */
export function objectivePath(name: string, option?: string): string {
  return `objectives[${name}]${option ? `.options.${option}` : ''}`;
}

/** Config path of the task head or one of its options: `head`, `head.options.numLabels`. */
export function headPath(option?: string): string {
  return `head${option ? `.options.${option}` : ''}`;
}
