/**
 * Counts on the full datasets in ../shared/data (present in CI and development, absent on a plain
 * clone). Expected numbers are the datasets' documented sizes and label counts taken with awk /
 * Python over the same files, not this package's output.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readConll } from './conll';
import { readGlue } from './delimited';
import { readSquad } from './squad';

const shared = path.resolve(__dirname, '../../../../../shared/data');
const present = fs.existsSync(shared);
const describeShared = present ? describe : describe.skip;
if (!present) console.warn(`corpus: skipping the full-dataset count tests: ${shared} is absent (only the copied samples in fixtures/data are tested)`);

function countLabels(labels: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const l of labels) counts[l] = (counts[l] ?? 0) + 1;
  return counts;
}

describeShared('labeled readers on ../shared/data', () => {
  it('SST-2: dev 872 rows (444 positive), train 67,349', () => {
    const dev = readGlue('sst2', path.join(shared, 'sentiment/sst2/dev.tsv'));
    expect(dev.examples).toHaveLength(872);
    expect(countLabels(dev.examples.map((e) => e.label))).toEqual({ 0: 428, 1: 444 });
    expect(dev.examples[0].text).toBe("it 's a charming and often affecting journey . ");
    expect(readGlue('sst2', path.join(shared, 'sentiment/sst2/train.tsv')).examples).toHaveLength(67349);
  });

  it('CoLA dev: 1,043 sentences (no header row)', () => {
    const dev = readGlue('cola', path.join(shared, 'acceptability/CoLA/dev.tsv'));
    expect(dev.examples).toHaveLength(1043);
    expect(countLabels(dev.examples.map((e) => e.label))).toEqual({ 0: 322, 1: 721 });
    expect(dev.examples[0].text).toBe('The sailors rode the breeze clear of the rocks.');
  });

  it('MRPC dev: 408 pairs (BOM in the header, stray quotes in the text)', () => {
    const dev = readGlue('mrpc', path.join(shared, 'pairs/MRPC/dev.tsv'));
    expect(dev.examples).toHaveLength(408);
    expect(countLabels(dev.examples.map((e) => e.label))).toEqual({ 0: 129, 1: 279 });
    expect(dev.examples[0].textPair).toBe('" The foodservice pie business does not fit our long-term growth strategy .');
  });

  it('RTE dev: 277 pairs', () => {
    const dev = readGlue('rte', path.join(shared, 'pairs/RTE/dev.tsv'));
    expect(dev.examples).toHaveLength(277);
    expect(countLabels(dev.examples.map((e) => e.label))).toEqual({ 0: 146, 1: 131 });
  });

  it('STS-B dev: 1,500 pairs with float scores in [0, 5]', () => {
    const dev = readGlue('stsb', path.join(shared, 'pairs/STS-B/dev.tsv'));
    expect(dev.examples).toHaveLength(1500);
    const scores = dev.examples.map((e) => e.score);
    expect(Math.min(...scores)).toBe(0);
    expect(Math.max(...scores)).toBe(5);
    expect(scores.reduce((a, b) => a + b, 0)).toBeCloseTo(3545.8613333333, 6);
  });

  it('CoNLL-2003 valid: 3,250 sentences, 51,362 tokens, 216 documents, IOB2', () => {
    const valid = readConll(path.join(shared, 'ner/conll2003/valid.txt'));
    expect(valid.examples).toHaveLength(3250);
    expect(valid.examples.reduce((n, e) => n + e.tokens.length, 0)).toBe(51362);
    expect(valid.documents).toBe(216);
    expect(valid.detectedScheme).toBe('iob2');
    expect(valid.labels!.names).toEqual(['O', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC', 'B-ORG', 'I-ORG', 'B-PER', 'I-PER']);
  });

  it('SQuAD v1.1 shards: 10,254 and 10,450 questions, all answers aligned once code-point offsets become UTF-16', () => {
    const counts = ['00', '01'].map((part) => readSquad(path.join(shared, `qa/squad-v1.1/train-v1.1.reconstructed.part${part}.json`)));
    expect(counts.map((d) => [d.articles, d.paragraphs, d.examples.length, d.misalignedAnswers])).toEqual([
      [48, 2202, 10254, 0],
      [53, 2316, 10450, 0],
    ]);
  });
});
