import * as fs from 'fs';
import * as path from 'path';
import { PretrainError, type IteratorState, type ResumableStream, type TokenizedDocument } from '@pretrain/core';
import { checkValidationFraction, splitOf, type Split } from '../split';
import { checkState, epochRng } from '../stream-state';
import { MANIFEST_FILE, MANIFEST_VERSION, readManifestIfAny, type CacheManifest } from './build';
import { crc32, readShardIndex, type ShardIndex } from './shard-format';
import { describeFsError } from '../io/errors';

export interface TokenizedCorpusOptions {
  validationFraction?: number;
  seed?: number;
  /** Visit documents in a seeded random order (a full permutation). Default true. */
  shuffle?: boolean;
  /** Start over (reshuffled) after the last document. Default false. */
  repeat?: boolean;
  /** Fail unless the cache was built with this tokenizer hash. */
  tokenizerHash?: string;
  /** Every id must be below this (the tokenizer's vocabulary size); defaults to the manifest's. */
  vocabSize?: number;
}

const MAX_OPEN_SHARDS = 32;

/** Reads token shards written by buildTokenCache: random access by document, no re-tokenizing. */
export class TokenizedCorpus {
  readonly manifest: CacheManifest;
  private readonly shards: ShardIndex[];
  /** Global index of each shard's first document. */
  private readonly shardDocStart: number[];
  private readonly splitIndices = new Map<Split, Uint32Array>();
  private readonly openShards = new Map<number, number>();
  /** Shards whose `.bin` checksum and id range were verified (once, on first read). */
  private readonly verified = new Set<number>();
  private readonly vocabSize: number;

  private constructor(readonly cacheDir: string, manifest: CacheManifest, readonly options: TokenizedCorpusOptions) {
    this.manifest = manifest;
    this.vocabSize = options.vocabSize ?? manifest.vocabSize;
    const files = manifest.files.length;
    this.shards = manifest.shards.map((s) => {
      const binPath = path.join(cacheDir, `${s.name}.bin`);
      checkBinSize(binPath, s.tokens);
      return readShardIndex(path.join(cacheDir, `${s.name}.idx`), { ...s, files });
    });
    this.shardDocStart = [];
    let start = 0;
    for (const shard of this.shards) {
      this.shardDocStart.push(start);
      start += shard.docFile.length;
    }
  }

  static open(cacheDir: string, options: TokenizedCorpusOptions = {}): TokenizedCorpus {
    checkValidationFraction(options.validationFraction ?? 0);
    const manifest = readManifestIfAny(cacheDir);
    if (!manifest) throw new PretrainError(`${path.join(cacheDir, MANIFEST_FILE)}: no token cache here (build it with buildTokenCache)`, { file: path.join(cacheDir, MANIFEST_FILE) });
    checkManifest(manifest, path.join(cacheDir, MANIFEST_FILE));
    if (options.tokenizerHash !== undefined && manifest.tokenizerHash !== options.tokenizerHash) {
      throw new PretrainError(`${cacheDir}: token cache was built with tokenizer ${manifest.tokenizerHash}, not ${options.tokenizerHash}; rebuild it`, { file: cacheDir });
    }
    return new TokenizedCorpus(cacheDir, manifest, options);
  }

  get documentCount(): number {
    return this.manifest.totals.documents;
  }

  /** Global indices of the documents in a split, in cache order. */
  indicesOf(split: Split): Uint32Array {
    let indices = this.splitIndices.get(split);
    if (!indices) {
      const fraction = this.options.validationFraction ?? 0;
      const picked: number[] = [];
      for (let g = 0; g < this.documentCount; g++) if (splitOf(this.documentId(g), fraction) === split) picked.push(g);
      indices = Uint32Array.from(picked);
      this.splitIndices.set(split, indices);
    }
    return indices;
  }

  documentId(globalIndex: number): string {
    const [shard, local] = this.locate(globalIndex);
    const index = this.shards[shard];
    return `${this.manifest.files[index.docFile[local]].relPath}:${index.docOrdinal[local]}`;
  }

