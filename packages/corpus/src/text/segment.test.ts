import * as fs from 'fs';
import * as path from 'path';
import { segmentSentences, sentenceSegments } from './segment';

const jekyll = path.join(__dirname, '../../../../fixtures/data/corpus/gutenberg/pg43.txt');

/** What one Intl.Segmenter call over the whole text gives: the reference the windows must reproduce. */
function wholeText(text: string): string[] {
  return Array.from(new Intl.Segmenter('en', { granularity: 'sentence' }).segment(text), (s) => s.segment);
}

/** Paragraphs as the document layout joins them (lines trimmed, joined with a space). */
function paragraphs(text: string): string[] {
  return text
    .split(/\r?\n\s*\r?\n/)
    .map((p) =>
      p
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean)
        .join(' '),
    )
    .filter(Boolean);
}

describe('sentenceSegments (Intl.Segmenter in windows)', () => {
  it('gives exactly the segments of one call over the text, for every paragraph of a book and for the book as one paragraph', () => {
    const book = paragraphs(fs.readFileSync(jekyll, 'utf8'));
    const texts = [...book, book.join(' ')];
    expect(texts.some((t) => t.length > 1024)).toBe(true);
    const problems: string[] = [];
    for (const text of texts) {
      const expected = wholeText(text);
      for (const window of [8, 64, 1024]) {
        const got = [...sentenceSegments(text, 'en', window)];
        if (JSON.stringify(got) !== JSON.stringify(expected)) problems.push(`window ${window}: ${JSON.stringify(text.slice(0, 80))}`);
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('matches one call on texts built from tricky pieces (abbreviations, numbers, quotes, runs of punctuation and spaces, CJK, paragraph separators)', () => {
    const pieces = ['Hello world.', ' ', '   ', 'etc.', ' (', ')', '"', '“', '”', '’', '...', '…', ' 123', '3.14', 'i.e.', ' lower', ' Upper', 'U.S.A.', '!', '?', '?!', ' —', '\u00a0', '日本語の文。', 'これは', 'Привет мир.', ' Ελληνικά;', 'Mr.', ' Dr. Jekyll', ': ', '\t', '\u2029', '\u0085', '😀', ' a\u0301', '12.', ' .5', '[1]', ' e.g. the'];
    let seed = 12345;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const problems: string[] = [];
    for (let k = 0; k < 1500; k++) {
      let text = '';
      const length = 20 + next(400);
      while (text.length < length) text += pieces[next(pieces.length)];
      const expected = wholeText(text);
      for (const window of [4, 16, 64]) {
        const got = [...sentenceSegments(text, 'en', window)];
        if (JSON.stringify(got) !== JSON.stringify(expected)) problems.push(`window ${window}: ${JSON.stringify(text)}`);
      }
    }
    expect(problems.slice(0, 3)).toEqual([]);
  });

  it('segments a 256 KB paragraph into its sentences (windows keep this linear; one call allocates sentences x length)', () => {
    const sentence = 'The cat sat on the mat and looked around the room for a while. ';
    const text = sentence.repeat(4096);
    const sentences = segmentSentences(text);
    expect(sentences).toHaveLength(4096);
    expect(new Set(sentences)).toEqual(new Set([sentence.trim()]));
  });
});
