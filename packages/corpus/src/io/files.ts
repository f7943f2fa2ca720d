import * as fs from 'fs';
import * as path from 'path';
import { describeFsError, inputError } from './errors';

/** One input file with the facts the cache manifest keys on. */
export interface SourceFile {
  path: string;
  /** Path relative to the input it came from (directory or glob base); document ids use it. */
  relPath: string;
  size: number;
  mtimeMs: number;
}

/**
 * Expands files, directories (recursively; hidden entries skipped) and globs (`*`, `**`, `?`,
 * `[abc]`, `{a,b}`) into a sorted, de-duplicated file list. A missing input is an error; a glob
 * or directory that matches nothing is too, because training on nothing is never intended.
 */
export function resolveSources(inputs: string[], baseDir = process.cwd()): SourceFile[] {
  if (inputs.length === 0) throw inputError('no input paths given', '(corpus options)');
  const byPath = new Map<string, SourceFile>();
  for (const input of inputs) {
    for (const file of expandInput(input, baseDir)) if (!byPath.has(file.path)) byPath.set(file.path, file);
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function expandInput(input: string, baseDir: string): SourceFile[] {
  const absolute = path.resolve(baseDir, input);
  if (hasGlobSyntax(input)) return expandGlob(absolute, input);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absolute);
  } catch (error) {
    throw describeFsError(error, absolute);
  }
  if (stat.isDirectory()) {
    const files = walk(absolute).map((file) => toSourceFile(file, absolute));
    if (files.length === 0) throw inputError('directory contains no files', absolute);
    return files;
  }
  return [{ path: absolute, relPath: path.basename(absolute), size: stat.size, mtimeMs: stat.mtimeMs }];
}

function expandGlob(absolutePattern: string, original: string): SourceFile[] {
  const base = staticBase(absolutePattern);
  const matcher = globToRegExp(absolutePattern.split(path.sep).join('/'));
  if (!fs.existsSync(base)) throw inputError(`no files match "${original}" (directory ${base} does not exist)`, original);
  const candidates = fs.statSync(base).isDirectory() ? walk(base) : [base];
  const files = candidates.filter((file) => matcher.test(file.split(path.sep).join('/'))).map((file) => toSourceFile(file, base));
  if (files.length === 0) throw inputError('no files match this glob', original);
  return files;
}

function toSourceFile(file: string, root: string): SourceFile {
  const stat = fs.statSync(file);
  return { path: file, relPath: path.relative(root, file).split(path.sep).join('/') || path.basename(file), size: stat.size, mtimeMs: stat.mtimeMs };
}

function walk(dir: string): string[] {
  const found: string[] = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...walk(full));
    else if (entry.isFile() || (entry.isSymbolicLink() && fs.statSync(full).isFile())) found.push(full);
  }
  return found;
}

export function hasGlobSyntax(pattern: string): boolean {
  return /[*?[{]/.test(pattern);
}

/** The longest leading directory of a pattern without glob syntax. */
function staticBase(absolutePattern: string): string {
  const parts = absolutePattern.split(path.sep);
  const firstGlob = parts.findIndex((part) => hasGlobSyntax(part));
  return parts.slice(0, firstGlob).join(path.sep) || path.sep;
}

/** Glob (with `/` separators) to an anchored RegExp. `**` spans directories; `*` does not. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        source += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else {
        source += '[^/]*';
      }
    } else if (c === '?') {
      source += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) source += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = end;
      }
    } else if (c === '{') {
      const end = glob.indexOf('}', i + 1);
      if (end < 0) source += '\\{';
      else {
        const options = glob.slice(i + 1, end).split(',').map((o) => globToRegExp(o).source.slice(1, -1));
        source += `(?:${options.join('|')})`;
        i = end;
      }
    } else {
      source += c.replace(/[.+^$()|\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}
