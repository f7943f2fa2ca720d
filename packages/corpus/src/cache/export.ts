/**
 * A token cache as nanoGPT-style flat token files, for training elsewhere (PyTorch, numpy.memmap):
 * per split `<split>.bin` holds every token id back to back (little-endian uint16, or uint32 when
 * the vocabulary does not fit), `<split>.sentence_ends.bin` the token offset where each sentence ends
 * and `<split>.doc_ends.bin` the sentence count at the end of each document (little-endian uint64;
 * a document's token end is `sentence_ends[doc_ends[d] - 1]`), and `export.json` says so. Nothing is
 * inserted between documents: the boundary files keep the cache's structure exactly, so the export
 * reads back to the same documents (readTokenExport).
 */
import * as fs from 'fs';
import * as path from 'path';
import { PretrainError, readJsonFile, writeFolderAtomic, writeJsonAtomic, type TokenizedDocument } from '@pretrain/core';
import type { Split } from '../split';
import { TokenizedCorpus } from './tokenized-corpus';

export const TOKEN_EXPORT_HEADER = 'export.json';
export const TOKEN_EXPORT_FORMAT = 'pretrain-nanogpt';
const TOKEN_EXPORT_VERSION = 1;

export type TokenDtype = 'uint16' | 'uint32';

export interface TokenExportSplit {
  /** Flat token ids. */
  file: string;
  /** uint64: one past the index of each document's last sentence (sentences, not tokens: empty sentences stay put). */
  documentEnds: string;
  /** uint64 end offset (in tokens) of each sentence in `file`. */
  sentenceEnds: string;
  documents: number;
  sentences: number;
  tokens: number;
}

export interface TokenExportHeader {
  format: typeof TOKEN_EXPORT_FORMAT;
  version: number;
  /** numpy dtype of the token files: `np.memmap(file, dtype=np.uint16, mode='r')`. */
  dtype: TokenDtype;
  byteOrder: 'little';
  boundaryDtype: 'uint64';
  vocabSize: number;
  /** Hash of the tokenizer the ids come from (TokenizerPlugin.hash()). */
  tokenizerHash: string;
  validationFraction: number;
  splits: Partial<Record<Split, TokenExportSplit>>;
}

export interface TokenExportOptions {
  /** Documents whose id hashes below this go to `val` (the cache's own split rule). Default 0. */
  validationFraction?: number;
  /** Refuse unless the cache was built with this tokenizer. */
  tokenizerHash?: string;
  /** Replace a non-empty output folder. */
  force?: boolean;
}

const SPLIT_FILES: Record<Split, string> = { train: 'train', validation: 'val' };
const BUFFER_BYTES = 1 << 20;

/** Appends typed values to a file through one reused buffer. */
class BinaryWriter {
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'w');
  }

  private room(bytes: number): void {
    if (this.used + bytes > this.buffer.length) this.flush();
  }

  writeIds(ids: Int32Array, dtype: TokenDtype): void {
    const width = dtype === 'uint16' ? 2 : 4;
    for (let i = 0; i < ids.length; i++) {
      this.room(width);
      if (width === 2) this.buffer.writeUInt16LE(ids[i], this.used);
      else this.buffer.writeUInt32LE(ids[i], this.used);
      this.used += width;
    }
  }

  writeOffset(value: number): void {
    this.room(8);
    this.buffer.writeBigUInt64LE(BigInt(value), this.used);
    this.used += 8;
  }

  flush(): void {
    let written = 0;
    while (written < this.used) written += fs.writeSync(this.fd, this.buffer, written, this.used - written);
    this.used = 0;
  }

  close(): void {
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }
}

export function tokenDtypeFor(vocabSize: number): TokenDtype {
  return vocabSize <= 0x10000 ? 'uint16' : 'uint32';
}

async function exportSplit(corpus: TokenizedCorpus, split: Split, dir: string, dtype: TokenDtype): Promise<TokenExportSplit | undefined> {
  const base = SPLIT_FILES[split];
  const names = { file: `${base}.bin`, documentEnds: `${base}.doc_ends.bin`, sentenceEnds: `${base}.sentence_ends.bin` };
  const writers = { ids: new BinaryWriter(path.join(dir, names.file)), docs: new BinaryWriter(path.join(dir, names.documentEnds)), sentences: new BinaryWriter(path.join(dir, names.sentenceEnds)) };
  const counts = { documents: 0, sentences: 0, tokens: 0 };
  try {
    for await (const document of corpus.documents({ split })) {
      for (const sentence of document.sentences) {
        writers.ids.writeIds(sentence, dtype);
        counts.tokens += sentence.length;
        counts.sentences += 1;
        writers.sentences.writeOffset(counts.tokens);
      }
      counts.documents += 1;
      writers.docs.writeOffset(counts.sentences);
    }
  } finally {
    for (const writer of Object.values(writers)) writer.close();
  }
  if (counts.documents === 0) {
    for (const name of Object.values(names)) fs.rmSync(path.join(dir, name));
    return undefined;
  }
  return { ...names, ...counts };
}

