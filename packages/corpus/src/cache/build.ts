import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PretrainError, type TokenizerPlugin } from '@pretrain/core';
import { writeFileAtomicSync } from '../io/atomic';
import { resolveSources, type SourceFile } from '../io/files';
import { isGzip } from '../io/lines';
import type { ReadStats } from '../io/stats';
import { documentReadOptions, type DocumentReadOptions } from '../text/documents';
import { checkLocale } from '../text/segment';
import { defaultTokenizerFactory, type TokenizerFactory } from './tokenizer-factory';
import { ShardAssembler } from './assemble';
import { WorkerPool, type Parallelism } from './pool';
import { runShardTask, type FilePiece, type ShardTask } from './tokenize-task';
import type { WorkerInit, WorkerUsage } from './worker';

export type { Parallelism } from './pool';

export const MANIFEST_FILE = 'manifest.json';
const MANIFEST_FORMAT = 'pretrain-token-cache';
export const MANIFEST_VERSION = 2;

export interface TokenCacheOptions extends Partial<DocumentReadOptions> {
  /** Corpus files, directories and globs. */
  paths: string[];
  baseDir?: string;
  /** Where shards and manifest.json go. */
  cacheDir: string;
  /** Tokenizes in this thread (workers: 0); its hash() and toJSON() feed the manifest and the workers. */
  tokenizer: TokenizerPlugin;
  /** How workers rebuild the tokenizer from JSON. Default `@pretrain/tokenizer`'s `fromTokenizerJSON`. */
  tokenizerFactory?: TokenizerFactory;
  /** Workers; 0 tokenizes in the calling thread. Default: number of CPUs, at most 8. */
  workers?: number;
  /**
   * What a worker is. 'threads' (default): worker_threads in this process. 'processes': child
   * processes (child_process.fork), each with its own V8 heap, GC and memory caps; results are
   * copied over IPC instead of transferred. The cache is byte-identical either way. On the 2-core
   * bench machine processes were not faster (2 workers, 8 builds each: mean 2.86 s vs 2.84 s for
   * threads) and took more memory (1 GB build: 561 vs 442 MB), so threads stay the default.
   */
  parallelism?: Parallelism;
  /**
   * Old-generation heap cap per worker (thread or process), in MB. V8 otherwise lets a busy worker's heap grow
   * far beyond what it keeps alive (the live set is ~50 MB with a BERT tokenizer); the cap makes it
   * collect sooner. Raise it for very large tokenizers if workers run out of memory. Default 128.
   */
  workerHeapMb?: number;
  /**
   * Source bytes per task and shard: small files are grouped, bigger (uncompressed) ones are read
   * in ranges of this size, so work spreads evenly over the workers. Default: 1/64 of the corpus,
   * clamped to 256 KB..4 MB. The shards depend on it (and the corpus), never on `workers`.
   */
  shardBytes?: number;
  /** Rebuild even when the manifest says the cache is current. */
  force?: boolean;
}

export interface ManifestFile {
  path: string;
  relPath: string;
  size: number;
  mtimeMs: number;
}

export interface ManifestShard {
  name: string;
  files: number[];
  documents: number;
  sentences: number;
  tokens: number;
  /** CRC-32 of the shard's `.bin` and `.idx` (version 2 caches). */
  binCrc32?: number;
  idxCrc32?: number;
}

export interface CacheManifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  tokenizerHash: string;
  vocabSize: number;
  readOptions: DocumentReadOptions;
  files: ManifestFile[];
  shards: ManifestShard[];
  totals: { documents: number; sentences: number; tokens: number };
  stats: ReadStats;
}

export interface TokenCacheResult {
  /** False when an up-to-date cache was reused without tokenizing anything. */
  rebuilt: boolean;
  /** Why it was rebuilt (or "up to date"). */
  reason: string;
  manifest: CacheManifest;
  cacheDir: string;
  /**
   * Peak resident memory and CPU time of each worker process (parallelism 'processes' only; worker
   * threads are counted in this process's own numbers). The build's peak RSS is at most this
   * process's peak plus the sum of these.
   */
  workerProcesses?: WorkerUsage[];
}

