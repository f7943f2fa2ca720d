import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, writeSafetensors, type SafetensorsTensor } from '../index';
import { crossEntropy, fixtureHostBatch, loadHfFixture, maxAbsDiff, PieceTokenizer, safetensorsDifferences, sampleDocuments, TinyBackbone } from './index';

beforeAll(() => initBackend({ log: false }));

test('maxAbsDiff compares tensors and host arrays, rejects other shapes and reports NaN as Infinity', () => {
  const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
  expect(maxAbsDiff(a, tf.tensor2d([1, 2.5, 3, 3], [2, 2]))).toBeCloseTo(1);
  expect(maxAbsDiff(a, { shape: [2, 2], data: [1, 2, 3, 4.25] })).toBeCloseTo(0.25);
  expect(() => maxAbsDiff(a, { shape: [4], data: [1, 2, 3, 4] })).toThrow(/shape mismatch: \[2,2\] vs \[4\]/);
  expect(maxAbsDiff(a, { shape: [2, 2], data: [NaN, 2, 3, 4] })).toBe(Infinity);
});

test('crossEntropy skips -100 rows and matches a hand computation', () => {
  const logits = tf.tensor2d([0, Math.log(3), 5, 5], [2, 2]);
  // Row 0: -log(1/4); row 1 is ignored.
  expect(crossEntropy(logits, [0, -100]).dataSync()[0]).toBeCloseTo(Math.log(4), 5);
});

test('fixtureHostBatch flattens fixture rows into a host Batch', () => {
  const labels = Int32Array.from([1, 0]);
  const batch = fixtureHostBatch({ input_ids: [[5, 6, 0], [7, 8, 9]], attention_mask: [[1, 1, 0], [1, 1, 1]], token_type_ids: [[0, 0, 0], [0, 1, 1]] }, { labels });
  expect([batch.size, batch.seqLen]).toEqual([2, 3]);
  expect(Array.from(batch.inputIds)).toEqual([5, 6, 0, 7, 8, 9]);
  expect(Array.from(batch.attentionMask)).toEqual([1, 1, 0, 1, 1, 1]);
  expect(Array.from(batch.tokenTypeIds)).toEqual([0, 0, 0, 0, 1, 1]);
  expect(batch.specialTokensMask.length).toBe(6);
  expect(batch.fields.labels).toBe(labels);
});

test('loadHfFixture reads fixture.json, outputs and grads of an HF fixture', () => {
  const fixture = loadHfFixture('bert-seqcls');
  expect(fixture.json.inputs.input_ids.length).toBeGreaterThan(0);
  expect(fixture.outputs.get('logits')!.shape[0]).toBe(fixture.json.inputs.input_ids.length);
  expect(fixture.grads!.size).toBeGreaterThan(0);
});

test('the test doubles: WordPiece-like pieces, a backbone that forwards without leaking', () => {
  const tokenizer = new PieceTokenizer('the cat sat on the mat. the dog.', 2);
  expect(tokenizer.encode('the cat', null).tokens).toEqual(['[CLS]', 'the', 'cat', '[SEP]']);
  // 'catalog' splits into cat ##alo ##g; only 'cat' was in the sample.
  expect(tokenizer.encode('catalog', null, { addSpecialTokens: false }).tokens).toEqual(['cat', '[UNK]', '[UNK]']);
  expect(sampleDocuments('Letter 1\n\nIt was cold. We sailed.\n\nLetter 2\n\nThe end.')).toEqual([
    { id: 'frankenstein-0', sentences: ['It was cold.', 'We sailed.'] },
    { id: 'frankenstein-1', sentences: ['The end.'] },
  ]);
  const backbone = new TinyBackbone({ vocabSize: tokenizer.getVocabSize(), hiddenSize: 8 });
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const out = backbone.forward({ inputIds: tf.tensor2d([[2, 5, 3]], [1, 3], 'int32') });
    expect(out.sequenceOutput.shape).toEqual([1, 3, 8]);
    expect(out.pooledOutput!.shape).toEqual([1, 8]);
  });
  expect(tf.memory().numTensors).toBe(before);
  backbone.dispose();
});

test('safetensorsDifferences lists metadata, name, dtype/shape and value differences, and nothing for an identical file', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'core-testing-')), 'a.safetensors');
  writeSafetensors(file, new Map([['a', { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) }], ['b', { dtype: 'I32', shape: [1], data: Int32Array.from([3]) }]]), { format: 'pt' });
  const same = new Map<string, SafetensorsTensor>([['a', { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) }], ['b', { dtype: 'I32', shape: [1], data: Int32Array.from([3]) }]]);
  expect(safetensorsDifferences(file, same)).toEqual([]);
  const other = new Map<string, SafetensorsTensor>([['a', { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2.5]) }], ['b', { dtype: 'I32', shape: [1, 1], data: Int32Array.from([3]) }], ['c', { dtype: 'F32', shape: [1], data: Float32Array.from([0]) }]]);
  expect(safetensorsDifferences(file, other)).toEqual(['tensor names [a, b] instead of [a, b, c]', 'a: different values', 'b: I32 [1] instead of I32 [1,1]']);
  writeSafetensors(file, new Map([['a', { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) }]]), { format: 'np' });
  expect(safetensorsDifferences(file, new Map([['a', same.get('a')!]]))).toEqual(['metadata {"format":"np"} instead of {"format":"pt"}']);
});
