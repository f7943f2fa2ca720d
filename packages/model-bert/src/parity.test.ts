/**
 * Parity with HF transformers (fixtures/hf, produced by transformers 4.36.2 on torch): every
 * hidden state, the heads' outputs, the loss, and the gradient of the loss for every parameter.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@pretrain/core';
import { BertModel, bertParameterSpecs } from './index';
import { crossEntropy, int2d, loadHfFixture, maxAbs, maxAbsDiff, type HfFixture } from '@pretrain/core/testing';
import { PretrainingHeadsDouble, QuestionAnsweringDouble, SequenceClassifierDouble } from './test-utils/heads';

const ATOL = 1e-4;

beforeAll(async () => {
  await initBackend({ log: false });
});

function inputsOf(fixture: HfFixture) {
  const i = fixture.json.inputs;
  return { inputIds: int2d(i.input_ids), attentionMask: int2d(i.attention_mask), tokenTypeIds: int2d(i.token_type_ids) };
}

/** Gradient within atol of HF's, or within atol relative to the largest entry of HF's gradient. */
function expectGradClose(name: string, actual: tf.Tensor, expected: { shape: number[]; data: Float32Array }) {
  const diff = maxAbsDiff(actual, expected);
  const scale = Math.max(1, maxAbs(expected.data));
  if (diff > ATOL * scale) throw new Error(`gradient of ${name} differs from HF by ${diff} (max |grad| ${maxAbs(expected.data)})`);
}

describe('BertModel vs HF BertForPreTraining', () => {
  const fixture = loadHfFixture('bert-pretraining');
  const config = fixture.json.config as { hidden_size: number; vocab_size: number; layer_norm_eps: number };
  let model: BertModel;
  let heads: PretrainingHeadsDouble;

  beforeAll(() => {
    heads = new PretrainingHeadsDouble(config.hidden_size, config.vocab_size, config.layer_norm_eps);
    model = BertModel.fromPretrained(fixture.modelDir, { heads: [heads] });
  });
  afterAll(() => {
    model.dispose();
    heads.dispose();
  });

  it('loads every tensor of the checkpoint (backbone + heads)', () => {
    expect(model.loadReport).toEqual({ missing: [], unexpected: [] });
  });

  it('matches every hidden state, both heads and the losses within 1e-4', () => {
    const labels = fixture.json.labels as { labels: number[][]; next_sentence_label: number[] };
    tf.tidy(() => {
      const output = model.forward(inputsOf(fixture), { training: false, outputHiddenStates: true, outputAttentions: true });
      expect(output.hiddenStates).toHaveLength(3);
      output.hiddenStates!.forEach((h, n) => expect(maxAbsDiff(h, fixture.outputs.get(`hidden_states.${n}`)!)).toBeLessThan(ATOL));
      expect(output.attentions).toHaveLength(2);
      expect(output.attentions![0].shape).toEqual([2, 2, 16, 16]);
      const result = heads.loss(output, model.inputEmbeddings(), labels.labels, labels.next_sentence_label);
      expect(maxAbsDiff(result.prediction, fixture.outputs.get('prediction_logits')!)).toBeLessThan(ATOL);
      expect(maxAbsDiff(result.seqRelationship, fixture.outputs.get('seq_relationship_logits')!)).toBeLessThan(ATOL);
      expect(maxAbsDiff(result.mlmLoss, fixture.outputs.get('mlm_loss')!)).toBeLessThan(ATOL);
      expect(maxAbsDiff(result.nspLoss, fixture.outputs.get('nsp_loss')!)).toBeLessThan(ATOL);
      expect(maxAbsDiff(result.loss, fixture.outputs.get('loss')!)).toBeLessThan(ATOL);
    });
  });

  it('matches the gradient of the loss for every parameter (eval mode) without leaking tensors', () => {
    const labels = fixture.json.labels as { labels: number[][]; next_sentence_label: number[] };
    const inputs = inputsOf(fixture);
    const named = new Map([...model.variables(), ...heads.variables()]);
    const hfName = new Map([...model.variables()].map(([name, v]) => [v.name, `bert.${name}`]));
    for (const [name, v] of heads.variables()) hfName.set(v.name, name);
    const dense = new Set(bertParameterSpecs(model.config).filter((s) => s.kind === 'dense').map((s) => `bert.${s.name}`));
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => heads.loss(model.forward(inputs, { training: false }), model.inputEmbeddings(), labels.labels, labels.next_sentence_label).loss, [...named.values()]);
      expect(maxAbsDiff(value, fixture.outputs.get('loss')!)).toBeLessThan(ATOL);
      const compared = new Set<string>();
      for (const [varName, grad] of Object.entries(grads)) {
        const name = hfName.get(varName)!;
        const hfLayout = dense.has(name) ? tf.transpose(grad) : grad;
        expectGradClose(name, hfLayout, fixture.grads!.get(name)!);
        compared.add(name);
      }
      expect([...compared].sort()).toEqual([...fixture.grads!.keys()].sort());
    });
    expect(tf.memory().numTensors).toBe(before);
    Object.values(inputs).forEach((t) => t.dispose());
  });
});