  /** One document's sentences (views on one freshly read buffer). */
  readDocument(globalIndex: number): TokenizedDocument {
    const [shard, local] = this.locate(globalIndex);
    const index = this.shards[shard];
    const firstSentence = local === 0 ? 0 : index.docSentenceEnd[local - 1];
    const endSentence = index.docSentenceEnd[local];
    const firstToken = firstSentence === 0 ? 0 : index.sentenceTokenEnd[firstSentence - 1];
    const endToken = endSentence === 0 ? 0 : index.sentenceTokenEnd[endSentence - 1];
    const ids = new Int32Array(endToken - firstToken);
    const bytes = new Uint8Array(ids.buffer);
    const fd = this.shardFd(shard);
    let read = 0;
    while (read < bytes.length) {
      const n = fs.readSync(fd, bytes, read, bytes.length - read, firstToken * 4 + read);
      if (n === 0) throw new PretrainError(`${this.binPath(shard)}: token shard is truncated; rebuild the cache`, { file: this.binPath(shard) });
      read += n;
    }
    const badId = ids.findIndex((id) => id < 0 || id >= this.vocabSize);
    if (badId >= 0) throw this.damaged(shard, `token id ${ids[badId]} at token ${firstToken + badId} is outside the vocabulary (0..${this.vocabSize - 1})`);
    const sentences: Int32Array[] = [];
    let start = 0;
    for (let s = firstSentence; s < endSentence; s++) {
      const end = index.sentenceTokenEnd[s] - firstToken;
      sentences.push(ids.subarray(start, end));
      start = end;
    }
    return { id: this.documentId(globalIndex), sentences };
  }

  documents(options: { split?: Split; seed?: number } = {}): TokenizedDocumentStream {
    return new TokenizedDocumentStream(this, options.split ?? 'train', options.seed ?? this.options.seed ?? 0);
  }

  close(): void {
    for (const fd of this.openShards.values()) fs.closeSync(fd);
    this.openShards.clear();
  }

  private locate(globalIndex: number): [number, number] {
    if (!(globalIndex >= 0 && globalIndex < this.documentCount)) throw new RangeError(`document index ${globalIndex} out of range [0, ${this.documentCount})`);
    let lo = 0;
    let hi = this.shardDocStart.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.shardDocStart[mid] <= globalIndex) lo = mid;
      else hi = mid - 1;
    }
    return [lo, globalIndex - this.shardDocStart[lo]];
  }

  private binPath(shard: number): string {
    return path.join(this.cacheDir, `${this.manifest.shards[shard].name}.bin`);
  }

  private shardFd(shard: number): number {
    let fd = this.openShards.get(shard);
    if (fd !== undefined) {
      this.openShards.delete(shard);
      this.openShards.set(shard, fd);
      return fd;
    }
    if (this.openShards.size >= MAX_OPEN_SHARDS) {
      const [oldest, oldFd] = this.openShards.entries().next().value as [number, number];
      fs.closeSync(oldFd);
      this.openShards.delete(oldest);
    }
    fd = fs.openSync(this.binPath(shard), 'r');
    this.openShards.set(shard, fd);
    if (!this.verified.has(shard)) {
      this.verifyShard(shard, fd);
      this.verified.add(shard);
    }
    return fd;
  }

  /** One sequential pass over the shard's ids: size, CRC-32 against the manifest, and the id range. */
  private verifyShard(shard: number, fd: number): void {
    const expected = this.manifest.shards[shard];
    checkBinSize(this.binPath(shard), expected.tokens);
    const chunk = new Int32Array(1 << 16);
    const bytes = new Uint8Array(chunk.buffer);
    let crc = 0;
    for (let offset = 0; offset < expected.tokens * 4; ) {
      const n = fs.readSync(fd, bytes, 0, Math.min(bytes.length, expected.tokens * 4 - offset), offset);
      if (n === 0) throw this.damaged(shard, 'token shard is truncated');
      crc = crc32(bytes.subarray(0, n), crc);
      const badId = chunk.subarray(0, n >> 2).findIndex((id) => id < 0 || id >= this.vocabSize);
      if (badId >= 0) throw this.damaged(shard, `token id ${chunk[badId]} at token ${offset / 4 + badId} is outside the vocabulary (0..${this.vocabSize - 1})`);
      offset += n;
    }
    if (crc !== expected.binCrc32) throw this.damaged(shard, `checksum mismatch (CRC-32 ${crc}, manifest says ${expected.binCrc32}): the ids are damaged`);
  }

  private damaged(shard: number, what: string): PretrainError {
    const file = this.binPath(shard);
    return new PretrainError(`${file}: ${what}; rebuild the cache (pretrain corpus prepare)`, { file });
  }
}

