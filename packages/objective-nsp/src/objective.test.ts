import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { batchToTensors, collate, initBackend, loadSafetensorsAsTensors, Rng, type BackbonePlugin } from '@pretrain/core';
import { NextSentencePrediction } from './objective';
import { nspPlugin } from './plugin';
import { pairExample } from './builder';
import { TinyBackbone, PieceTokenizer, trainStep } from '@pretrain/core/testing';

const FIXTURE = path.join(__dirname, '../../../fixtures/hf/bert-pretraining');
const fixture = require(path.join(FIXTURE, 'fixture.json'));

beforeAll(() => initBackend({ log: false }));

describe('NSP head against HF BertForPreTraining (fixtures/hf/bert-pretraining)', () => {
  test('seq_relationship logits and the NSP loss match HF within 1e-4; stateDict has HF names', () => {
    const weights = loadSafetensorsAsTensors(path.join(FIXTURE, 'model/model.safetensors'));
    const outputs = loadSafetensorsAsTensors(path.join(FIXTURE, 'outputs.safetensors'));
    const c = fixture.config;
    const backbone = { info: { hiddenSize: c.hidden_size, initializerRange: c.initializer_range } } as unknown as BackbonePlugin;
    const nsp = new NextSentencePrediction();
    nsp.init({ backbone, tokenizer: new PieceTokenizer('a'), rng: new Rng(0) });
    expect(nsp.loadStateDict(weights)).toEqual({ missing: [], unexpected: [] });

    // HF's pooler, written out: tanh(h[:, 0] · Wᵀ + b) on the last hidden state.
    const last = outputs.get('hidden_states.2') as tf.Tensor3D;
    const first = tf.reshape(tf.slice(last, [0, 0, 0], [2, 1, c.hidden_size]), [2, c.hidden_size]);
    const pooledOutput = tf.tanh(tf.add(tf.matMul(first, weights.get('bert.pooler.dense.weight')!, false, true), weights.get('bert.pooler.dense.bias')!)) as tf.Tensor2D;

    const logits = nsp.logits(pooledOutput);
    expect(tf.max(tf.abs(tf.sub(logits, outputs.get('seq_relationship_logits')!))).dataSync()[0]).toBeLessThan(1e-4);
    const batch = collate(
      fixture.inputs.input_ids.map((ids: number[], r: number) => ({ inputIds: Int32Array.from(ids), labels: { nextSentenceLabel: fixture.labels.next_sentence_label[r] } })),
      { padId: 0 },
    );
    const { loss } = nsp.loss({ sequenceOutput: last, pooledOutput }, batchToTensors(batch));
    expect(Math.abs(loss.dataSync()[0] - fixture.outputs.nsp_loss)).toBeLessThan(1e-4);

    const state = nsp.stateDict();
    expect([...state.keys()].sort()).toEqual(['cls.seq_relationship.bias', 'cls.seq_relationship.weight']);
    expect(state.get('cls.seq_relationship.weight')!.shape).toEqual([2, c.hidden_size]);
    expect(tf.max(tf.abs(tf.sub(state.get('cls.seq_relationship.weight')!, weights.get('cls.seq_relationship.weight')!))).dataSync()[0]).toBe(0);
  });

  test('a clear error when the batch lacks labels or the backbone has no pooler', () => {
    const tokenizer = new PieceTokenizer('a b c');
    const backbone = new TinyBackbone({ vocabSize: tokenizer.getVocabSize() });
    const nsp = new NextSentencePrediction();
    nsp.init({ backbone, tokenizer, rng: new Rng(0) });
    const tensors = batchToTensors(collate([{ inputIds: Int32Array.from([2, 5, 3]) }], { padId: 0 }));
    const output = backbone.forward(tensors);
    expect(() => nsp.loss(output, tensors)).toThrow(/no "nextSentenceLabel" field/);
    expect(() => nsp.loss({ sequenceOutput: output.sequenceOutput }, tensors)).toThrow(/no pooledOutput/);
    expect(() => nsp.loss(output, tensors)).toThrow(expect.objectContaining({ name: 'PretrainError', details: { path: 'objectives[nsp]' } }));
  });

  test('plugin meta: builds examples, needs a bidirectional model', () => {
    expect(nspPlugin.meta).toEqual({ buildsExamples: true, requiresAttention: 'bidirectional' });
    expect(() => nspPlugin.options.parse({ dupeFactor: 0 })).toThrow();
  });
});

describe('NSP training on a tiny backbone', () => {
  test('loss falls on a fixed batch; tensor count stays flat', () => {
    const text = 'the cat sat on the mat . it was warm . the dog ran to the park . it was cold . birds sing in trees . they fly south .';
    const tokenizer = new PieceTokenizer(text);
    const sentences = text.split(' . ').map((s) => tokenizer.ids(s));
    const examples = sentences.flatMap((a, i) => [
      pairExample(a, sentences[(i + 1) % sentences.length], { nextSentenceLabel: 0 }, tokenizer),
      pairExample(a, sentences[(i + 3) % sentences.length], { nextSentenceLabel: 1 }, tokenizer),
    ]);
    const batch = collate(examples, { padId: 0 });
    const backbone = new TinyBackbone({ vocabSize: tokenizer.getVocabSize(), hiddenSize: 32, seed: 5 });
    const nsp = new NextSentencePrediction();
    nsp.init({ backbone, tokenizer, rng: new Rng(1) });
    const optimizer = tf.train.adam(0.03);
    const losses: number[] = [];
    let baseline = 0;
    for (let step = 0; step < 60; step++) {
      losses.push(trainStep(backbone, [nsp], batch, optimizer));
      if (step === 1) baseline = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(baseline);
    expect(losses[losses.length - 1]).toBeLessThan(0.75 * losses[0]);
  });
});
