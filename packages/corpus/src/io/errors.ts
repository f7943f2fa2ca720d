import { PretrainError } from '@pretrain/core/lite';

/** An input problem at a place in a file: the message starts with `file:line:` so users can jump to it. */
export function inputError(message: string, file: string, line?: number, cause?: unknown): PretrainError {
  const where = line === undefined ? file : `${file}:${line}`;
  return new PretrainError(`${where}: ${message}`, { file, line, cause });
}

/** A plain-data form of an error that can cross a worker_threads boundary. */
export interface SerializedError {
  message: string;
  file?: string;
  line?: number;
  isPretrainError: boolean;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof PretrainError) {
    return { message: error.message, file: error.details.file, line: error.details.line, isPretrainError: true };
  }
  return { message: error instanceof Error ? error.message : String(error), isPretrainError: false };
}

export function deserializeError(error: SerializedError, context: string): PretrainError {
  if (error.isPretrainError) return new PretrainError(error.message, { file: error.file, line: error.line });
  return new PretrainError(`${context}: ${error.message}`, { file: error.file, line: error.line });
}

/** Turns Node's file-system errors into a sentence about the file. */
export function describeFsError(error: unknown, file: string): PretrainError {
  if (error instanceof PretrainError) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  const reason =
    code === 'ENOENT' ? 'file not found'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied (file is not readable)'
    : code === 'EISDIR' ? 'is a directory, expected a file'
    : `cannot read file (${code ?? (error as Error)?.message ?? String(error)})`;
  return inputError(reason, file, undefined, error);
}