/** The `.bin` holds exactly the manifest's token count (a lengthened shard is as wrong as a truncated one). */
function checkBinSize(binPath: string, tokens: number): void {
  let size: number;
  try {
    size = fs.statSync(binPath).size;
  } catch (error) {
    throw describeFsError(error, binPath);
  }
  if (size !== tokens * 4) throw new PretrainError(`${binPath}: token shard is ${size} bytes, the manifest says ${tokens} tokens (${tokens * 4} bytes); rebuild the cache (pretrain corpus prepare)`, { file: binPath });
}

const SHARD_NAME = /^shard-\d{5,}$/;

/** The manifest's shape, before any of its numbers size an allocation or name a file. */
function checkManifest(manifest: CacheManifest, file: string): void {
  const fail = (field: string, what: string): never => {
    throw new PretrainError(`${file}: ${field} ${what}; rebuild the cache (pretrain corpus prepare)`, { file, path: field });
  };
  const count = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
  if (manifest.version !== MANIFEST_VERSION) fail('version', `is ${String(manifest.version)}, this Pretrain reads version ${MANIFEST_VERSION} (with per-shard checksums)`);
  if (!Array.isArray(manifest.files) || manifest.files.some((f) => typeof f?.relPath !== 'string')) fail('files', 'must list the source files (relPath)');
  if (!Array.isArray(manifest.shards)) fail('shards', 'must be a list');
  if (!(Number.isSafeInteger(manifest.vocabSize) && manifest.vocabSize > 0)) fail('vocabSize', 'must be a positive integer');
  manifest.shards.forEach((shard, i) => {
    if (typeof shard?.name !== 'string' || !SHARD_NAME.test(shard.name)) fail(`shards[${i}].name`, 'must be shard-NNNNN');
    for (const key of ['documents', 'sentences', 'tokens'] as const) if (!count(shard[key])) fail(`shards[${i}].${key}`, 'must be a non-negative integer');
    for (const key of ['binCrc32', 'idxCrc32'] as const) if (!(count(shard[key]) && shard[key]! <= 0xffffffff)) fail(`shards[${i}].${key}`, 'must be a CRC-32');
  });
  const documents = manifest.shards.reduce((sum, s) => sum + s.documents, 0);
  if (manifest.totals?.documents !== documents) fail('totals.documents', `is ${String(manifest.totals?.documents)} but the shards hold ${documents} documents`);
}

interface TokenStreamState extends IteratorState {
  kind: 'token-cache';
  version: 1;
  seed: number;
  split: Split;
  tokenizerHash: string;
  documents: number;
  epoch: number;
  /** Documents of this epoch already yielded. */
  position: number;
}

/** A split of a token cache in a seeded order; the state is just (epoch, position). */
export class TokenizedDocumentStream implements ResumableStream<TokenizedDocument> {
  private state: TokenStreamState;
  private cachedOrder: { epoch: number; order: Uint32Array } | undefined;

  constructor(private readonly corpus: TokenizedCorpus, split: Split, seed: number) {
    this.state = { kind: 'token-cache', version: 1, seed, split, tokenizerHash: corpus.manifest.tokenizerHash, documents: corpus.documentCount, epoch: 0, position: 0 };
  }

  getState(): IteratorState {
    return { ...this.state };
  }

  setState(state: IteratorState): void {
    const { kind, version, seed, split, tokenizerHash, documents } = this.state;
    checkState(state, { kind, version, seed, split, tokenizerHash, documents }, 'token cache');
    this.state = { ...(state as TokenStreamState) };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<TokenizedDocument> {
    for (;;) {
      const order = this.orderFor(this.state.epoch);
      while (this.state.position < order.length) {
        const document = this.corpus.readDocument(order[this.state.position]);
        this.state.position++;
        yield document;
      }
      if (!this.corpus.options.repeat || order.length === 0) return;
      this.state.epoch++;
      this.state.position = 0;
    }
  }

  private orderFor(epoch: number): Uint32Array {
    if (this.cachedOrder?.epoch === epoch) return this.cachedOrder.order;
    const order = Uint32Array.from(this.corpus.indicesOf(this.state.split));
    if (this.corpus.options.shuffle ?? true) {
      const rng = epochRng(this.state.seed, epoch);
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }
    this.cachedOrder = { epoch, order };
    return order;
  }
}
