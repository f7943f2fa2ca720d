import * as fs from 'fs';
import * as os from 'os';
import { tempPathFor, writeFileAtomicSync } from '../io/atomic';
import { inputError } from '../io/errors';

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
    writeFileAtomicSync(`${this.basePath}.idx`, encodeIndex(this.docFile, this.docOrdinal, this.docSentenceEnd, this.sentenceTokenEnd));
    return { documents: this.docFile.length, sentences: this.sentenceTokenEnd.length, tokens: this.tokens };
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

export function readShardIndex(indexPath: string): ShardIndex {
  assertLittleEndian();
  const bytes = fs.readFileSync(indexPath);
  if (bytes.length < 16 || bytes.toString('latin1', 0, 8) !== INDEX_MAGIC) throw inputError('not a token shard index (bad magic)', indexPath);
  const documents = bytes.readUInt32LE(8);
  const sentences = bytes.readUInt32LE(12);
  if (bytes.length !== 16 + 4 * (3 * documents + sentences)) throw inputError('truncated token shard index', indexPath);
  // Copy into an aligned buffer: Buffer slices may start at any byte offset.
  const words = new Uint32Array(3 * documents + sentences);
  new Uint8Array(words.buffer).set(bytes.subarray(16));
  return {
    docFile: words.subarray(0, documents),
    docOrdinal: words.subarray(documents, 2 * documents),
    docSentenceEnd: words.subarray(2 * documents, 3 * documents),
    sentenceTokenEnd: words.subarray(3 * documents),
  };
}
