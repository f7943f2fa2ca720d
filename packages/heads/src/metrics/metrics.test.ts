import { accuracy, argmaxRows, f1Binary, f1Macro, matthewsCorrelation } from './classification';
import { averageRanks, pearson, spearman } from './correlation';
import { entityF1, getEntities, seqevalScores } from './seqeval';
import { exactMatchScore, f1Score, normalizeAnswer, squadScores } from './squad';
import { perplexity, perplexityFromTotals } from './perplexity';

describe('classification metrics (values from the sklearn documentation / worked by hand)', () => {
  it('accuracy', () => {
    expect(accuracy([0, 2, 1, 3], [0, 1, 2, 3])).toBe(0.5);
  });
  it('macro F1 matches the sklearn f1_score docstring example (0.2667)', () => {
    expect(f1Macro([0, 2, 1, 0, 0, 1], [0, 1, 2, 0, 1, 2])).toBeCloseTo(0.26666666, 6);
  });
  it('binary F1: tp=2 fp=1 fn=1 → 2/3', () => {
    expect(f1Binary([1, 1, 1, 0, 0], [1, 1, 0, 1, 0])).toBeCloseTo(2 / 3, 12);
    expect(f1Binary([0, 0], [0, 0])).toBe(0);
  });
  it('Matthews correlation matches the sklearn docstring example (-1/3)', () => {
    expect(matthewsCorrelation([1, -1, 1, 1], [1, 1, 1, -1])).toBeCloseTo(-1 / 3, 12);
    expect(matthewsCorrelation([1, 0, 1, 0], [1, 0, 1, 0])).toBe(1);
    expect(matthewsCorrelation([1, 1, 1], [1, 0, 1])).toBe(0);
  });
  it('argmaxRows picks the first maximum', () => {
    expect(Array.from(argmaxRows([0, 3, 1, 5, 5, 2], 3))).toEqual([1, 0]);
  });
  it('rejects length mismatches', () => {
    expect(() => accuracy([1], [1, 2])).toThrow(/1 predictions but 2 references/);
  });
});

describe('correlations', () => {
  it('Pearson by hand: 6/sqrt(60)', () => {
    expect(pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5])).toBeCloseTo(6 / Math.sqrt(60), 12);
  });
  it('Spearman with ties matches the scipy.stats.spearmanr docstring (0.8207826816681233)', () => {
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(0.8207826816681233, 12);
    expect(Array.from(averageRanks([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
  });
});

describe('seqeval entity F1 (default mode)', () => {
  it('README example: f1 = 0.5', () => {
    const yTrue = [['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
    const yPred = [['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
    const s = seqevalScores(yTrue, yPred);
    expect(s.f1).toBeCloseTo(0.5, 12);
    expect(s.perType.MISC).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(s.perType.PER.f1).toBe(1);
  });
  it('an entity may start with I-', () => {
    expect(getEntities(['O', 'I-PER', 'I-PER', 'O'])).toEqual([{ type: 'PER', start: 1, end: 2 }]);
    expect(entityF1([['B-PER', 'I-PER']], [['I-PER', 'I-PER']])).toBe(1);
  });
  it('adjacent entities of the same type are split by B-', () => {
    expect(getEntities(['B-LOC', 'B-LOC', 'I-LOC'])).toEqual([
      { type: 'LOC', start: 0, end: 0 },
      { type: 'LOC', start: 1, end: 2 },
    ]);
    expect(entityF1([['B-LOC', 'B-LOC']], [['B-LOC', 'I-LOC']])).toBe(0);
  });
  it('a type change inside I- tags ends one entity and starts another', () => {
    expect(getEntities(['B-PER', 'I-LOC', 'O'])).toEqual([
      { type: 'PER', start: 0, end: 0 },
      { type: 'LOC', start: 1, end: 1 },
    ]);
  });
  it('sentences are separated: an entity does not run across them', () => {
    expect(getEntities([['B-ORG', 'I-ORG'], ['I-ORG']])).toEqual([
      { type: 'ORG', start: 0, end: 1 },
      { type: 'ORG', start: 3, end: 3 },
    ]);
  });
  it('no predicted entities gives 0, not NaN', () => {
    expect(entityF1([['B-PER']], [['O']])).toBe(0);
  });
});

describe('SQuAD normalisation and scores', () => {
  it('lowercases, drops punctuation and articles, collapses whitespace', () => {
    expect(normalizeAnswer("The Cat's  hat!")).toBe('cats hat');
    expect(normalizeAnswer('  An apple,\ta banana ')).toBe('apple banana');
    expect(normalizeAnswer('Theatre anthem')).toBe('theatre anthem');
    expect(normalizeAnswer('the-end')).toBe('theend');
  });
  it('exact match and token F1', () => {
    expect(exactMatchScore('the Denver Broncos', 'Denver Broncos!')).toBe(1);
    expect(f1Score('the cat sat', 'a cat sat on mat')).toBeCloseTo(2 / 3, 12);
    expect(f1Score('cat cat', 'cat')).toBeCloseTo(2 / 3, 12);
    expect(f1Score('dog', 'cat')).toBe(0);
  });
  it('takes the best ground truth and reports percentages', () => {
    const s = squadScores(['Broncos', 'in 1990'], [['Denver Broncos', 'Broncos'], ['1991']]);
    expect(s.exactMatch).toBe(50);
    expect(s.f1).toBe(50);
  });
});

describe('perplexity', () => {
  it('is exp of the mean token NLL', () => {
    expect(perplexity(Math.log(7))).toBeCloseTo(7, 12);
    expect(perplexityFromTotals(3 * Math.log(2), 3)).toBeCloseTo(2, 12);
  });
});
