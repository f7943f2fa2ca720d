import * as tf from '@tensorflow/tfjs-core';
import { batchToTensors, collate, disposeBatchTensors, initBackend, Rng, type Batch, type Example, type TokenizerPlugin } from '@pretrain/core';
import { TinyBackbone } from '@pretrain/core/testing';
import { ELECTRA_FIELDS, maskedBinaryCrossEntropy, maskForGenerator, pretrainPlugins, replaceSampled, ReplacedTokenDetection, sampleRows, electraOptions } from './index';

const tokenizer = { specialTokenIds: () => ({ pad: 0, cls: 1, sep: 2, mask: 3 }), isContinuation: () => false, getVocabSize: () => 40 } as unknown as TokenizerPlugin;
const vocabulary = { maskId: 3, specialIds: new Set([0, 1, 2, 3]) };

async function* documents() {
  for (let d = 0; d < 8; d++) {
    yield { id: `doc-${d}`, sentences: Array.from({ length: 8 }, (_, s) => Int32Array.from({ length: 6 + ((d + s) % 5) }, (_, i) => 4 + ((d * 7 + s * 3 + i * 5) % 36))) };
  }
}

async function examples(objective: ReplacedTokenDetection, maxLength = 16): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of objective.exampleBuilder.build(documents(), { tokenizer, maxLength, rng: new Rng(1) })) out.push(e);
  return out;
}

beforeAll(() => initBackend({ log: false }));

test('exports a pretrainPlugins objective named electra that builds examples for bidirectional backbones', () => {
  expect(pretrainPlugins.map((p) => [p.kind, p.name])).toEqual([['objective', 'electra']]);
  expect(() => pretrainPlugins[0].options.parse({ maskProbability: 0 })).toThrow();
  expect(() => pretrainPlugins[0].options.parse({ maskProb: 0.2 })).toThrow(/maskProb/);
});

test('masks a share of the real, non-special tokens (at least one per row) and remembers the originals', async () => {
  const objective = new ReplacedTokenDetection();
  const batch = collate((await examples(objective)).slice(0, 16), { padId: 0 });
  const masked = maskForGenerator(batch, new Rng(5), vocabulary, 0.3);
  const positions = masked.fields[ELECTRA_FIELDS.positions] as Int32Array;
  const originals = masked.fields[ELECTRA_FIELDS.originals] as Int32Array;
  let maskable = 0;
  for (let i = 0; i < batch.inputIds.length; i++) if (batch.attentionMask[i] === 1 && !vocabulary.specialIds.has(batch.inputIds[i])) maskable++;
  expect(positions.length / maskable).toBeGreaterThan(0.2);
  expect(positions.length / maskable).toBeLessThan(0.4);
  positions.forEach((i, k) => {
    expect(batch.attentionMask[i]).toBe(1);
    expect(vocabulary.specialIds.has(batch.inputIds[i])).toBe(false);
    expect(originals[k]).toBe(batch.inputIds[i]);
    expect(masked.inputIds[i]).toBe(3);
  });
  for (let row = 0; row < batch.size; row++) expect(positions.some((i) => Math.floor(i / batch.seqLen) === row)).toBe(true);
  // Everything else is untouched, and the input batch is not modified.
  for (let i = 0; i < batch.inputIds.length; i++) if (!positions.includes(i)) expect(masked.inputIds[i]).toBe(batch.inputIds[i]);
  expect(batch.inputIds.includes(3)).toBe(false);
});

test('samples from softmax(logits / temperature)', () => {
  const logits = Float32Array.from([0, Math.log(3), -1e9, 50, 0, 0]);
  const rng = new Rng(9);
  let ones = 0;
  for (let n = 0; n < 4000; n++) {
    const [first, second] = sampleRows(logits, 2, 3, 1, rng);
    if (first === 1) ones++;
    expect(first).not.toBe(2);
    expect(second).toBe(0);
  }
  expect(ones / 4000).toBeGreaterThan(0.72);
  expect(ones / 4000).toBeLessThan(0.78);
});

test('labels a position replaced only where the sample differs from the original', () => {
  const { corrupted, replaced } = replaceSampled(Int32Array.from([1, 3, 7, 3, 2]), Int32Array.from([1, 3]), Int32Array.from([5, 9]), Int32Array.from([5, 8]));
  expect(Array.from(corrupted)).toEqual([1, 5, 7, 8, 2]);
  expect(Array.from(replaced)).toEqual([0, 0, 0, 1, 0]);
});

