import * as tf from '@tensorflow/tfjs-core';
import { collate, initBackend, Rng, type Example } from '@pretrain/core';
import { orderInstancesFromDocument } from './builder';
import { SentenceOrderPrediction } from './objective';
import { sopOptions } from './options';
import { sopPlugin } from './plugin';
import { TinyBackbone, PieceTokenizer, readSample, sampleDocuments, streamOf, tokenizeDocuments, trainStep } from '@pretrain/core/testing';

beforeAll(() => initBackend({ log: false }));

describe('SOP segment pairs on real text', () => {
  const tokenizer = new PieceTokenizer(readSample());
  const documents = tokenizeDocuments(sampleDocuments(), (t) => tokenizer.ids(t));

  test('half the pairs are swapped; both segments are consecutive text of one document; none exceeds maxLength', () => {
    const rng = new Rng(1);
    let swapped = 0;
    let total = 0;
    for (const document of [...documents, ...documents]) {
      const text = `,${document.sentences.flatMap((s) => Array.from(s)).join(',')},`;
      for (const x of orderInstancesFromDocument(document.sentences, 64, sopOptions(), rng)) {
        total++;
        if (x.swapped) swapped++;
        expect(x.tokensA.length + x.tokensB.length + 3).toBeLessThanOrEqual(64);
        const [first, second] = x.swapped ? [x.tokensB, x.tokensA] : [x.tokensA, x.tokensB];
        const at = text.indexOf(`,${first.join(',')},`);
        if (at < 0 || text.indexOf(`,${second.join(',')},`, at + 1) < 0) throw new Error('segments are not in document order');
      }
    }
    expect(total).toBeGreaterThan(1500);
    expect(Math.abs(swapped / total - 0.5)).toBeLessThanOrEqual(0.03);
  });

  test('examples are [CLS] A [SEP] B [SEP] with the sentenceOrderLabel', async () => {
    const sop = new SentenceOrderPrediction();
    const examples: Example[] = [];
    for await (const e of sop.exampleBuilder.build(streamOf(documents.slice(0, 2)), { tokenizer, maxLength: 64, rng: new Rng(2) })) examples.push(e);
    const { cls, sep } = tokenizer.specialTokenIds();
    for (const e of examples) {
      expect(e.inputIds[0]).toBe(cls);
      expect(Array.from(e.inputIds).filter((id) => id === sep)).toHaveLength(2);
      expect([0, 1]).toContain(e.labels!.sentenceOrderLabel);
    }
    expect(sopPlugin.meta).toEqual({ buildsExamples: true, requiresAttention: 'bidirectional' });
  });
});

describe('SOP head', () => {
  test('state dict uses ALBERT names in HF layout and round-trips', () => {
    const sop = new SentenceOrderPrediction();
    sop.init({ backbone: new TinyBackbone({ vocabSize: 10, hiddenSize: 8 }), tokenizer: new PieceTokenizer('a'), rng: new Rng(0) });
    const state = sop.stateDict();
    expect([...state.keys()].sort()).toEqual(['sop_classifier.classifier.bias', 'sop_classifier.classifier.weight']);
    expect(state.get('sop_classifier.classifier.weight')!.shape).toEqual([2, 8]);
    const other = new SentenceOrderPrediction();
    other.init({ backbone: new TinyBackbone({ vocabSize: 10, hiddenSize: 8 }), tokenizer: new PieceTokenizer('a'), rng: new Rng(9) });
    expect(other.loadStateDict(state)).toEqual({ missing: [], unexpected: [] });
    const pooled = tf.randomNormal([3, 8]) as tf.Tensor2D;
    expect(tf.max(tf.abs(tf.sub(sop.logits(pooled), other.logits(pooled)))).dataSync()[0]).toBe(0);
  });

  test('loss falls when training on a fixed batch of swapped and unswapped pairs', async () => {
    const text = readSample().slice(0, 8000);
    const tokenizer = new PieceTokenizer(text, 300);
    const documents = tokenizeDocuments(sampleDocuments(text), (t) => tokenizer.ids(t));
    const sop = new SentenceOrderPrediction();
    const examples: Example[] = [];
    for await (const e of sop.exampleBuilder.build(streamOf(documents), { tokenizer, maxLength: 32, rng: new Rng(3) })) examples.push(e);
    const batch = collate(examples.slice(0, 16), { padId: 0 });
    const backbone = new TinyBackbone({ vocabSize: tokenizer.getVocabSize(), hiddenSize: 32, seed: 4 });
    sop.init({ backbone, tokenizer, rng: new Rng(1) });
    const optimizer = tf.train.adam(0.03);
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) losses.push(trainStep(backbone, [sop], batch, optimizer));
    expect(losses[losses.length - 1]).toBeLessThan(0.75 * losses[0]);
  });
});
