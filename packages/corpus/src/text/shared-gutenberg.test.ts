import * as fs from 'fs';
import * as path from 'path';
import { TextCorpus } from './text-corpus';

const gutenberg = path.resolve(__dirname, '../../../../../shared/data/corpus/gutenberg');
const present = fs.existsSync(gutenberg);
if (!present) console.warn(`corpus: skipping the full Gutenberg test: ${gutenberg} is absent (the copied pg43.txt is tested instead)`);

// The five books that carry the START/END markers (`grep -l '*** START OF'`), 3.5 MB; pg74 starts with a BOM.
const markedBooks = ['pg2701.txt', 'pg43.txt', 'pg4300.txt', 'pg55.txt', 'pg74.txt'];

(present ? describe : describe.skip)('the Gutenberg books in ../shared', () => {
  it('strip markers (also after a BOM), and split into sensible sentences', async () => {
    const corpus = new TextCorpus({ paths: markedBooks.map((b) => path.join(gutenberg, b)), layout: 'document', stripGutenberg: true, shuffle: false, maxSentencesPerDocument: 1e6 });
    expect(corpus.files).toHaveLength(5);
    const stream = corpus.documents();
    let sentences = 0;
    let words = 0;
    const offenders: string[] = [];
    const firstSentences: string[] = [];
    let ishmael = false;
    for await (const doc of stream) {
      firstSentences.push(doc.sentences[0]);
      for (const s of doc.sentences) {
        if (/\*\*\* (START|END) OF THE PROJECT GUTENBERG|[\r\n]/.test(s)) offenders.push(s);
        if (s === 'Call me Ishmael.') ishmael = true;
        sentences++;
        words += s.split(/\s+/).length;
      }
    }
    expect(offenders).toEqual([]);
    expect(ishmael).toBe(true);
    expect(firstSentences).toContain('The Strange Case Of Dr. Jekyll And Mr. Hyde');
    const stats = stream.stats();
    expect(stats.documents).toBe(5);
    expect(stats.gutenbergStripped).toBe(5);
    expect(stats.invalidUtf8).toBe(0);
    expect(sentences).toBeGreaterThan(20000);
    expect(words / sentences).toBeGreaterThan(10);
    expect(words / sentences).toBeLessThan(30);
  });
});
