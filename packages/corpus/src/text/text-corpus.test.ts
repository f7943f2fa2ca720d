import * as fs from 'fs';
import * as path from 'path';
import type { TextDocument } from '@pretrain/core';
import { TextCorpus } from './text-corpus';
import { take } from '../test-utils/take';
import { tempDir } from '../test-utils/temp';

const fixtures = path.join(__dirname, '../../../../fixtures/data/corpus');
const jekyll = path.join(fixtures, 'gutenberg/pg43.txt');

describe('TextCorpus on a real Gutenberg book', () => {
  it('strips the Project Gutenberg markers and splits wrapped paragraphs into sentences', async () => {
    const corpus = new TextCorpus({ paths: [jekyll], layout: 'document', stripGutenberg: true, shuffle: false });
    const stream = corpus.documents();
    const docs = await take(stream);
    expect(docs).toHaveLength(1);
    const sentences = docs[0].sentences;
    expect(sentences.some((s) => /PROJECT GUTENBERG/i.test(s))).toBe(false);
    expect(sentences[0]).toBe('The Strange Case Of Dr. Jekyll And Mr. Hyde');
    // Sentence boundaries come from Intl.Segmenter over whole paragraphs, not from line ends:
    // this sentence is wrapped over three lines in the file.
    expect(sentences).toContain(
      'Mr. Utterson the lawyer was a man of a rugged countenance that was never lighted by a smile; cold, scanty and embarrassed in discourse; backward in sentiment; lean, long, dusty, dreary and yet somehow lovable.',
    );
    expect(sentences.every((s) => !s.includes('\n') && s.trim() === s && s.length > 0)).toBe(true);
    const words = sentences.join(' ').split(/\s+/).length;
    expect(words).toBeGreaterThan(24000);
    expect(words / sentences.length).toBeGreaterThan(8);
    expect(words / sentences.length).toBeLessThan(40);
    expect(stream.stats().gutenbergStripped).toBe(1);
  });

  it('keeps a book without markers whole and drops short lines (chapter titles) with minLineLength', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'book.txt');
    const header = 'The Project Gutenberg eBook of Test\n\nThis eBook is for the use of anyone anywhere.\n\n*** START OF THE PROJECT GUTENBERG EBOOK TEST ***\n';
    const footer = '*** END OF THE PROJECT GUTENBERG EBOOK TEST ***\n\nSection 1. General Terms of Use and Redistributing Project Gutenberg electronic works\n';
    fs.writeFileSync(file, `${header}\nCHAPTER I.\n\nIt was a dark night. The rain fell\nhard on the roofs.\n\nII\n\nThen morning came.\n${footer}`);
    const docs = await take(new TextCorpus({ paths: [file], layout: 'document', stripGutenberg: true, minLineLength: 5, shuffle: false }).documents());
    expect(docs.map((d) => d.sentences)).toEqual([['CHAPTER I.', 'It was a dark night.', 'The rain fell hard on the roofs.', 'Then morning came.']]);
    const unstripped = await take(new TextCorpus({ paths: [file], layout: 'document', shuffle: false }).documents());
    expect(unstripped[0].sentences.join(' ')).toContain('Section 1. General Terms');
  });
});

describe('layouts', () => {
  const text = 'First doc line one. Still line one!\nLine two\n\n\nSecond doc.\n';

  it('paragraphs: blank lines separate documents, each line is segmented', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'a.txt'), text);
    const docs = await take(new TextCorpus({ paths: [dir], layout: 'paragraphs', shuffle: false }).documents());
    expect(docs).toEqual([
      { id: 'a.txt:0', sentences: ['First doc line one.', 'Still line one!', 'Line two'] },
      { id: 'a.txt:1', sentences: ['Second doc.'] },
    ]);
  });

  it('sentences: one sentence per line, not segmented', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'a.txt'), text);
    const docs = await take(new TextCorpus({ paths: [dir], layout: 'sentences', shuffle: false }).documents());
    expect(docs.map((d) => d.sentences)).toEqual([['First doc line one. Still line one!', 'Line two'], ['Second doc.']]);
  });

  it('document: the whole file is one document', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'a.txt'), text);
    const docs = await take(new TextCorpus({ paths: [dir], layout: 'document', shuffle: false }).documents());
    expect(docs.map((d) => d.sentences)).toEqual([['First doc line one.', 'Still line one!', 'Line two', 'Second doc.']]);
  });

  it('JSONL with a nested text field, gzip detected by magic bytes, directories and globs', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'sub'));
    const lines = [{ meta: { body: 'Hello there. General Kenobi.' } }, { meta: { body: 'Second record.\n\nNew paragraph.' } }].map((r) => JSON.stringify(r)).join('\n');
    fs.writeFileSync(path.join(dir, 'sub/part.jsonl.gz'), require('zlib').gzipSync(lines));
    fs.writeFileSync(path.join(dir, 'sub/ignored.txt'), 'not json');
    const corpus = new TextCorpus({ paths: [path.join(dir, '**/*.jsonl.gz')], format: 'jsonl', textField: 'meta.body', shuffle: false });
    expect(corpus.files.map((f) => f.relPath)).toEqual(['sub/part.jsonl.gz']);
    const docs = await take(corpus.documents());
    expect(docs).toEqual([
      { id: 'sub/part.jsonl.gz:0', sentences: ['Hello there.', 'General Kenobi.'] },
      { id: 'sub/part.jsonl.gz:1', sentences: ['Second record.', 'New paragraph.'] },
    ]);
  });

  it('segments with the configured locale', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'ja.txt'), '今日は晴れです。明日は雨でしょう。\n');
    const docs = await take(new TextCorpus({ paths: [dir], locale: 'ja', shuffle: false }).documents());
    expect(docs[0].sentences).toEqual(['今日は晴れです。', '明日は雨でしょう。']);
    expect(() => new TextCorpus({ paths: [dir], locale: 'not a locale!' })).toThrow(RangeError);
  });
});

