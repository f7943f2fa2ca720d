import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { batchToTensors, collate, disposeBatchTensors, initBackend, loadSafetensorsAsTensors, Rng, type BackbonePlugin } from '@pretrain/core';
import { MaskedLanguageModeling } from './objective';
import { TinyBackbone, PieceTokenizer, trainStep } from '@pretrain/core/testing';

const FIXTURE = path.join(__dirname, '../../../fixtures/hf/bert-pretraining');
const fixture = require(path.join(FIXTURE, 'fixture.json'));

/** A backbone stand-in that only exposes the HF word embeddings the decoder is tied to. */
function embeddingsOnly(weights: Map<string, tf.Tensor>): BackbonePlugin {
  const embeddings = tf.variable(weights.get('bert.embeddings.word_embeddings.weight')!);
  const c = fixture.config;
  return {
    info: { modelType: 'bert', basePrefix: 'bert', attention: 'bidirectional', vocabSize: c.vocab_size, hiddenSize: c.hidden_size, numLayers: c.num_hidden_layers, maxPositions: c.max_position_embeddings, hiddenAct: c.hidden_act, layerNormEps: c.layer_norm_eps, initializerRange: c.initializer_range, hiddenDropoutProb: 0 },
    inputEmbeddings: () => embeddings,
  } as unknown as BackbonePlugin;
}

beforeAll(() => initBackend({ log: false }));

describe('MLM head against HF BertForPreTraining (fixtures/hf/bert-pretraining)', () => {
  test('prediction logits at the labeled positions and the MLM loss match HF within 1e-4', () => {
    const weights = loadSafetensorsAsTensors(path.join(FIXTURE, 'model/model.safetensors'));
    const outputs = loadSafetensorsAsTensors(path.join(FIXTURE, 'outputs.safetensors'));
    const mlm = new MaskedLanguageModeling();
    mlm.init({ backbone: embeddingsOnly(weights), tokenizer: new PieceTokenizer('a'), rng: new Rng(0) });
    const report = mlm.loadStateDict(weights);
    expect(report).toEqual({ missing: [], unexpected: [] });

    const labels: number[][] = fixture.labels.labels;
    const batch = collate(
      labels.map((row, r) => ({ inputIds: Int32Array.from(fixture.inputs.input_ids[r]), tokenLabels: { mlmLabels: Int32Array.from(row) } })),
      { padId: 0 },
    );
    const tensors = batchToTensors(batch);
    const sequenceOutput = outputs.get('hidden_states.2') as tf.Tensor3D;
    const { loss } = mlm.loss({ sequenceOutput }, tensors);
    expect(Math.abs(loss.dataSync()[0] - fixture.outputs.mlm_loss)).toBeLessThan(1e-4);

    const { positions } = mlm.targets(batch);
    expect(positions.length).toBe(labels.flat().filter((l) => l !== -100).length);
    const ours = mlm.logitsAt(sequenceOutput, positions);
    const reference = tf.gather(tf.reshape(outputs.get('prediction_logits')!, [-1, fixture.config.vocab_size]), tf.tensor1d(positions, 'int32'));
    const maxDiff = tf.max(tf.abs(tf.sub(ours, reference))).dataSync()[0];
    expect(maxDiff).toBeLessThan(1e-4);
    disposeBatchTensors(tensors);
  });

  test('stateDict holds exactly the head tensors HF stores (decoder tied, not saved), in HF layout', () => {
    const weights = loadSafetensorsAsTensors(path.join(FIXTURE, 'model/model.safetensors'));
    const mlm = new MaskedLanguageModeling();
    mlm.init({ backbone: embeddingsOnly(weights), tokenizer: new PieceTokenizer('a'), rng: new Rng(0) });
    mlm.loadStateDict(weights);
    const state = mlm.stateDict();
    const hfHead = [...weights.keys()].filter((k) => k.startsWith('cls.predictions.')).sort();
    expect([...state.keys()].sort()).toEqual(hfHead);
    for (const [name, tensor] of state) {
      expect(tensor.shape).toEqual(weights.get(name)!.shape);
      expect(tf.max(tf.abs(tf.sub(tensor, weights.get(name)!))).dataSync()[0]).toBe(0);
    }
  });

  test('loadStateDict reports unknown head tensors and missing ones, and rejects wrong shapes by name', () => {
    const mlm = new MaskedLanguageModeling();
    mlm.init({ backbone: new TinyBackbone({ vocabSize: 50 }), tokenizer: new PieceTokenizer('a'), rng: new Rng(0) });
    const report = mlm.loadStateDict(new Map([['cls.predictions.extra', tf.zeros([1])], ['cls.predictions.bias', tf.zeros([50])], ['bert.pooler.dense.bias', tf.zeros([16])]]));
    expect(report.unexpected).toEqual(['cls.predictions.extra']);
    expect(report.missing).toContain('cls.predictions.transform.dense.weight');
    expect(() => mlm.loadStateDict(new Map([['cls.predictions.bias', tf.zeros([7])]]))).toThrow(/cls\.predictions\.bias.*\[7\].*\[50\]/);
  });
});

describe('MLM training on a tiny backbone', () => {
  test('loss falls and tensor count stays flat', async () => {
    const text = 'the cat sat on the mat . the dog sat on the log . a bird sat on the tree .';
    const tokenizer = new PieceTokenizer(text);
    const backbone = new TinyBackbone({ vocabSize: tokenizer.getVocabSize(), hiddenSize: 32, seed: 3 });
    const mlm = new MaskedLanguageModeling();
    mlm.init({ backbone, tokenizer, rng: new Rng(1) });
    const examples = text.split(' . ').map((s) => {
      const e = tokenizer.encode(s);
      return { inputIds: Int32Array.from(e.ids), specialTokensMask: Uint8Array.from(e.specialTokensMask) };
    });
    const base = collate([...examples, ...examples, ...examples, ...examples], { padId: 0 });
    const optimizer = tf.train.adam(0.05);
    const rng = new Rng(2);
    const losses: number[] = [];
    let tensorsAfterFirst = 0;
    for (let step = 0; step < 60; step++) {
      losses.push(trainStep(backbone, [mlm], mlm.transformBatch(base, rng), optimizer));
      if (step === 1) tensorsAfterFirst = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(0.7 * mean(losses.slice(0, 5)));
  });
});

test('a batch with nothing to predict gives a zero loss that still has (zero) gradients', () => {
  const tokenizer = new PieceTokenizer('a b');
  const backbone = new TinyBackbone({ vocabSize: tokenizer.getVocabSize() });
  const mlm = new MaskedLanguageModeling();
  mlm.init({ backbone, tokenizer, rng: new Rng(0) });
  const batch = collate([{ inputIds: Int32Array.from([2, 5, 3]), tokenLabels: { mlmLabels: Int32Array.from([-100, -100, -100]) } }], { padId: 0 });
  const tensors = batchToTensors(batch);
  const { value, grads } = tf.variableGrads(() => mlm.loss(backbone.forward(tensors), tensors).loss, [...mlm.variables().values()]);
  expect(value.dataSync()[0]).toBe(0);
  expect(Object.values(grads).every((g) => tf.max(tf.abs(g)).dataSync()[0] === 0)).toBe(true);
  disposeBatchTensors(tensors);
});
