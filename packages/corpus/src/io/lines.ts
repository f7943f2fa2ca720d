import * as fs from 'fs';
import * as zlib from 'zlib';
import { PretrainError } from '@pretrain/core/lite';
import { describeFsError, inputError } from './errors';
import { recordProblem, type ReadStats } from './stats';

export interface LineReadOptions {
  /** Longest line kept whole, in UTF-16 code units. */
  maxLineLength: number;
  /** `split`: cut over-long lines into pieces (text); `error`: treat them as malformed (JSONL). */
  overlongLines: 'split' | 'error';
  skipInvalid: boolean;
  stats: ReadStats;
  /** Read only these bytes of an uncompressed file (the file's head is still checked for binary content). */
  range?: { start: number; end: number };
  /** Lines before `range.start`; called only when an error needs an absolute line number. */
  linesBefore?: () => number;
}

/** Lines of a file with their 1-based line numbers, counted from `range.start` when reading a range (pieces of a split line share its number). */
export interface LineBatch {
  lines: string[];
  lineNumbers: number[];
}

const READ_CHUNK_BYTES = 64 << 10;
const BINARY_SNIFF_BYTES = 8000;
const REPLACEMENT = '\uFFFD';

/**
 * Streams a text file (gzip detected by its magic bytes) as batches of lines with bounded
 * memory: decoding is incremental UTF-8 (invalid bytes become U+FFFD and are counted), a BOM is
 * dropped, CRLF and LF both end lines, and a line never grows past `maxLineLength`.
 */
export async function* readLineBatches(file: string, options: LineReadOptions): AsyncGenerator<LineBatch> {
  const splitter = new LineSplitter(file, options);
  const startsMidFile = (options.range?.start ?? 0) > 0;
  // A BOM is only a BOM at the start of the file; mid-file U+FEFF is text.
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: startsMidFile });
  let sniffed = false;
  try {
    if (options.range && options.range.start >= options.range.end) return;
    for await (const chunk of openByteStream(file, options.range)) {
      const bytes = chunk as Buffer;
      if (!sniffed) {
        sniffed = true;
        if (looksBinary(startsMidFile ? readHead(file, BINARY_SNIFF_BYTES) : bytes)) {
          const error = inputError('looks like a binary file (NUL bytes near the start), not text', file);
          if (!options.skipInvalid) throw error;
          options.stats.skippedFiles++;
          recordProblem(options.stats, error.message);
          return;
        }
      }
      const text = decoder.decode(bytes, { stream: true });
      if (text.includes(REPLACEMENT)) options.stats.invalidUtf8 += countInvalid(text, bytes);
      const batch = splitter.push(text);
      if (batch.lines.length > 0) yield batch;
    }
    const tail = decoder.decode();
    if (tail.includes(REPLACEMENT)) options.stats.invalidUtf8 += countOccurrences(tail, REPLACEMENT);
    const last = splitter.end(tail);
    if (last.lines.length > 0) yield last;
  } catch (error) {
    const described = describeStreamError(error, file);
    if (!options.skipInvalid || error instanceof PretrainError) throw described;
    options.stats.skippedFiles++;
    recordProblem(options.stats, described.message);
  }
}

function openByteStream(file: string, range?: { start: number; end: number }): NodeJS.ReadableStream {
  if (range) return fs.createReadStream(file, { highWaterMark: READ_CHUNK_BYTES, start: range.start, end: range.end - 1 });
  // Sniffed before the stream exists: a stream created first and abandoned when the sniff throws
  // (file deleted mid-run) would emit an 'error' nobody listens to.
  const gzip = isGzip(file);
  const raw = fs.createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
  if (!gzip) return raw;
  const gunzip = zlib.createGunzip({ chunkSize: READ_CHUNK_BYTES });
  raw.on('error', (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}

/** The file's first `bytes` bytes (fewer if it is shorter). */
function readHead(file: string, bytes: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(bytes);
    return head.subarray(0, fs.readSync(fd, head, 0, bytes, 0));
  } finally {
    fs.closeSync(fd);
  }
}

export function isGzip(file: string): boolean {
  const magic = readHead(file, 2);
  return magic.length === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
}

function looksBinary(bytes: Buffer): boolean {
  return bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}

/** U+FFFD the decoder produced, not counting ones spelled out (EF BF BD) in the file itself. */
function countInvalid(text: string, bytes: Buffer): number {
  const literal = countOccurrences(bytes, Buffer.from([0xef, 0xbf, 0xbd]));
  return Math.max(0, countOccurrences(text, REPLACEMENT) - literal);
}

function countOccurrences(haystack: string | Buffer, needle: string | Buffer): number {
  let count = 0;
  for (let i = haystack.indexOf(needle as never); i >= 0; i = haystack.indexOf(needle as never, i + 1)) count++;
  return count;
}

function describeStreamError(error: unknown, file: string): Error {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) return inputError(`corrupt gzip data (${(error as Error).message})`, file, undefined, error);
  return describeFsError(error, file);
}

/** Incremental line splitting with a cap on line length. */
class LineSplitter {
  private pending = '';
  private lineNumber = 1;
  /** Discarding the rest of an over-long line (error mode with skipInvalid). */
  private discarding = false;
  private pendingWasSplit = false;

  constructor(private readonly file: string, private readonly options: LineReadOptions) {}

  push(text: string): LineBatch {
    const batch: LineBatch = { lines: [], lineNumbers: [] };
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      this.append(text.slice(start, newline), batch);
      this.finishLine(batch);
      start = newline + 1;
    }
    this.append(text.slice(start), batch);
    return batch;
  }

  end(text: string): LineBatch {
    const batch = this.push(text);
    if (this.pending.length > 0 || this.pendingWasSplit || this.discarding) this.finishLine(batch);
    return batch;
  }

  private append(piece: string, batch: LineBatch): void {
    if (this.discarding || piece.length === 0) return;
    this.pending += piece;
    while (this.pending.length > this.options.maxLineLength) {
      if (this.options.overlongLines === 'error') {
        const error = inputError(`line is longer than ${this.options.maxLineLength} characters`, this.file, this.lineNumber + (this.options.linesBefore?.() ?? 0));
        if (!this.options.skipInvalid) throw error;
        this.options.stats.skippedRecords++;
        recordProblem(this.options.stats, error.message);
        this.pending = '';
        this.discarding = true;
        return;
      }
      const cut = cutPoint(this.pending, this.options.maxLineLength);
      if (!this.pendingWasSplit) this.options.stats.longLinesSplit++;
      this.pendingWasSplit = true;
      batch.lines.push(this.pending.slice(0, cut));
      batch.lineNumbers.push(this.lineNumber);
      this.pending = this.pending.slice(cut);
    }
  }

  private finishLine(batch: LineBatch): void {
    if (!this.discarding) {
      const line = this.pending.endsWith('\r') ? this.pending.slice(0, -1) : this.pending;
      if (!(this.pendingWasSplit && line.length === 0)) {
        batch.lines.push(line);
        batch.lineNumbers.push(this.lineNumber);
      }
    }
    this.pending = '';
    this.pendingWasSplit = false;
    this.discarding = false;
    this.lineNumber++;
  }
}

/** Where to cut an over-long line: after the last whitespace in its second half, else at the limit (never inside a surrogate pair). */
function cutPoint(text: string, limit: number): number {
  const space = text.lastIndexOf(' ', limit - 1);
  let cut = space >= limit / 2 ? space + 1 : limit;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return cut;
}
