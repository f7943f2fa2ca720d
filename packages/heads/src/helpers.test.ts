import type { Encoding } from '@pretrain/core';
import { PieceTokenizer, readSample } from '@pretrain/core/testing';
import { alignLabelsToTokens, encodeSplitWords, wordPredictions } from './token-classification';
import { bestSpans, qaFeatures } from './question-answering';
import { taskMetrics } from './task-metrics';

describe('token label alignment', () => {
  it('labels the first sub-token of each word and -100 elsewhere', () => {
    // [CLS] New York ##er lives [SEP] [PAD]
    const wordIds = [null, 0, 1, 1, 2, null, null];
    expect(Array.from(alignLabelsToTokens(wordIds, [3, 4, 0]))).toEqual([-100, 3, 4, -100, 0, -100, -100]);
    expect(Array.from(alignLabelsToTokens(wordIds, [3, 4, 0], { labelAllSubTokens: true }))).toEqual([-100, 3, 4, 4, 0, -100, -100]);
  });
  it('a word split across a window boundary restarts at the next window', () => {
    expect(Array.from(alignLabelsToTokens([null, 2, 2, null, null, 2, 3, null], [0, 0, 5, 6]))).toEqual([-100, 5, -100, -100, -100, 5, 6, -100]);
  });
  it('names the word when labels are missing', () => {
    expect(() => alignLabelsToTokens([null, 0, 1], [1])).toThrow(/token 2 belongs to word 1, but only 1 word labels/);
  });
  it('maps token predictions back to words', () => {
    expect(wordPredictions([null, 0, 1, 1, 2, null], [9, 3, 4, 7, 0, 9], 4)).toEqual([3, 4, 0, 0]);
  });
});

function encoding(ids: number[], sequenceIds: (number | null)[], offsets: [number, number][], overflowing: Encoding[] = []): Encoding {
  return {
    ids,
    tokens: ids.map(String),
    typeIds: sequenceIds.map((s) => (s === 1 ? 1 : 0)),
    attentionMask: ids.map(() => 1),
    specialTokensMask: sequenceIds.map((s) => (s === null ? 1 : 0)),
    wordIds: sequenceIds.map(() => null),
    sequenceIds,
    offsets,
    overflowing,
  };
}

describe('encodeSplitWords', () => {
  it('encodes each word alone between [CLS] and [SEP], maps tokens to words, and leaves out words that do not fit', () => {
    const tokenizer = new PieceTokenizer(readSample());
    const words = ['the', 'unbelievably', 'cat'];
    const pieces = words.map((w) => tokenizer.encode(w, null, { addSpecialTokens: false }).ids);
    expect(pieces[1].length).toBeGreaterThan(1);
    const { cls, sep } = tokenizer.specialTokenIds();
    const all = encodeSplitWords(tokenizer, words, 64);
    expect(Array.from(all.ids)).toEqual([cls, ...pieces.flat(), sep]);
    expect(all.wordIds).toEqual([null, ...pieces.flatMap((p, w) => p.map(() => w)), null]);
    const cut = encodeSplitWords(tokenizer, words, pieces[0].length + 2);
    expect(Array.from(cut.ids)).toEqual([cls, ...pieces[0], sep]);
    const noSpecials = { ...tokenizer, specialTokenIds: () => ({}) } as unknown as PieceTokenizer;
    expect(() => encodeSplitWords(noSpecials, words, 64)).toThrow('needs a tokenizer with [CLS] and [SEP] tokens');
  });
});