describe('order, split and resume', () => {
  function manyDocsCorpus(dir: string, files = 5, docsPerFile = 40): void {
    for (let f = 0; f < files; f++) {
      const body = Array.from({ length: docsPerFile }, (_, d) => `File ${f} document ${d} says hello. It has two sentences.`).join('\n\n');
      fs.writeFileSync(path.join(dir, `f${f}.txt`), body);
    }
  }

  it('a seed fixes the order; another seed gives another order with the same documents', async () => {
    const dir = tempDir();
    manyDocsCorpus(dir);
    const corpus = new TextCorpus({ paths: [dir], shuffleBuffer: 30 });
    const a = (await take(corpus.documents({ seed: 1 }))).map((d) => d.id);
    const b = (await take(corpus.documents({ seed: 1 }))).map((d) => d.id);
    const c = (await take(corpus.documents({ seed: 2 }))).map((d) => d.id);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    expect([...c].sort()).toEqual([...a].sort());
    expect(a).toHaveLength(200);
    expect(a.slice(0, 40).every((id) => id.startsWith(a[0].split(':')[0]))).toBe(false);
  });

  it('train/validation split by id hash: disjoint, complete, near the fraction, stable when files are added', async () => {
    const dir = tempDir();
    manyDocsCorpus(dir, 5, 200);
    const corpus = new TextCorpus({ paths: [dir], validationFraction: 0.1 });
    const train = (await take(corpus.documents({ split: 'train' }))).map((d) => d.id);
    const validation = (await take(corpus.documents({ split: 'validation' }))).map((d) => d.id);
    expect(train.length + validation.length).toBe(1000);
    expect(new Set([...train, ...validation]).size).toBe(1000);
    expect(validation.length).toBeGreaterThan(60);
    expect(validation.length).toBeLessThan(140);
    fs.writeFileSync(path.join(dir, 'new.txt'), Array.from({ length: 100 }, (_, i) => `New doc ${i}.`).join('\n\n'));
    const grown = new TextCorpus({ paths: [dir], validationFraction: 0.1 });
    const validationAfter = new Set((await take(grown.documents({ split: 'validation' }))).map((d) => d.id));
    for (const id of validation) expect(validationAfter.has(id)).toBe(true);
    expect([...validationAfter].filter((id) => !id.startsWith('new.txt')).length).toBe(validation.length);
  });

  it.each([0, 1, 37, 150, 199])('resume after %i documents matches an uninterrupted run', async (n) => {
    const dir = tempDir();
    manyDocsCorpus(dir);
    const options = { paths: [dir], shuffleBuffer: 25, validationFraction: 0.2 };
    const full = await take(new TextCorpus(options).documents({ seed: 7 }));
    const first = new TextCorpus(options).documents({ seed: 7 });
    const seen = await take(first, n);
    const saved = JSON.parse(JSON.stringify(first.getState()));
    const resumed = new TextCorpus(options).documents({ seed: 7 });
    resumed.setState(saved);
    const rest: TextDocument[] = await take(resumed);
    expect([...seen, ...rest]).toEqual(full);
  });

  it('repeat: a second epoch is reshuffled and resumable across the epoch boundary', async () => {
    const dir = tempDir();
    manyDocsCorpus(dir, 2, 10);
    const options = { paths: [dir], shuffleBuffer: 5, repeat: true };
    const run = await take(new TextCorpus(options).documents({ seed: 3 }), 50);
    expect(run.slice(20, 40).map((d) => d.id)).not.toEqual(run.slice(0, 20).map((d) => d.id));
    expect(run.slice(20, 40).map((d) => d.id).sort()).toEqual(run.slice(0, 20).map((d) => d.id).sort());
    const first = new TextCorpus(options).documents({ seed: 3 });
    await take(first, 23);
    const resumed = new TextCorpus(options).documents({ seed: 3 });
    resumed.setState(first.getState());
    expect(await take(resumed, 27)).toEqual(run.slice(23));
  });

  it('refuses a state from another corpus or seed', async () => {
    const dir = tempDir();
    manyDocsCorpus(dir, 2, 3);
    const stream = new TextCorpus({ paths: [dir] }).documents({ seed: 1 });
    expect(() => new TextCorpus({ paths: [dir] }).documents({ seed: 2 }).setState(stream.getState())).toThrow(/seed/);
    fs.writeFileSync(path.join(dir, 'extra.txt'), 'more');
    expect(() => new TextCorpus({ paths: [dir] }).documents({ seed: 1 }).setState(stream.getState())).toThrow(/corpus or its options changed/);
  });
});
