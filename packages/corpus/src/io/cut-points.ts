import * as fs from 'fs';

const BLOCK_BYTES = 64 << 10;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Where a file may be cut into ranges that read exactly like that stretch of the whole file. */
export interface CutRule {
  /** JSONL: every line is a record, so any line start is a cut point. Text: only after an empty line. */
  anyLineStart: boolean;
  /** No cut before this many lines (the Gutenberg header window, so only the first range looks for the header). */
  headerLines: number;
}

/**
 * The first cut point at or after `offset`: 0, the file size, or (text) the start of a line that
 * follows an empty line (`\n\n` or `\n\r\n`), where paragraphs and documents have ended and every
 * reading state is fresh. Lines of only spaces also end paragraphs but are not used as cut points,
 * which costs nothing but an occasional longer range. Two ranges that share a nominal bound agree
 * on it because both compute it with this function.
 */
export function findCutPoint(file: string, size: number, offset: number, rule: CutRule): number {
  if (offset <= 0) return 0;
  if (offset >= size) return size;
  const fd = fs.openSync(file, 'r');
  try {
    const from = rule.headerLines > 0 ? Math.max(offset, positionAfterLines(fd, size, rule.headerLines)) : offset;
    return nextCut(fd, size, from, rule.anyLineStart);
  } finally {
    fs.closeSync(fd);
  }
}

/** Newlines in the file's first `end` bytes (for absolute line numbers in a range's error messages). */
export function countLinesBefore(file: string, end: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    let lines = 0;
    forEachBlock(fd, 0, end, (block) => {
      for (let i = block.indexOf(NEWLINE); i >= 0; i = block.indexOf(NEWLINE, i + 1)) lines++;
      return false;
    });
    return lines;
  } finally {
    fs.closeSync(fd);
  }
}

function positionAfterLines(fd: number, size: number, lines: number): number {
  let seen = 0;
  let position = size;
  forEachBlock(fd, 0, size, (block, blockStart) => {
    for (let i = block.indexOf(NEWLINE); i >= 0; i = block.indexOf(NEWLINE, i + 1)) {
      if (++seen === lines) {
        position = blockStart + i + 1;
        return true;
      }
    }
    return false;
  });
  return position;
}

function nextCut(fd: number, size: number, from: number, anyLineStart: boolean): number {
  if (from >= size) return size;
  let cut = size;
  // Start 3 bytes early: a cut at `from` is decided by the bytes just before it.
  forEachBlock(fd, Math.max(0, from - 3), size, (block, blockStart) => {
    for (let i = block.indexOf(NEWLINE); i >= 0; i = block.indexOf(NEWLINE, i + 1)) {
      const position = blockStart + i + 1;
      if (position >= from && (anyLineStart || endsEmptyLine(block, i))) {
        cut = position;
        return true;
      }
    }
    return false;
  }, 3);
  return cut;
}

/** Whether the newline at `i` ends an empty line (`\n\n` or `\n\r\n`), judged within the block. */
function endsEmptyLine(block: Buffer, i: number): boolean {
  return (i >= 1 && block[i - 1] === NEWLINE) || (i >= 2 && block[i - 1] === CARRIAGE_RETURN && block[i - 2] === NEWLINE);
}

/**
 * Reads `start..end` in blocks, each overlapping the previous one by `overlap` bytes so a
 * pattern across a block boundary is seen whole; stops when `visit` returns true.
 */
function forEachBlock(fd: number, start: number, end: number, visit: (block: Buffer, blockStart: number) => boolean, overlap = 0): void {
  const buffer = Buffer.allocUnsafe(BLOCK_BYTES);
  let position = start;
  while (position < end) {
    const read = fs.readSync(fd, buffer, 0, Math.min(BLOCK_BYTES, end - position), position);
    if (read <= 0) return;
    if (visit(buffer.subarray(0, read), position)) return;
    if (position + read >= end) return;
    position += read > overlap ? read - overlap : read;
  }
}