describe('QA windows and span postprocessing', () => {
  // Context "the cat sat on the mat": tokens the(0,3) cat(4,7) sat(8,11) on(12,14) the(15,18) mat(19,22).
  const context = 'the cat sat on the mat';
  // Windows of 2 context tokens with stride 1 (question "q" = 1 token): [CLS] q [SEP] c c [SEP]
  const window = (a: number, b: number, offs: [number, number][]) => encoding([101, 7, 102, a, b, 102], [null, 0, null, 1, 1, null], [[0, 0], [0, 1], [0, 0], ...offs, [0, 0]]);
  const w1 = window(1, 2, [[0, 3], [4, 7]]);
  const w2 = window(2, 3, [[4, 7], [8, 11]]);
  const w3 = window(3, 4, [[8, 11], [12, 14]]);
  const first = { ...w1, overflowing: [w2, w3] };

  it('labels the window that contains the whole answer, CLS (0) elsewhere', () => {
    const features = qaFeatures(first, { start: 4, text: 'cat sat' });
    expect(features.map((f) => [f.startPosition, f.endPosition])).toEqual([[0, 0], [3, 4], [0, 0]]);
    expect(features[1].example.labels).toEqual({ start_positions: 3, end_positions: 4 });
    expect(features[1].contextOffsets).toEqual([null, null, null, [4, 7], [8, 11], null]);
  });

  it('answers that start or end inside a token map to that token', () => {
    const [f] = qaFeatures(w1, { start: 5, text: 'at' });
    expect([f.startPosition, f.endPosition]).toEqual([4, 4]);
  });

  it('picks the best valid span across windows, respecting max answer length and n-best', () => {
    const logits = (start: number[], end: number[], w: Encoding) => ({ startLogits: start, endLogits: end, contextOffsets: qaFeatures(w)[0].contextOffsets });
    const windows = [
      // The best raw pair (CLS, CLS) is not in the context and must be skipped.
      logits([9, 0, 0, 1, 0, 0], [9, 0, 0, 0, 1, 0], w1),
      logits([0, 0, 0, 3, 2, 0], [0, 0, 0, 0, 4, 0], w2),
    ];
    const spans = bestSpans(windows, context, { nBest: 3, maxAnswerLength: 30 });
    expect(spans[0]).toMatchObject({ text: 'cat sat', score: 7, start: 4, end: 11 });
    expect(spans).toHaveLength(3);
    expect(spans.reduce((a, s) => a + s.probability, 0)).toBeCloseTo(1, 12);
    const short = bestSpans(windows, context, { maxAnswerLength: 1 });
    expect(short[0]).toMatchObject({ text: 'sat', score: 6 });
    // end before start is never chosen
    expect(bestSpans([logits([0, 0, 0, 0, 5, 0], [0, 0, 0, 5, 0, 0], w1)], context).every((s) => s.end > s.start)).toBe(true);
  });
});

describe('taskMetrics', () => {
  it('sequence classification: accuracy, binary F1, Matthews', () => {
    const predictions = [[2, 1], [0, 3], [1, 0], [0, 1]].map((v) => ({ values: Float32Array.from(v), shape: [2] }));
    const examples = [0, 1, 1, 1].map((l) => ({ inputIds: new Int32Array(1), labels: { labels: l } }));
    // predicted [0,1,0,1] vs [0,1,1,1]: accuracy 0.75, F1(1) = 2·2/(2·2+0+1) = 0.8
    expect(taskMetrics('sequence-classification', predictions, examples)).toEqual({ accuracy: 0.75, f1: 0.8, matthews: expect.closeTo(1 / Math.sqrt(3), 12) });
  });
  it('token classification: token accuracy and entity F1 over labeled positions only', () => {
    const names = ['O', 'B-PER', 'I-PER'];
    const logits = (ids: number[]) => ({ values: Float32Array.from(ids.flatMap((id) => names.map((_, j) => (j === id ? 1 : 0)))), shape: [ids.length, 3] });
    const examples = [{ inputIds: new Int32Array(4), tokenLabels: { labels: Int32Array.from([-100, 1, 2, 0]) } }];
    const m = taskMetrics('token-classification', [logits([0, 1, 0, 0])], examples, { labelNames: names });
    expect(m.token_accuracy).toBeCloseTo(2 / 3, 12);
    expect(m.entity_f1).toBe(0);
    expect(taskMetrics('token-classification', [logits([2, 1, 2, 0])], examples, { labelNames: names }).entity_f1).toBe(1);
  });
});
