import * as fs from 'fs';
import * as path from 'path';
import { TextCorpus } from './text-corpus';

const gutenberg = path.resolve(__dirname, '../../../../../shared/data/corpus/gutenberg');
const present = fs.existsSync(gutenberg);
if (!present) console.warn(`corpus: skipping the full Gutenberg test: ${gutenberg} is absent (the copied pg43.txt is tested instead)`);

(present ? describe : describe.skip)('the 14 Gutenberg books in ../shared', () => {
  it('strip markers (also after a BOM and with CRLF), and split into sensible sentences', async () => {
    const corpus = new TextCorpus({ paths: [path.join(gutenberg, 'pg*.txt')], layout: 'document', stripGutenberg: true, shuffle: false, maxSentencesPerDocument: 1e6 });
    expect(corpus.files).toHaveLength(14);
    const stream = corpus.documents();
    let sentences = 0;
    let words = 0;
    for await (const doc of stream) {
      for (const s of doc.sentences) {
        expect(s).not.toMatch(/\*\*\* (START|END) OF THE PROJECT GUTENBERG/);
        expect(s).not.toMatch(/[\r\n]/);
        sentences++;
        words += s.split(/\s+/).length;
      }
    }
    const stats = stream.stats();
    expect(stats.documents).toBe(14);
    expect(stats.gutenbergStripped).toBe(5); // the five books that carry the markers (grep -l '*** START OF')
    expect(stats.invalidUtf8).toBe(0);
    expect(sentences).toBeGreaterThan(50000);
    expect(words / sentences).toBeGreaterThan(10);
    expect(words / sentences).toBeLessThan(30);
  });
});