/** Writes the cache at `cacheDir` as a nanoGPT-style export into `outDir` (atomically: all or nothing). */
export async function exportTokenCache(cacheDir: string, outDir: string, options: TokenExportOptions = {}): Promise<TokenExportHeader> {
  const validationFraction = options.validationFraction ?? 0;
  const corpus = TokenizedCorpus.open(cacheDir, { validationFraction, tokenizerHash: options.tokenizerHash, shuffle: false });
  const { tokenizerHash, vocabSize } = corpus.manifest;
  const dtype = tokenDtypeFor(vocabSize);
  const header: TokenExportHeader = { format: TOKEN_EXPORT_FORMAT, version: TOKEN_EXPORT_VERSION, dtype, byteOrder: 'little', boundaryDtype: 'uint64', vocabSize, tokenizerHash, validationFraction, splits: {} };
  try {
    await writeFolderAtomic(
      outDir,
      async (temp) => {
        for (const split of ['train', 'validation'] as Split[]) {
          const written = await exportSplit(corpus, split, temp, dtype);
          if (written) header.splits[split] = written;
        }
        writeJsonAtomic(path.join(temp, TOKEN_EXPORT_HEADER), header);
      },
      { force: options.force },
    );
  } finally {
    corpus.close();
  }
  return header;
}

/** Reads and checks `export.json` (format, version, dtype). */
export function readTokenExportHeader(dir: string, expectedTokenizerHash?: string): TokenExportHeader {
  const file = path.join(dir, TOKEN_EXPORT_HEADER);
  if (!fs.existsSync(file)) throw new PretrainError(`${file}: not found (is ${dir} a token export?)`, { file });
  const header = readJsonFile(file) as TokenExportHeader;
  if (header.format !== TOKEN_EXPORT_FORMAT || header.version !== TOKEN_EXPORT_VERSION) {
    throw new PretrainError(`${file}: format "${String(header.format)}" version ${String(header.version)} is not ${TOKEN_EXPORT_FORMAT} version ${TOKEN_EXPORT_VERSION}`, { file, path: 'format' });
  }
  if (header.dtype !== 'uint16' && header.dtype !== 'uint32') throw new PretrainError(`${file}: dtype must be uint16 or uint32, got ${String(header.dtype)}`, { file, path: 'dtype' });
  if (expectedTokenizerHash !== undefined && header.tokenizerHash !== expectedTokenizerHash) {
    throw new PretrainError(`${file}: exported with tokenizer ${header.tokenizerHash}, not ${expectedTokenizerHash}; export again with this tokenizer`, { file, path: 'tokenizerHash' });
  }
  return header;
}

/** A whole file of `count` values of `width` bytes; a shorter or longer file is an error naming it. */
function readExact(file: string, count: number, width: number, what: string): Buffer {
  if (!fs.existsSync(file)) throw new PretrainError(`${file}: not found (listed in ${TOKEN_EXPORT_HEADER})`, { file });
  const size = fs.statSync(file).size;
  if (size !== count * width) {
    throw new PretrainError(`${file}: ${size} bytes, but ${TOKEN_EXPORT_HEADER} says ${count} ${what} of ${width} bytes (${count * width} bytes); the file is truncated or not from this export`, { file });
  }
  return fs.readFileSync(file);
}

/**
 * The documents of one split of an export, in export order, each sentence a view on the token file
 * (the whole split is read into memory: this is for checking exports, not for training on them).
 */
export function* readTokenExport(dir: string, split: Split, options: { tokenizerHash?: string } = {}): Generator<TokenizedDocument> {
  const header = readTokenExportHeader(dir, options.tokenizerHash);
  const entry = header.splits[split];
  if (!entry) return;
  const width = header.dtype === 'uint16' ? 2 : 4;
  const ids = readExact(path.join(dir, entry.file), entry.tokens, width, 'tokens');
  const docEnds = readExact(path.join(dir, entry.documentEnds), entry.documents, 8, 'document ends');
  const sentenceEnds = readExact(path.join(dir, entry.sentenceEnds), entry.sentences, 8, 'sentence ends');
  const aligned = new Uint8Array(ids);
  const tokens = Int32Array.from(header.dtype === 'uint16' ? new Uint16Array(aligned.buffer, 0, entry.tokens) : new Uint32Array(aligned.buffer, 0, entry.tokens));
  let sentence = 0;
  let start = 0;
  for (let d = 0; d < entry.documents; d++) {
    const lastSentence = Number(docEnds.readBigUInt64LE(d * 8));
    if (lastSentence < sentence || lastSentence > entry.sentences) throw new PretrainError(`${path.join(dir, entry.documentEnds)}: document ${d} ends at sentence ${lastSentence}, outside [${sentence}, ${entry.sentences}]`, { file: path.join(dir, entry.documentEnds) });
    const sentences: Int32Array[] = [];
    for (; sentence < lastSentence; sentence++) {
      const end = Number(sentenceEnds.readBigUInt64LE(sentence * 8));
      if (end < start || end > entry.tokens) throw new PretrainError(`${path.join(dir, entry.sentenceEnds)}: sentence ${sentence} ends at token ${end}, outside [${start}, ${entry.tokens}]`, { file: path.join(dir, entry.sentenceEnds) });
      sentences.push(tokens.subarray(start, end));
      start = end;
    }
    yield { id: `${split}:${d}`, sentences };
  }
}