/**
 * Tokenizes a corpus once into shards, or reuses them when the manifest shows the same tokenizer
 * hash, the same reading options and the same source files (path, size, mtime).
 */
export async function buildTokenCache(options: TokenCacheOptions): Promise<TokenCacheResult> {
  const readOptions = documentReadOptions(options);
  checkLocale(readOptions.locale);
  const cacheDir = path.resolve(options.baseDir ?? process.cwd(), options.cacheDir);
  const files = resolveSources(options.paths, options.baseDir);
  const workers = options.workers ?? Math.min(8, os.availableParallelism());
  const parallelism = options.parallelism ?? 'threads';
  if (parallelism !== 'processes' && parallelism !== 'threads') throw new PretrainError(`parallelism must be 'processes' or 'threads', got ${JSON.stringify(parallelism)}`);
  const existing = readManifestIfAny(cacheDir);
  const tasks = planTasks(files, options.shardBytes);
  const poolSize = Math.min(workers, tasks.length);
  // When a rebuild is certain before the tokenizer is hashed, the workers start loading now.
  let pool = poolSize > 0 && (options.force || !existing) ? startPool(options, poolSize, parallelism, readOptions) : undefined;
  try {
    const tokenizerHash = options.tokenizer.hash();
    const staleness = options.force ? 'rebuild forced' : whyStale(existing, cacheDir, tokenizerHash, readOptions, files);
    if (existing && staleness === undefined) return { rebuilt: false, reason: 'up to date', manifest: existing, cacheDir };

    fs.mkdirSync(cacheDir, { recursive: true });
    removeCache(cacheDir, existing);
    const assembler = new ShardAssembler(files, readOptions, cacheDir);
    let workerProcesses: WorkerUsage[] | undefined;
    if (poolSize > 0) {
      pool ??= startPool(options, poolSize, parallelism, readOptions);
      await pool.run(tasks, assembler);
      const usage = await pool.stop();
      pool = undefined;
      if (parallelism === 'processes') workerProcesses = usage;
    } else {
      for (const task of tasks) assembler.add(task, await runShardTask(task, readOptions, options.tokenizer));
    }
    const manifest = makeManifest(assembler, files, tokenizerHash, options.tokenizer.getVocabSize(), readOptions);
    writeFileAtomicSync(path.join(cacheDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
    return { rebuilt: true, reason: staleness ?? 'no cache yet', manifest, cacheDir, ...(workerProcesses ? { workerProcesses } : {}) };
  } finally {
    await pool?.stop();
  }
}

function startPool(options: TokenCacheOptions, size: number, parallelism: Parallelism, readOptions: DocumentReadOptions): WorkerPool {
  const init: WorkerInit = {
    kind: 'pretrain-corpus-shard-worker',
    tokenizerJSON: options.tokenizer.toJSON(),
    factory: options.tokenizerFactory ?? defaultTokenizerFactory,
    readOptions,
    workerHeapMb: options.workerHeapMb ?? 128,
  };
  return new WorkerPool(size, parallelism, init);
}

export function readManifestIfAny(cacheDir: string): CacheManifest | undefined {
  const file = path.join(cacheDir, MANIFEST_FILE);
  if (!fs.existsSync(file)) return undefined;
  try {
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as CacheManifest;
    return manifest.format === MANIFEST_FORMAT ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/** A reason to rebuild, or undefined when the cache matches. */
function whyStale(manifest: CacheManifest | undefined, cacheDir: string, tokenizerHash: string, readOptions: DocumentReadOptions, files: SourceFile[]): string | undefined {
  if (!manifest) return 'no cache yet';
  if (manifest.version !== MANIFEST_VERSION) return `cache format version ${manifest.version} is not ${MANIFEST_VERSION}`;
  if (manifest.tokenizerHash !== tokenizerHash) return 'tokenizer changed';
  if (JSON.stringify(manifest.readOptions) !== JSON.stringify(readOptions)) return 'reading options changed';
  if (manifest.files.length !== files.length) return 'source files added or removed';
  for (let i = 0; i < files.length; i++) {
    const [was, now] = [manifest.files[i], files[i]];
    if (was.path !== now.path) return `source files changed (${now.path})`;
    if (was.size !== now.size || was.mtimeMs !== now.mtimeMs) return `source file modified: ${now.path}`;
  }
  for (const shard of manifest.shards) {
    const bin = path.join(cacheDir, `${shard.name}.bin`);
    if (!fs.existsSync(bin) || fs.statSync(bin).size !== shard.tokens * 4 || !fs.existsSync(path.join(cacheDir, `${shard.name}.idx`))) return `shard ${shard.name} missing or truncated`;
  }
  return undefined;
}

/** Deletes the manifest first (a half-rebuilt cache must never look valid), then the shards. */
function removeCache(cacheDir: string, manifest: CacheManifest | undefined): void {
  fs.rmSync(path.join(cacheDir, MANIFEST_FILE), { force: true });
  for (const name of fs.readdirSync(cacheDir)) {
    if (/^shard-\d+\.(bin|idx)$/.test(name) || (manifest && /^\.shard-.*\.tmp$/.test(name))) fs.rmSync(path.join(cacheDir, name), { force: true });
  }
}

/**
 * Cuts the corpus into tasks of about `shardBytes` source bytes: consecutive small files share a
 * task, bigger uncompressed files are split into equal byte ranges (each worker moves a range's
 * ends to cut points; see findCutPoint). The plan depends only on the corpus, never on the number
 * of workers, so the cache is identical however it was built.
 */
export function planTasks(files: SourceFile[], shardBytes?: number): ShardTask[] {
  const total = files.reduce((sum, f) => sum + f.size, 0);
  const target = Math.max(1, shardBytes ?? Math.min(4 << 20, Math.max(256 << 10, Math.ceil(total / 64))));
  const tasks: ShardTask[] = [];
  let current: FilePiece[] = [];
  let bytes = 0;
  const flush = () => {
    if (current.length > 0) tasks.push({ pieces: current });
    current = [];
    bytes = 0;
  };
  files.forEach((file, fileIndex) => {
    if (file.size > target && !isGzip(file.path)) {
      flush();
      const ranges = Math.ceil(file.size / target);
      for (let r = 0; r < ranges; r++) {
        tasks.push({ pieces: [{ fileIndex, file, start: Math.floor((r * file.size) / ranges), end: Math.floor(((r + 1) * file.size) / ranges) }] });
      }
      return;
    }
    if (bytes > 0 && bytes + file.size > target) flush();
    current.push({ fileIndex, file, start: 0, end: file.size });
    bytes += file.size;
  });
  flush();
  return tasks;
}

function makeManifest(assembler: ShardAssembler, files: SourceFile[], tokenizerHash: string, vocabSize: number, readOptions: DocumentReadOptions): CacheManifest {
  const shards: ManifestShard[] = assembler.shards;
  const totals = shards.reduce((t, s) => ({ documents: t.documents + s.documents, sentences: t.sentences + s.sentences, tokens: t.tokens + s.tokens }), { documents: 0, sentences: 0, tokens: 0 });
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    tokenizerHash,
    vocabSize,
    readOptions,
    files: files.map(({ path: p, relPath, size, mtimeMs }) => ({ path: p, relPath, size, mtimeMs })),
    shards,
    totals,
    stats: assembler.stats,
  };
}

/** Builds (or reuses) the token cache of a TextCorpus, with the corpus's own paths and reading options. */
export function buildTokenCacheFor(corpus: { options: { paths: string[]; baseDir?: string }; readOptions: DocumentReadOptions }, options: Omit<TokenCacheOptions, 'paths' | keyof DocumentReadOptions>): Promise<TokenCacheResult> {
  return buildTokenCache({ ...corpus.readOptions, ...options, paths: corpus.options.paths, baseDir: options.baseDir ?? corpus.options.baseDir });
}
