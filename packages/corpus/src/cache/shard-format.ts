import * as fs from 'fs';
import * as os from 'os';
import * as CRC32 from 'crc-32';
import { tempPathFor, writeFileAtomicSync } from '../io/atomic';
import { describeFsError, inputError } from '../io/errors';

/**
 * A shard is two files:
 * - `<name>.bin`: int32 little-endian token ids of every sentence, back to back;
 * - `<name>.idx`: magic `PTIDX001`, uint32 documentCount, uint32 sentenceCount, then uint32 arrays
 *   docFile[documentCount] (index into the manifest's files), docOrdinal[documentCount],
 *   docSentenceEnd[documentCount] (exclusive, cumulative), sentenceTokenEnd[sentenceCount].
 */
const INDEX_MAGIC = 'PTIDX001';
const FLUSH_TOKENS = 1 << 20;

export interface ShardCounts {
  documents: number;
  sentences: number;
  tokens: number;
  /** CRC-32 (as an unsigned number) of the `.bin` and `.idx` bytes, checked when the cache is read. */
  binCrc32: number;
  idxCrc32: number;
}

/** Unsigned CRC-32 of `bytes`, continuing from `previous` (0 to start). */
export function crc32(bytes: Uint8Array, previous = 0): number {
  return CRC32.buf(bytes, previous | 0) >>> 0;
}

export interface ShardIndex {
  docFile: Uint32Array;
  docOrdinal: Uint32Array;
  docSentenceEnd: Uint32Array;
  sentenceTokenEnd: Uint32Array;
}

function assertLittleEndian(): void {
  if (os.endianness() !== 'LE') throw new Error('token shards are little-endian; big-endian hosts are not supported');
}

/** Streams token ids to `<base>.bin` and keeps the (small) boundary index until `finish`. */
export class ShardWriter {
  private readonly tempBin: string;
  private readonly fd: number;
  private pending = new Int32Array(FLUSH_TOKENS);
  private pendingCount = 0;
  private tokens = 0;
  private binCrc = 0;
  private readonly docFile: number[] = [];
  private readonly docOrdinal: number[] = [];
  private readonly docSentenceEnd: number[] = [];
  private readonly sentenceTokenEnd: number[] = [];

  constructor(private readonly basePath: string) {
    assertLittleEndian();
    this.tempBin = tempPathFor(`${basePath}.bin`);
    this.fd = fs.openSync(this.tempBin, 'w');
  }

  addDocument(fileIndex: number, ordinal: number, sentences: ArrayLike<number>[]): void {
    for (const ids of sentences) this.addSentence(ids);
    this.endDocument(fileIndex, ordinal);
  }

  /** Appends one sentence to the document being written (streaming form of addDocument). */
  addSentence(ids: ArrayLike<number>): void {
    for (let i = 0; i < ids.length; ) {
      if (this.pendingCount === this.pending.length) this.flush();
      const count = Math.min(ids.length - i, this.pending.length - this.pendingCount);
      if (ids instanceof Int32Array) this.pending.set(ids.subarray(i, i + count), this.pendingCount);
      else for (let k = 0; k < count; k++) this.pending[this.pendingCount + k] = ids[i + k];
      this.pendingCount += count;
      i += count;
    }
    this.tokens += ids.length;
    this.sentenceTokenEnd.push(this.tokens);
  }

  /** Closes the document made of the sentences added since the previous one. */
  endDocument(fileIndex: number, ordinal: number): void {
    this.docFile.push(fileIndex);
    this.docOrdinal.push(ordinal);
    this.docSentenceEnd.push(this.sentenceTokenEnd.length);
  }

  /** Makes both files visible (index last, so a present index implies complete tokens). */
  finish(): ShardCounts {
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    fs.renameSync(this.tempBin, `${this.basePath}.bin`);
    const index = encodeIndex(this.docFile, this.docOrdinal, this.docSentenceEnd, this.sentenceTokenEnd);
    writeFileAtomicSync(`${this.basePath}.idx`, index);
    return { documents: this.docFile.length, sentences: this.sentenceTokenEnd.length, tokens: this.tokens, binCrc32: this.binCrc >>> 0, idxCrc32: crc32(index) };
  }

  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    fs.rmSync(this.tempBin, { force: true });
  }

  private flush(): void {
    if (this.pendingCount === 0) return;
    const bytes = Buffer.from(this.pending.buffer, 0, this.pendingCount * 4);
    this.binCrc = crc32(bytes, this.binCrc);
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(this.fd, bytes, written, bytes.length - written);
    this.pendingCount = 0;
  }
}

