import * as fs from 'fs';
import * as path from 'path';
import type { TokenizedDocument } from '@pretrain/core';
import { WhitespaceTestTokenizer } from '../test-utils/whitespace-tokenizer';
import { tempDir } from '../test-utils/temp';
import { buildTokenCache } from './build';
import { exportTokenCache, readTokenExport, readTokenExportHeader } from './export';
import { TokenizedCorpus } from './tokenized-corpus';

const jekyll = path.join(__dirname, '../../../../fixtures/data/corpus/gutenberg/pg43.txt');
const factory = { module: path.join(__dirname, '../test-utils/whitespace-tokenizer.js'), exportName: 'fromTokenizerJSON' };

async function cacheOf(tokenizer = new WhitespaceTestTokenizer()): Promise<string> {
  const corpusDir = tempDir();
  fs.copyFileSync(jekyll, path.join(corpusDir, 'jekyll.txt'));
  fs.writeFileSync(path.join(corpusDir, 'small.txt'), Array.from({ length: 40 }, (_, d) => `Doc ${d} starts here. It has two sentences.`).join('\n\n'));
  const cacheDir = path.join(tempDir(), 'cache');
  await buildTokenCache({ paths: [corpusDir], cacheDir, tokenizer, tokenizerFactory: factory, layout: 'paragraphs', stripGutenberg: true, shardBytes: 4000, workers: 0 });
  return cacheDir;
}

async function cached(cacheDir: string, split: 'train' | 'validation', validationFraction: number): Promise<Int32Array[][]> {
  const corpus = TokenizedCorpus.open(cacheDir, { shuffle: false, validationFraction });
  const out: Int32Array[][] = [];
  for await (const document of corpus.documents({ split })) out.push(document.sentences.map((s) => Int32Array.from(s)));
  corpus.close();
  return out;
}

const sentencesOf = (documents: Iterable<TokenizedDocument>) => [...documents].map((d) => d.sentences.map((s) => Int32Array.from(s)));

describe('nanoGPT-style token export', () => {
  it('reads back exactly the token cache: every id, sentence and document boundary, per split', async () => {
    const cacheDir = await cacheOf();
    const out = path.join(tempDir(), 'export');
    const header = await exportTokenCache(cacheDir, out, { validationFraction: 0.2 });
    expect(header.dtype).toBe('uint16');
    for (const split of ['train', 'validation'] as const) {
      const expected = await cached(cacheDir, split, 0.2);
      expect(expected.length).toBeGreaterThan(3);
      expect(sentencesOf(readTokenExport(out, split))).toEqual(expected);
      const entry = header.splits[split]!;
      expect(entry.documents).toBe(expected.length);
      expect(entry.tokens).toBe(expected.flat().reduce((n, s) => n + s.length, 0));
    }
    // The token file is what numpy.memmap(dtype=uint16) reads: the ids back to back, little-endian.
    const bytes = fs.readFileSync(path.join(out, 'train.bin'));
    const first = (await cached(cacheDir, 'train', 0.2))[0][0];
    expect(Array.from({ length: first.length }, (_, i) => bytes.readUInt16LE(i * 2))).toEqual(Array.from(first));
    expect(fs.readdirSync(out).sort()).toEqual(['export.json', 'train.bin', 'train.doc_ends.bin', 'train.sentence_ends.bin', 'val.bin', 'val.doc_ends.bin', 'val.sentence_ends.bin']);
  });

  it('uses uint32 when the vocabulary does not fit in uint16', async () => {
    const cacheDir = await cacheOf(new WhitespaceTestTokenizer({ hashBuckets: 70000 }));
    const out = path.join(tempDir(), 'export');
    const header = await exportTokenCache(cacheDir, out);
    expect(header.dtype).toBe('uint32');
    expect(header.splits.validation).toBeUndefined();
    expect(sentencesOf(readTokenExport(out, 'train'))).toEqual(await cached(cacheDir, 'train', 0));
    expect(Math.max(...[...readTokenExport(out, 'train')].flatMap((d) => d.sentences.flatMap((s) => Array.from(s))))).toBeGreaterThan(0xffff);
  });

  it('refuses a non-empty folder unless forced, and then replaces it whole', async () => {
    const cacheDir = await cacheOf();
    const out = tempDir();
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    await expect(exportTokenCache(cacheDir, out)).rejects.toThrow(/folder is not empty.*--force/);
    expect(fs.readdirSync(out)).toEqual(['notes.txt']);
    await exportTokenCache(cacheDir, out, { force: true });
    expect(fs.existsSync(path.join(out, 'notes.txt'))).toBe(false);
    expect(readTokenExportHeader(out).splits.train!.documents).toBeGreaterThan(0);
    expect(fs.readdirSync(path.dirname(out)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('refuses a cache built with another tokenizer, and an export read with another tokenizer hash', async () => {
    const cacheDir = await cacheOf();
    await expect(exportTokenCache(cacheDir, path.join(tempDir(), 'x'), { tokenizerHash: 'other-hash' })).rejects.toThrow(/built with tokenizer .* not other-hash/);
    const out = path.join(tempDir(), 'export');
    await exportTokenCache(cacheDir, out);
    expect(() => [...readTokenExport(out, 'train', { tokenizerHash: 'other-hash' })]).toThrow(/export\.json: exported with tokenizer .* not other-hash/);
  });

  it('refuses a truncated token file, naming it and the sizes', async () => {
    const cacheDir = await cacheOf();
    const out = path.join(tempDir(), 'export');
    await exportTokenCache(cacheDir, out);
    const file = path.join(out, 'train.bin');
    fs.truncateSync(file, fs.statSync(file).size - 3);
    expect(() => [...readTokenExport(out, 'train')]).toThrow(new RegExp(`${file.replace(/[.]/g, '\\.')}: \\d+ bytes, but export\\.json says \\d+ tokens of 2 bytes .*truncated`));
  });
});
