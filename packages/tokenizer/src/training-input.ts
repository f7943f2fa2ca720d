/**
 * Streaming training input and parallel word counting. Files are read in 1 MB pieces and split
 * into lines that keep their endings (as HF's trainer reads them); batches of lines go to a pool
 * of worker threads, so memory holds only the word counts, never the corpus.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { PretrainError } from '@pretrain/core/lite';
import { countWordsInto, CountingPipeline, finishCounts, mergeCounts } from './word-counts';

/**
 * File paths (an array of strings always means files), or any iterable / async iterable of texts
 * (each text is one line or one document).
 */
export type TrainingInput = string[] | Iterable<string> | AsyncIterable<string>;

const BATCH_CHARS = 1 << 20;

/** Lines of a file, each with its `\n` (or `\r\n`) ending kept. */
export async function* readLinesWithEndings(filePath: string): AsyncGenerator<string> {
  try {
    await fs.promises.access(filePath, fs.constants.R_OK);
  } catch (error) {
    throw new PretrainError(`cannot read training file ${filePath}: ${(error as Error).message}`, { file: filePath });
  }
  const stream = fs.createReadStream(filePath, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let pending = '';
  for await (const chunk of stream) {
    pending += chunk as string;
    let start = 0;
    for (let nl = pending.indexOf('\n', start); nl >= 0; nl = pending.indexOf('\n', start)) {
      yield pending.slice(start, nl + 1);
      start = nl + 1;
    }
    pending = pending.slice(start);
  }
  if (pending.length > 0) yield pending;
}

async function* textsOf(input: TrainingInput): AsyncGenerator<string> {
  if (Array.isArray(input)) {
    for (const file of input) yield* readLinesWithEndings(file);
    return;
  }
  for await (const text of input as AsyncIterable<string>) yield text;
}

async function* batchesOf(input: TrainingInput): AsyncGenerator<string[]> {
  let batch: string[] = [];
  let chars = 0;
  for await (const text of textsOf(input)) {
    batch.push(text);
    chars += text.length;
    if (chars >= BATCH_CHARS) {
      yield batch;
      batch = [];
      chars = 0;
    }
  }
  if (batch.length > 0) yield batch;
}

export interface CountOptions {
  /** Worker threads for counting (default: number of CPU cores, at most 8); 1 counts in-process. */
  threads?: number;
}

/** Word counts of the whole input, in the model's alphabet. */
export async function countWords(input: TrainingInput, pipeline: CountingPipeline, options: CountOptions = {}): Promise<Map<string, number>> {
  const threads = Math.max(1, Math.min(options.threads ?? Math.min(os.cpus().length, 8), 16));
  const counts = new Map<string, number>();
  if (threads === 1) {
    for await (const batch of batchesOf(input)) countWordsInto(counts, batch, pipeline);
  } else {
    await countWithWorkers(input, pipeline, threads, counts);
  }
  return finishCounts(counts, pipeline);
}

interface PoolWorker {
  worker: Worker;
  inFlight: number;
  waiters: (() => void)[];
}

async function countWithWorkers(input: TrainingInput, pipeline: CountingPipeline, threads: number, counts: Map<string, number>): Promise<void> {
  const data = { normalizer: pipeline.normalizer?.toJSON() ?? null, preTokenizer: pipeline.preTokenizer?.toJSON() ?? null };
  const pool: PoolWorker[] = Array.from({ length: threads }, () => ({ worker: startCountWorker(data), inFlight: 0, waiters: [] }));
  let failure: Error | null = null;
  for (const p of pool) {
    p.worker.on('error', (error) => (failure ??= error));
    p.worker.on('message', (message: { done?: number }) => {
      if (message.done !== undefined) {
        p.inFlight--;
        p.waiters.shift()?.();
      }
    });
  }
  try {
    let next = 0;
    for await (const batch of batchesOf(input)) {
      if (failure) throw failure;
      const p = pool[next++ % pool.length];
      if (p.inFlight >= 2) await new Promise<void>((resolve) => p.waiters.push(resolve));
      p.inFlight++;
      p.worker.postMessage({ texts: batch });
    }
    const results = await Promise.all(pool.map((p) => finishWorker(p.worker)));
    if (failure) throw failure;
    for (const r of results) mergeCounts(counts, r);
  } finally {
    await Promise.all(pool.map((p) => p.worker.terminate()));
  }
}

function finishWorker(worker: Worker): Promise<[string, number][]> {
  return new Promise((resolve, reject) => {
    worker.on('message', (message: { counts?: [string, number][] }) => {
      if (message.counts) resolve(message.counts);
    });
    worker.once('error', reject);
    worker.postMessage({ finish: true });
  });
}

/** Starts the counting worker: the compiled file in dist, or (running from TypeScript sources) an esbuild bundle. */
function startCountWorker(data: unknown): Worker {
  const compiled = path.join(__dirname, 'count-worker.js');
  if (fs.existsSync(compiled)) return new Worker(compiled, { workerData: data });
  return new Worker(bundledWorkerSource(), { eval: true, workerData: data });
}

let bundledSource: string | null = null;

function bundledWorkerSource(): string {
  if (bundledSource) return bundledSource;
  // Development only (tests run the TypeScript sources): esbuild is a root dev dependency.
  const esbuild = require('esbuild');
  const result = esbuild.buildSync({ entryPoints: [path.join(__dirname, 'count-worker.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'silent' });
  bundledSource = result.outputFiles[0].text as string;
  return bundledSource;
}