function encodeIndex(docFile: number[], docOrdinal: number[], docSentenceEnd: number[], sentenceTokenEnd: number[]): Buffer {
  const header = Buffer.alloc(16);
  header.write(INDEX_MAGIC, 0, 'latin1');
  header.writeUInt32LE(docFile.length, 8);
  header.writeUInt32LE(sentenceTokenEnd.length, 12);
  const arrays = [docFile, docOrdinal, docSentenceEnd, sentenceTokenEnd].map((a) => Buffer.from(Uint32Array.from(a).buffer));
  return Buffer.concat([header, ...arrays]);
}

/** What the manifest says a shard holds; readShardIndex checks the index against it. */
export interface ExpectedShard {
  documents: number;
  sentences: number;
  tokens: number;
  idxCrc32?: number;
  /** Number of source files in the manifest (docFile entries must index into them). */
  files: number;
}

export function readShardIndex(indexPath: string, expected?: ExpectedShard): ShardIndex {
  assertLittleEndian();
  const bytes = readFileNamed(indexPath);
  if (bytes.length < 16 || bytes.toString('latin1', 0, 8) !== INDEX_MAGIC) throw inputError('not a token shard index (bad magic)', indexPath);
  const documents = bytes.readUInt32LE(8);
  const sentences = bytes.readUInt32LE(12);
  if (bytes.length !== 16 + 4 * (3 * documents + sentences)) throw inputError('truncated token shard index', indexPath);
  if (expected?.idxCrc32 !== undefined && crc32(bytes) !== expected.idxCrc32) throw inputError(`checksum mismatch (CRC-32 ${crc32(bytes)}, manifest says ${expected.idxCrc32}): the index is damaged; rebuild the cache`, indexPath);
  // Copy into an aligned buffer: Buffer slices may start at any byte offset.
  const words = new Uint32Array(3 * documents + sentences);
  new Uint8Array(words.buffer).set(bytes.subarray(16));
  const index = {
    docFile: words.subarray(0, documents),
    docOrdinal: words.subarray(documents, 2 * documents),
    docSentenceEnd: words.subarray(2 * documents, 3 * documents),
    sentenceTokenEnd: words.subarray(3 * documents),
  };
  if (expected) checkIndex(index, expected, indexPath);
  return index;
}

/** Counts match the manifest and every boundary is in order, so document reads stay inside the shard. */
function checkIndex(index: ShardIndex, expected: ExpectedShard, indexPath: string): void {
  const { docFile, docSentenceEnd, sentenceTokenEnd } = index;
  const counts = `${docFile.length} documents / ${sentenceTokenEnd.length} sentences`;
  if (docFile.length !== expected.documents || sentenceTokenEnd.length !== expected.sentences) {
    throw inputError(`index holds ${counts}, the manifest says ${expected.documents} / ${expected.sentences}; rebuild the cache`, indexPath);
  }
  const badFile = docFile.findIndex((f) => f >= expected.files);
  if (badFile >= 0) throw inputError(`document ${badFile} names source file ${docFile[badFile]}, but the manifest lists ${expected.files}; rebuild the cache`, indexPath);
  if (!isRunningEnd(docSentenceEnd, expected.sentences)) throw inputError(`document boundaries are out of order or do not end at sentence ${expected.sentences}; rebuild the cache`, indexPath);
  if (!isRunningEnd(sentenceTokenEnd, expected.tokens)) throw inputError(`sentence boundaries are out of order or do not end at token ${expected.tokens}; rebuild the cache`, indexPath);
}

/** Non-decreasing, and the last value (0 when empty) is `end`. */
function isRunningEnd(ends: Uint32Array, end: number): boolean {
  for (let i = 1; i < ends.length; i++) if (ends[i] < ends[i - 1]) return false;
  return (ends.length === 0 ? 0 : ends[ends.length - 1]) === end;
}

function readFileNamed(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw describeFsError(error, file);
  }
}
