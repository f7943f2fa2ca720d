/**
 * Atomic file writes: a crash or a full disk leaves either the old file or the new one, never a
 * half-written checkpoint. Data goes to a temp file in the same directory (rename is only atomic
 * within one filesystem), is fsynced, then renamed over the target.
 */
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { PretrainError } from './errors';

/**
 * A file-system write failure users can act on: which file or folder, why, and what to do. Errors that
 * are not about space or permissions come back unchanged.
 */
export function describeWriteError(error: unknown, target: string): unknown {
  if (error instanceof PretrainError) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  const folder = path.dirname(path.resolve(target));
  const elsewhere = 'or write the run somewhere else (--out DIR, trainer.outputDir)';
  const why =
    code === 'ENOSPC' || code === 'EDQUOT' ? `no space left on the disk holding ${folder} (${code}): free some space there, ${elsewhere}`
    : code === 'EACCES' || code === 'EPERM' ? `permission denied in ${folder} (${code}): make that folder writable for this user, ${elsewhere}`
    : code === 'EROFS' ? `${folder} is on a read-only file system (EROFS): ${elsewhere.replace(/^or /, '')}`
    : undefined;
  return why ? new PretrainError(`cannot write ${target}: ${why}`, { file: target, cause: error }) : error;
}

/** mkdir -p with describeWriteError's messages. */
export function makeDirectory(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw describeWriteError(error, dir);
  }
}

export function writeFileAtomic(filePath: string, data: string | Uint8Array): void {
  const dir = path.dirname(path.resolve(filePath));
  makeDirectory(dir);
  const tempPath = path.join(dir, `.${path.basename(filePath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tempPath, 'wx', 0o644);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let written = 0;
    while (written < bytes.byteLength) written += fs.writeSync(fd, bytes, written, bytes.byteLength - written);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tempPath, filePath);
  } catch (error) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tempPath, { force: true });
    throw describeWriteError(error, filePath);
  }
  syncDirectory(dir);
}

/** JSON with 2-space indentation and a trailing newline, written atomically. */
export function writeJsonAtomic(filePath: string, value: unknown, indent = 2): void {
  writeFileAtomic(filePath, `${JSON.stringify(value, null, indent)}\n`);
}

/** Makes the rename itself durable; not supported on every platform (Windows), so best effort. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Directory fsync is unavailable here; the rename has still happened.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface FolderWriteOptions {
  /** Replace a folder that already holds files (otherwise that is an error). */
  force?: boolean;
}

/**
 * Fills `dir` through a sibling temp folder that is renamed into place only when `fill` succeeds:
 * a failed or interrupted export leaves no half-written folder (and, with force, the old one intact).
 * A non-empty `dir` is refused unless `force`, so an export never mixes its files with others.
 */
export async function writeFolderAtomic(dir: string, fill: (tempDir: string) => void | Promise<void>, options: FolderWriteOptions = {}): Promise<string> {
  const target = path.resolve(dir);
  const existing = fs.existsSync(target) ? fs.statSync(target) : undefined;
  if (existing && !existing.isDirectory()) throw new PretrainError(`${target}: exists and is not a folder`, { file: target });
  if (existing && fs.readdirSync(target).length > 0 && !options.force) {
    throw new PretrainError(`${target}: folder is not empty; choose an empty or new folder, or pass --force to replace it`, { file: target });
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const temp = fs.mkdtempSync(path.join(path.dirname(target), `.${path.basename(target)}.tmp-`));
  try {
    await fill(temp);
    const old = `${temp}.old`;
    if (existing) fs.renameSync(target, old);
    fs.renameSync(temp, target);
    fs.rmSync(old, { recursive: true, force: true });
  } catch (error) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  syncDirectory(path.dirname(target));
  return target;
}