describe('BertModel vs HF BertForSequenceClassification', () => {
  it('matches hidden states, logits, loss and every gradient', () => {
    const fixture = loadHfFixture('bert-seqcls');
    const classifier = new SequenceClassifierDouble(64, 3);
    const model = BertModel.fromPretrained(fixture.modelDir, { heads: [classifier] });
    expect(model.loadReport).toEqual({ missing: [], unexpected: [] });
    const labels = (fixture.json.labels as { labels: number[] }).labels;
    const inputs = inputsOf(fixture);
    const named = new Map([...model.variables(), ...classifier.variables()]);
    const hfName = new Map([...named].map(([name, v]) => [v.name, name.startsWith('classifier') ? name : `bert.${name}`]));
    const dense = new Set(bertParameterSpecs(model.config).filter((s) => s.kind === 'dense').map((s) => `bert.${s.name}`));
    tf.tidy(() => {
      const output = model.forward(inputs, { training: false, outputHiddenStates: true });
      output.hiddenStates!.forEach((h, n) => expect(maxAbsDiff(h, fixture.outputs.get(`hidden_states.${n}`)!)).toBeLessThan(ATOL));
      expect(maxAbsDiff(classifier.logits(output), fixture.outputs.get('logits')!)).toBeLessThan(ATOL);
      const { value, grads } = tf.variableGrads(() => crossEntropy(classifier.logits(model.forward(inputs, { training: false })), labels), [...named.values()]);
      expect(maxAbsDiff(value, fixture.outputs.get('loss')!)).toBeLessThan(ATOL);
      expect(Object.keys(grads)).toHaveLength(fixture.grads!.size);
      for (const [varName, grad] of Object.entries(grads)) {
        const name = hfName.get(varName)!;
        expectGradClose(name, dense.has(name) ? tf.transpose(grad) : grad, fixture.grads!.get(name)!);
      }
    });
    model.dispose();
    classifier.dispose();
    Object.values(inputs).forEach((t) => t.dispose());
  });
});

describe('BertModel vs HF BertForQuestionAnswering (no pooler, padded batch)', () => {
  it('matches the logits, the loss and every gradient — the pad row gets no lookup gradient, as nn.Embedding(padding_idx)', () => {
    const fixture = loadHfFixture('bert-qa');
    const qa = new QuestionAnsweringDouble(64);
    const model = BertModel.fromPretrained(fixture.modelDir, { heads: [qa], addPoolingLayer: false });
    expect(model.loadReport).toEqual({ missing: [], unexpected: [] });
    const labels = fixture.json.labels as { start_positions: number[]; end_positions: number[] };
    const inputs = inputsOf(fixture);
    const named = new Map([...model.variables(), ...qa.variables()]);
    const hfName = new Map([...named].map(([name, v]) => [v.name, name.startsWith('qa_outputs') ? name : `bert.${name}`]));
    const dense = new Set(bertParameterSpecs(model.config, false).filter((s) => s.kind === 'dense').map((s) => `bert.${s.name}`));
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const loss = () => {
        const { start, end } = qa.logits(model.forward(inputs, { training: false }));
        return tf.div(tf.add(crossEntropy(start, labels.start_positions), crossEntropy(end, labels.end_positions)), 2) as tf.Scalar;
      };
      const { start, end } = qa.logits(model.forward(inputs, { training: false }));
      expect(maxAbsDiff(start, fixture.outputs.get('start_logits')!)).toBeLessThan(ATOL);
      expect(maxAbsDiff(end, fixture.outputs.get('end_logits')!)).toBeLessThan(ATOL);
      const { value, grads } = tf.variableGrads(loss, [...named.values()]);
      expect(maxAbsDiff(value, fixture.outputs.get('loss')!)).toBeLessThan(ATOL);
      expect(Object.keys(grads)).toHaveLength(fixture.grads!.size);
      for (const [varName, grad] of Object.entries(grads)) {
        const name = hfName.get(varName)!;
        expectGradClose(name, dense.has(name) ? tf.transpose(grad) : grad, fixture.grads!.get(name)!);
      }
      const padRow = tf.slice(grads[model.inputEmbeddings().name], [0, 0], [1, 64]);
      expect(tf.max(tf.abs(padRow)).dataSync()[0]).toBe(0);
    });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    qa.dispose();
    Object.values(inputs).forEach((t) => t.dispose());
  });
});