test('binary cross-entropy counts only unpadded tokens (host-side reference)', () => {
  const logits = [2, -1, 0.5, 30, -3, 0.1];
  const targets = [1, 0, 1, 0, 1, 1];
  const mask = [1, 1, 1, 1, 0, 0];
  const { loss, accuracy } = maskedBinaryCrossEntropy(tf.tensor1d(logits), Float32Array.from(targets), tf.tensor2d(mask, [2, 3], 'int32'));
  // −log σ(x) for replaced tokens, −log σ(−x) = −log(1 / (1 + eˣ)) for original ones (no cancellation).
  const terms = logits.map((x, i) => -Math.log(1 / (1 + Math.exp(targets[i] === 1 ? -x : x))));
  const expected = terms.slice(0, 4).reduce((a, b) => a + b, 0) / 4;
  expect(loss.dataSync()[0]).toBeCloseTo(expected, 4);
  // predicted replaced where x > 0: [1, 0, 1, 1] against [1, 0, 1, 0].
  expect(accuracy.dataSync()[0]).toBeCloseTo(3 / 4, 6);
});

test('trains 5 steps: finite losses, both heads and the backbone get gradients, tensor count flat, HF ELECTRA names', async () => {
  const objective = new ReplacedTokenDetection(electraOptions({ maskProbability: 0.25 }));
  const all = await examples(objective);
  const backbone = new TinyBackbone({ vocabSize: 40, hiddenSize: 16 });
  objective.init({ backbone, tokenizer, rng: new Rng(2) });
  const variables = new Map([...backbone.variables(), ...objective.variables()]);
  const optimizer = tf.train.adam(0.01);
  const rng = new Rng(3);
  const discriminatorLosses: number[] = [];
  let tensors = 0;
  for (let step = 0; step < 5; step++) {
    const batch: Batch = objective.transformBatch(collate(all.slice(step * 8, step * 8 + 8), { padId: 0 }), rng);
    const tensorsOfBatch = batchToTensors(batch);
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const out = objective.loss(backbone.forward(tensorsOfBatch, { training: true }), tensorsOfBatch, { training: true });
        discriminatorLosses.push(out.metrics.discriminatorLoss.dataSync()[0]);
        return out.loss;
      }, [...variables.values()]);
      if (step === 0) {
        for (const name of ['generator_predictions.dense.weight', 'discriminator_predictions.dense_prediction.weight']) expect(tf.any(tf.notEqual(grads[variables.get(name)!.name], 0)).dataSync()[0]).toBe(1);
        expect(tf.any(tf.notEqual(grads[backbone.inputEmbeddings().name], 0)).dataSync()[0]).toBe(1);
      }
      optimizer.applyGradients(grads);
    });
    disposeBatchTensors(tensorsOfBatch);
    if (step === 1) tensors = tf.memory().numTensors;
  }
  expect(discriminatorLosses.every(Number.isFinite)).toBe(true);
  expect(tf.memory().numTensors).toBe(tensors);
  expect([...objective.stateDict().keys()].sort()).toEqual([
    'discriminator_predictions.dense.bias',
    'discriminator_predictions.dense.weight',
    'discriminator_predictions.dense_prediction.bias',
    'discriminator_predictions.dense_prediction.weight',
    'generator_lm_head.bias',
    'generator_predictions.LayerNorm.bias',
    'generator_predictions.LayerNorm.weight',
    'generator_predictions.dense.bias',
    'generator_predictions.dense.weight',
  ]);
  expect(objective.stateDict().get('discriminator_predictions.dense_prediction.weight')!.shape).toEqual([1, 16]);
  // The tied decoder weight is accepted and ignored; another model's tensors are not ours to report.
  const report = objective.loadStateDict(new Map([...objective.stateDict(), ['generator_lm_head.weight', tf.zeros([40, 16])], ['bert.pooler.dense.bias', tf.zeros([16])]]));
  expect(report).toEqual({ missing: [], unexpected: [] });
});

test('rejects a causal backbone and a tokenizer without a mask token, naming the objective', () => {
  const objective = new ReplacedTokenDetection();
  expect(() => objective.init({ backbone: new TinyBackbone({ vocabSize: 40, hiddenSize: 8, attention: 'causal' }), tokenizer, rng: new Rng(1) })).toThrow(/electra: needs a bidirectional backbone/);
  const noMask = { ...tokenizer, specialTokenIds: () => ({ pad: 0, cls: 1, sep: 2 }) } as unknown as TokenizerPlugin;
  expect(() => objective.init({ backbone: new TinyBackbone({ vocabSize: 40, hiddenSize: 8 }), tokenizer: noMask, rng: new Rng(1) })).toThrow(/no mask token/);
});
