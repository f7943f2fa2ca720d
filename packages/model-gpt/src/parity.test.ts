/**
 * Parity with HF transformers' GPT2LMHeadModel (fixtures/hf/gpt2, transformers 4.36.2): every
 * hidden state, the logits of the tied LM head, the shifted LM loss and every parameter's gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@pretrain/core';
import { Gpt2Model } from './index';
import { int2d, loadHfFixture, maxAbs, maxAbsDiff } from '@pretrain/core/testing';
import { lmLogits, shiftedLmLoss } from './test-utils/lm-loss';

const ATOL = 1e-4;

beforeAll(async () => {
  await initBackend({ log: false });
});

describe('Gpt2Model vs HF GPT2LMHeadModel', () => {
  const fixture = loadHfFixture('gpt2');
  const labels = (fixture.json.labels as { labels: number[][] }).labels;
  let model: Gpt2Model;

  beforeAll(() => {
    model = Gpt2Model.fromPretrained(fixture.modelDir);
  });
  afterAll(() => model.dispose());

  it('loads every backbone tensor; the tied lm_head is neither missing nor unexpected', () => {
    expect(model.loadReport).toEqual({ missing: [], unexpected: [] });
  });

  it('matches every hidden state, the logits and the loss within 1e-4', () => {
    tf.tidy(() => {
      const inputs = { inputIds: int2d(fixture.json.inputs.input_ids), attentionMask: int2d(fixture.json.inputs.attention_mask) };
      const output = model.forward(inputs, { training: false, outputHiddenStates: true, outputAttentions: true });
      expect(output.hiddenStates).toHaveLength(3);
      output.hiddenStates!.forEach((h, n) => expect(maxAbsDiff(h, fixture.outputs.get(`hidden_states.${n}`)!)).toBeLessThan(ATOL));
      const logits = lmLogits(model, output.sequenceOutput);
      expect(maxAbsDiff(logits, fixture.outputs.get('logits')!)).toBeLessThan(ATOL);
      expect(maxAbsDiff(shiftedLmLoss(logits, labels), fixture.outputs.get('loss')!)).toBeLessThan(ATOL);
      // Causal: no attention to later positions.
      const probs = output.attentions![0].arraySync() as number[][][][];
      expect(probs[0][0][3].slice(4).every((p) => p === 0)).toBe(true);
    });
  });

  it('gives the same result without an attention mask (all ones)', () => {
    tf.tidy(() => {
      const output = model.forward({ inputIds: int2d(fixture.json.inputs.input_ids) }, { training: false });
      expect(maxAbsDiff(lmLogits(model, output.sequenceOutput), fixture.outputs.get('logits')!)).toBeLessThan(ATOL);
    });
  });

  // Repeating the batch leaves the mean loss and its gradients unchanged; 6 rows × 16 positions
  // take the other q|k|v path (weight split instead of output split).
  it.each([1, 3])('matches the gradient of the loss for every parameter without leaking tensors (batch ×%i)', (repeat) => {
    const rows = Array.from({ length: repeat }, () => fixture.json.inputs.input_ids).flat();
    const labelRows = Array.from({ length: repeat }, () => labels).flat();
    const inputIds = int2d(rows);
    const hfName = new Map([...model.variables()].map(([name, v]) => [v.name, `transformer.${name}`]));
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => shiftedLmLoss(lmLogits(model, model.forward({ inputIds }, { training: false }).sequenceOutput), labelRows), [...model.variables().values()]);
      expect(maxAbsDiff(value, fixture.outputs.get('loss')!)).toBeLessThan(ATOL);
      expect(Object.keys(grads)).toHaveLength(fixture.grads!.size);
      for (const [varName, grad] of Object.entries(grads)) {
        const name = hfName.get(varName)!;
        const expected = fixture.grads!.get(name)!;
        const diff = maxAbsDiff(grad, expected);
        if (diff > ATOL * Math.max(1, maxAbs(expected.data))) throw new Error(`gradient of ${name} differs from HF by ${diff}`);
      }
    });
    expect(tf.memory().numTensors).toBe(before);
    inputIds.dispose();
  });
});
