import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend';
import { layerIndexByName, normalTensor, ParameterSet, ParameterSetModule } from './parameters';
import { Rng } from './rng';

beforeAll(() => initBackend({ log: false }));

function headParameters(): ParameterSet {
  const set = new ParameterSet(['cls.'], { 'cls.tied.weight': 'cls.dense.weight' }, ['cls.decoder.weight']);
  set.add('cls.dense.weight', tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), 'linear');
  set.add('cls.bias', tf.tensor1d([7, 8, 9]));
  return set;
}

test('stateDict gives linear weights in HF [out, in] layout; loadStateDict takes them back', () => {
  const set = headParameters();
  const state = set.stateDict();
  expect(state.get('cls.dense.weight')!.shape).toEqual([3, 2]);
  expect(Array.from(state.get('cls.dense.weight')!.dataSync())).toEqual([1, 4, 2, 5, 3, 6]);
  const other = new ParameterSet(['cls.']);
  other.add('cls.dense.weight', tf.zeros([2, 3]), 'linear');
  other.add('cls.bias', tf.zeros([3]));
  expect(other.loadStateDict(state)).toEqual({ missing: [], unexpected: [] });
  expect(Array.from(other.get('cls.dense.weight').dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
  for (const t of state.values()) t.dispose();
  set.dispose();
  other.dispose();
});

test('loadStateDict: aliases, ignored and foreign names, missing and unexpected, shape errors', () => {
  const set = headParameters();
  const tied = tf.tensor2d([6, 5, 4, 3, 2, 1], [3, 2]);
  const report = set.loadStateDict(new Map<string, tf.Tensor>([
    ['cls.tied.weight', tied],
    ['cls.decoder.weight', tf.zeros([9])],
    ['bert.pooler.weight', tf.zeros([1])],
    ['cls.extra', tf.zeros([1])],
  ]));
  expect(report).toEqual({ missing: ['cls.bias'], unexpected: ['cls.extra'] });
  expect(Array.from(set.get('cls.dense.weight').dataSync())).toEqual([6, 4, 2, 5, 3, 1]);
  expect(() => set.loadStateDict(new Map([['cls.bias', tf.zeros([4])]]))).toThrow('cls.bias: checkpoint has shape [4], the head expects [3]');
  expect(() => set.add('cls.bias', tf.zeros([3]))).toThrow(/defined twice/);
  set.dispose();
  expect(() => set.get('cls.bias')).toThrow(/does not exist/);
});

test('loadStateDict leaves no tensors behind (float32 and int32 inputs, linear and plain layouts)', () => {
  const set = headParameters();
  const inputs = new Map<string, tf.Tensor>([
    ['cls.tied.weight', tf.ones([3, 2])],
    ['cls.bias', tf.tensor1d([1, 2, 3], 'int32')],
  ]);
  const before = tf.memory().numTensors;
  expect(set.loadStateDict(inputs).missing).toEqual([]);
  expect(tf.memory().numTensors).toBe(before);
  expect(Array.from(set.get('cls.bias').dataSync())).toEqual([1, 2, 3]);
  tf.dispose([...inputs.values()]);
  set.dispose();
});

test('normalTensor draws N(0, std) from the run RNG: same seed, same values', () => {
  const a = normalTensor([200, 10], 0.02, new Rng(3));
  const b = normalTensor([200, 10], 0.02, new Rng(3));
  expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
  const values = Array.from(a.dataSync());
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
  expect(Math.abs(mean)).toBeLessThan(0.002);
  expect(std).toBeGreaterThan(0.018);
  expect(std).toBeLessThan(0.022);
  a.dispose();
  b.dispose();
});

test('ParameterSetModule delegates variables, stateDict, loadStateDict and dispose to its ParameterSet', () => {
  class Head extends ParameterSetModule {
    constructor() {
      super(headParameters());
    }
  }
  const head = new Head();
  expect([...head.variables().keys()]).toEqual(['cls.dense.weight', 'cls.bias']);
  const state = head.stateDict();
  expect(state.get('cls.dense.weight')!.shape).toEqual([3, 2]);
  expect(head.loadStateDict(new Map([['cls.bias', tf.tensor1d([1, 1, 1])]]))).toEqual({ missing: ['cls.dense.weight'], unexpected: [] });
  const variable = head.variables().get('cls.bias')!;
  head.dispose();
  expect(variable.isDisposed).toBe(true);
  for (const t of state.values()) t.dispose();
});

test('a backbone set: optional base prefix, a rename hook, ignore patterns, its own shape error', () => {
  const set = new ParameterSet([''], {}, [], {
    stripPrefix: 'bert',
    rename: (name) => name.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias'),
    ignorePatterns: [/^embeddings\.position_ids$/],
    describeShapeMismatch: (given, shape, expected) => `tensor "${given}" has shape [${shape}] but this BERT config expects [${expected}]`,
  });
  set.add('encoder.dense.weight', tf.zeros([2, 3]), 'linear');
  set.add('encoder.LayerNorm.weight', tf.zeros([3]));
  set.add('encoder.LayerNorm.bias', tf.zeros([3]));
  expect(set.owns('cls.anything')).toBe(true);
  const report = set.loadStateDict(
    new Map([
      ['bert.encoder.dense.weight', tf.ones([3, 2])],
      ['encoder.LayerNorm.gamma', tf.tensor1d([1, 2, 3])],
      ['bert.embeddings.position_ids', tf.zeros([1, 4], 'int32')],
      ['cls.predictions.bias', tf.zeros([5])],
    ]),
  );
  expect(report).toEqual({ missing: ['encoder.LayerNorm.bias'], unexpected: ['cls.predictions.bias'] });
  expect(Array.from(set.get('encoder.LayerNorm.weight').dataSync())).toEqual([1, 2, 3]);
  expect(set.get('encoder.dense.weight').shape).toEqual([2, 3]);
  expect(() => set.loadStateDict(new Map([['bert.encoder.dense.weight', tf.zeros([2, 3])]]))).toThrow('tensor "bert.encoder.dense.weight" has shape [2,3] but this BERT config expects [3,2]');
  set.dispose();
});

test('forBackbone words shape errors for the model; dense and layerNorm use the set by layer name; layerIndexByName', () => {
  const set = ParameterSet.forBackbone({ basePrefix: 'transformer', modelName: 'GPT-2' });
  set.add('h.0.mlp.weight', tf.tensor2d([1, 0, 0, 1, 1, 1], [2, 3]), 'linear');
  set.add('h.0.mlp.bias', tf.tensor1d([0, 0, 1]));
  set.add('h.0.ln.weight', tf.ones([3]));
  set.add('h.0.ln.bias', tf.zeros([3]));
  expect(() => set.loadStateDict(new Map([['transformer.h.0.ln.weight', tf.zeros([4])]]))).toThrow('tensor "transformer.h.0.ln.weight" has shape [4] but this GPT-2 config expects [3]');
  tf.tidy(() => {
    const x = tf.tensor2d([[1, 2]]);
    expect(Array.from(set.dense(x, 'h.0.mlp').dataSync())).toEqual([3, 2, 3]);
    const normed = set.layerNorm(tf.tensor2d([[1, 2, 3]]), 'h.0.ln', 1e-12).dataSync();
    expect(Math.abs(normed[0] + normed[2])).toBeLessThan(1e-6);
    expect(normed[1]).toBeCloseTo(0, 6);
  });
  set.dispose();
  const depth = (name: string) => layerIndexByName(name, 'bert', ['embeddings.'], /^encoder\.layer\.(\d+)\./, 4);
  expect([depth('bert.embeddings.word_embeddings.weight'), depth('encoder.layer.2.output.dense.bias'), depth('bert.pooler.dense.weight')]).toEqual([0, 3, 5]);
});
