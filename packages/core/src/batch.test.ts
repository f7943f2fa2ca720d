import { collate } from './batch';
import type { Example } from './contract';

const ex = (ids: number[], labels?: Record<string, number>, tokenLabels?: number[]): Example => ({
  inputIds: Int32Array.from(ids),
  labels,
  tokenLabels: tokenLabels ? { tags: Int32Array.from(tokenLabels) } : undefined,
});

describe('collate', () => {
  test('pads ids, masks padding and marks it special', () => {
    const batch = collate([ex([5, 6, 7]), ex([8])], { padId: 0 });
    expect(batch.seqLen).toBe(3);
    expect(Array.from(batch.inputIds)).toEqual([5, 6, 7, 8, 0, 0]);
    expect(Array.from(batch.attentionMask)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(Array.from(batch.specialTokensMask)).toEqual([0, 0, 0, 0, 1, 1]);
  });

  test('rounds the length up to a multiple and rejects over-long examples', () => {
    expect(collate([ex([1, 2, 3])], { padId: 0, padToMultipleOf: 8 }).seqLen).toBe(8);
    expect(() => collate([ex([1, 2, 3])], { padId: 0, maxLength: 2 })).toThrow(/3 tokens, more than maxLength 2/);
  });

  test('a label field is float when any value is fractional, even if the first is whole', () => {
    const batch = collate([ex([1], { score: 5 }), ex([2], { score: 3.8 })], { padId: 0 });
    expect(batch.fields.score).toBeInstanceOf(Float32Array);
    expect(Array.from(batch.fields.score)).toEqual([5, Math.fround(3.8)]);
    const classes = collate([ex([1], { label: 1 }), ex([2], { label: 0 })], { padId: 0 });
    expect(classes.fields.label).toBeInstanceOf(Int32Array);
  });

  test('per-token labels are padded with -100', () => {
    const batch = collate([ex([1, 2], undefined, [3, 4]), ex([5], undefined, [6])], { padId: 0 });
    expect(Array.from(batch.fields.tags)).toEqual([3, 4, 6, -100]);
  });
});
