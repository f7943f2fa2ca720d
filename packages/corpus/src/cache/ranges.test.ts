import * as fs from 'fs';
import * as path from 'path';
import { PretrainError, type TokenizedDocument } from '@pretrain/core';
import { TextCorpus } from '../text/text-corpus';
import type { DocumentReadOptions } from '../text/documents';
import { WhitespaceTestTokenizer } from '../test-utils/whitespace-tokenizer';
import { tempDir } from '../test-utils/temp';
import { findCutPoint } from '../io/cut-points';
import { buildTokenCache, planTasks, type Parallelism } from './build';
import { TokenizedCorpus } from './tokenized-corpus';
import { take } from '../test-utils/take';

const jekyll = path.join(__dirname, '../../../../fixtures/data/corpus/gutenberg/pg43.txt');
const factory = { module: path.join(__dirname, '../test-utils/whitespace-tokenizer.js'), exportName: 'fromTokenizerJSON' };
/** Small enough that every file but the tiny ones is read in many ranges. */
const SHARD_BYTES = 3000;

/**
 * Books with Gutenberg markers, a long header before the start marker (CRLF), license text after the end marker, invalid UTF-8, a mid-file
 * U+FEFF, over-long and too-short lines, many small documents, and tiny files that share a task.
 */
function textCorpus(): string {
  const dir = tempDir();
  const license = Array.from({ length: 80 }, (_, p) => `License paragraph ${p} is not book text. It must be dropped.`).join('\n\n');
  const book = `${fs.readFileSync(jekyll, 'utf8')}\n\n${license}\n`;
  fs.writeFileSync(path.join(dir, 'a-jekyll.txt'), book);
  const header = Array.from({ length: 60 }, (_, p) => `Header paragraph ${p} of the Project Gutenberg eBook, before the start marker.`).join('\n\n');
  const crlf = `${header}\n\n${book}`.replace('Utterson the lawyer', 'Utterson \uFEFFthe lawyer').replace(/\n/g, '\r\n');
  const withBadBytes = Buffer.concat([Buffer.from(crlf.slice(0, 60_000)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(crlf.slice(60_000)), Buffer.from([0xfe, 0x0a])]);
  fs.writeFileSync(path.join(dir, 'b-jekyll-crlf.txt'), withBadBytes);
  const documents = Array.from({ length: 300 }, (_, d) => {
    const lines = [`Document ${d} starts here. It has two sentences.`, 'ok', `Line three of ${d} is short.`];
    if (d % 50 === 7) lines.push(`${'very long words '.repeat(40)}end.`);
    return lines.join('\n');
  });
  fs.writeFileSync(path.join(dir, 'c-paragraphs.txt'), documents.join('\n\n'));
  for (let f = 0; f < 4; f++) fs.writeFileSync(path.join(dir, `d-tiny${f}.txt`), `Tiny file ${f}. Two sentences.\n\nA second paragraph.`);
  return dir;
}

function jsonlCorpus(): string {
  const dir = tempDir();
  const records = Array.from({ length: 400 }, (_, r) => JSON.stringify({ meta: { body: `Record ${r} says hello. Then it says goodbye.\nA second line ${r}.` } }));
  fs.writeFileSync(path.join(dir, 'records.jsonl'), `${records.join('\n')}\n`);
  return dir;
}

type ReadOptions = Partial<DocumentReadOptions>;

async function buildWith(corpusDir: string, readOptions: ReadOptions, workers: number, parallelism: Parallelism) {
  const cacheDir = path.join(tempDir(), 'cache');
  const tokenizer = new WhitespaceTestTokenizer();
  const result = await buildTokenCache({ paths: [corpusDir], cacheDir, tokenizer, tokenizerFactory: factory, workers, parallelism, shardBytes: SHARD_BYTES, ...readOptions });
  return { cacheDir, manifest: result.manifest };
}

function cacheFiles(cacheDir: string): Map<string, Buffer> {
  return new Map(fs.readdirSync(cacheDir).sort().map((name) => [name, fs.readFileSync(path.join(cacheDir, name))]));
}

/** The reference: reading every file whole with TextCorpus and tokenizing each sentence. */
async function wholeFileReading(corpusDir: string, readOptions: ReadOptions) {
  const tokenizer = new WhitespaceTestTokenizer();
  const corpus = new TextCorpus({ paths: [corpusDir], shuffle: false, ...readOptions });
  const stream = corpus.documents();
  const documents = await take(stream);
  const tokenized: TokenizedDocument[] = documents.map((d) => ({ id: d.id, sentences: d.sentences.map((s) => Int32Array.from(tokenizer.encode(s).ids)) }));
  return { tokenized, stats: stream.stats() };
}

const cases: [string, () => string, ReadOptions][] = [
  ['document layout (documents cut at 40 sentences across ranges)', textCorpus, { layout: 'document', stripGutenberg: true, maxSentencesPerDocument: 40, minLineLength: 3, maxLineLength: 300 }],
  ['paragraphs layout', textCorpus, { layout: 'paragraphs', stripGutenberg: true, minLineLength: 3, maxLineLength: 300 }],
  ['sentences layout, no Gutenberg stripping', textCorpus, { layout: 'sentences', maxLineLength: 300 }],
  ['JSONL', jsonlCorpus, { format: 'jsonl', textField: 'meta.body' }],
];

describe('token cache built from file ranges', () => {
  it('plans byte ranges for big files and groups small ones, independent of the worker count', () => {
    const dir = textCorpus();
    const files = fs.readdirSync(dir).sort().map((name) => ({ path: path.join(dir, name), relPath: name, size: fs.statSync(path.join(dir, name)).size, mtimeMs: 0 }));
    const tasks = planTasks(files, SHARD_BYTES);
    const jekyllRanges = tasks.filter((t) => t.pieces.some((p) => p.fileIndex === 0));
    expect(jekyllRanges.length).toBe(Math.ceil(files[0].size / SHARD_BYTES));
    expect(jekyllRanges.every((t) => t.pieces.length === 1)).toBe(true);
    expect(jekyllRanges[0].pieces[0].start).toBe(0);
    expect(jekyllRanges[jekyllRanges.length - 1].pieces[0].end).toBe(files[0].size);
    const tinyTask = tasks[tasks.length - 1];
    expect(tinyTask.pieces.map((p) => p.fileIndex)).toEqual([3, 4, 5, 6]);
  });

  it('cuts text after an empty line (LF or CRLF), JSONL after any newline, and never inside the Gutenberg header window', () => {
    const dir = tempDir();
    const file = path.join(dir, 'cuts.txt');
    fs.writeFileSync(file, 'one\ntwo\n\nthree\r\n\r\nfour\nfive');
    const size = fs.statSync(file).size;
    const text = { anyLineStart: false, headerLines: 0 };
    expect([0, 1, 9, 10, 11, 17, size].map((offset) => findCutPoint(file, size, offset, text))).toEqual([0, 9, 9, 18, 18, 18, size]);
    expect(findCutPoint(file, size, 1, { anyLineStart: true, headerLines: 0 })).toBe(4);
    expect(findCutPoint(file, size, 1, { anyLineStart: false, headerLines: 4 })).toBe(18);
    expect(findCutPoint(file, size, 1, { anyLineStart: false, headerLines: 5 })).toBe(18);
    expect(findCutPoint(file, size, 1, { anyLineStart: false, headerLines: 6 })).toBe(size);
  });

  it.each(cases)('%s: 1 and 2 workers, processes or threads, write byte-identical caches that hold exactly what reading each file whole gives', async (_name, makeCorpus, readOptions) => {
    const corpusDir = makeCorpus();
    const one = await buildWith(corpusDir, readOptions, 1, 'processes');
    const oneFiles = cacheFiles(one.cacheDir);
    const others: [number, Parallelism][] = [[2, 'processes'], [1, 'threads'], [2, 'threads']];
    for (const [workers, parallelism] of others) {
      const otherFiles = cacheFiles((await buildWith(corpusDir, readOptions, workers, parallelism)).cacheDir);
      expect([...otherFiles.keys()]).toEqual([...oneFiles.keys()]);
      for (const [name, bytes] of oneFiles) expect({ workers, parallelism, name, same: bytes.equals(otherFiles.get(name)!) }).toEqual({ workers, parallelism, name, same: true });
    }

    // Files were really read in several ranges.
    const biggest = Math.max(...one.manifest.files.map((f) => f.size));
    expect(one.manifest.shards.length).toBeGreaterThanOrEqual(Math.ceil(biggest / SHARD_BYTES) / 2);

    const reference = await wholeFileReading(corpusDir, readOptions);
    const cached = await take(TokenizedCorpus.open(one.cacheDir, { shuffle: false }).documents());
    expect(cached.map((d) => d.id)).toEqual(reference.tokenized.map((d) => d.id));
    expect(cached).toEqual(reference.tokenized);
    expect(one.manifest.stats).toEqual(reference.stats);
  });

  it.each(['processes', 'threads'] as const)('an error in a later range names the file and its absolute line (%s)', async (parallelism) => {
    const dir = tempDir();
    const lines = Array.from({ length: 500 }, (_, r) => JSON.stringify({ text: `Record ${r}.` }));
    lines[431] = '{"text": broken';
    fs.writeFileSync(path.join(dir, 'late-error.jsonl'), lines.join('\n'));
    const build = buildTokenCache({ paths: [dir], cacheDir: path.join(dir, 'cache'), tokenizer: new WhitespaceTestTokenizer(), tokenizerFactory: factory, format: 'jsonl', shardBytes: 1000, workers: 1, parallelism });
    await expect(build).rejects.toThrow(PretrainError);
    await expect(build).rejects.toThrow(`${path.join(dir, 'late-error.jsonl')}:432: invalid JSON`);
  });
});
