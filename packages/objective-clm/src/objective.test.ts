import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { batchToTensors, collate, initBackend, loadBackboneAndHeads, loadSafetensorsAsTensors, Rng, type BackbonePlugin, type Example } from '@pretrain/core';
import { CausalLanguageModeling } from './objective';
import { clmOptions } from './options';
import { clmPlugin } from './plugin';
import { TinyBackbone, PieceTokenizer, readSample, sampleDocuments, streamOf, tokenizeDocuments, trainStep } from '@pretrain/core/testing';

const FIXTURE = path.join(__dirname, '../../../fixtures/hf/gpt2');
const fixture = require(path.join(FIXTURE, 'fixture.json'));

beforeAll(() => initBackend({ log: false }));

async function collect(iterable: AsyncIterable<Example>): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

describe('CLM block packing on real text', () => {
  const tokenizer = new PieceTokenizer(readSample());
  const documents = tokenizeDocuments(sampleDocuments(), (t) => tokenizer.ids(t));
  const sep = tokenizer.specialTokenIds().sep!;
  const stream: number[] = documents.flatMap((d) => [...d.sentences.flatMap((s) => Array.from(s)), sep]);

  test('blocks are the document stream (separator after each document) cut into blockSize pieces', async () => {
    const clm = new CausalLanguageModeling(clmOptions({ blockSize: 100 }));
    const blocks = await collect(clm.exampleBuilder.build(streamOf(documents), { tokenizer, maxLength: 128, rng: new Rng(0) }));
    expect(blocks.length).toBe(Math.floor(stream.length / 100));
    expect(blocks.every((b) => b.inputIds.length === 100)).toBe(true);
    expect(blocks.flatMap((b) => Array.from(b.inputIds))).toEqual(stream.slice(0, blocks.length * 100));
    const separators = blocks.reduce((n, b) => n + b.specialTokensMask!.reduce((s, x) => s + x, 0), 0);
    expect(separators).toBe(stream.slice(0, blocks.length * 100).filter((id) => id === sep).length);
    expect(separators).toBeGreaterThanOrEqual(documents.length - 1);
  });

  test('blockSize 0 means maxLength; the remainder is kept on request; a named separator is used', async () => {
    const clm = new CausalLanguageModeling(clmOptions({ dropRemainder: false, separatorToken: '[MASK]' }));
    const blocks = await collect(clm.exampleBuilder.build(streamOf(documents.slice(0, 2)), { tokenizer, maxLength: 64, rng: new Rng(0) }));
    const total = documents.slice(0, 2).reduce((n, d) => n + d.sentences.reduce((m, s) => m + s.length, 0) + 1, 0);
    expect(blocks.slice(0, -1).every((b) => b.inputIds.length === 64)).toBe(true);
    expect(blocks.reduce((n, b) => n + b.inputIds.length, 0)).toBe(total);
    expect(blocks.flatMap((b) => Array.from(b.inputIds)).filter((id) => id === tokenizer.specialTokenIds().mask)).toHaveLength(2);
    const bad = new CausalLanguageModeling(clmOptions({ separatorToken: '<|nope|>' }));
    await expect(collect(bad.exampleBuilder.build(streamOf(documents), { tokenizer, maxLength: 64, rng: new Rng(0) }))).rejects.toThrow(/separatorToken "<\|nope\|>"/);
  });
});

describe('CLM loss against HF GPT2LMHeadModel (fixtures/hf/gpt2)', () => {
  test('logits and loss from the final hidden state match HF within 1e-4; nothing of its own to save', () => {
    const weights = loadSafetensorsAsTensors(path.join(FIXTURE, 'model/model.safetensors'));
    const outputs = loadSafetensorsAsTensors(path.join(FIXTURE, 'outputs.safetensors'));
    const wte = tf.variable(weights.get('transformer.wte.weight')!);
    const backbone = { info: { attention: 'causal' }, inputEmbeddings: () => wte } as unknown as BackbonePlugin;
    const clm = new CausalLanguageModeling();
    clm.init({ backbone, tokenizer: new PieceTokenizer('a'), rng: new Rng(0) });
    const sequenceOutput = outputs.get('hidden_states.2') as tf.Tensor3D;
    const logits = clm.logits(sequenceOutput);
    expect(tf.max(tf.abs(tf.sub(logits, outputs.get('logits')!))).dataSync()[0]).toBeLessThan(1e-4);
    const batch = collate(
      fixture.inputs.input_ids.map((ids: number[], r: number) => ({ inputIds: Int32Array.from(ids), tokenLabels: { clmLabels: Int32Array.from(fixture.labels.labels[r]) } })),
      { padId: 0 },
    );
    const { loss } = clm.loss({ sequenceOutput }, batchToTensors(batch));
    expect(Math.abs(loss.dataSync()[0] - fixture.outputs.loss)).toBeLessThan(1e-4);
    // Without a label field the input ids are the labels (as in the fixture): same loss.
    const unlabeled = collate(fixture.inputs.input_ids.map((ids: number[]) => ({ inputIds: Int32Array.from(ids) })), { padId: 0 });
    expect(Math.abs(clm.loss({ sequenceOutput }, batchToTensors(unlabeled)).loss.dataSync()[0] - fixture.outputs.loss)).toBeLessThan(1e-4);
    expect(clm.stateDict().size).toBe(0);
    expect(clm.variables().size).toBe(0);
  });

  test('owns no checkpoint tensor: a GPT-2 checkpoint loaded with CLM as its head reports what the backbone left', () => {
    // A backbone that takes `wte.weight` and reports every other name, as the GPT-2 backbone does.
    const backbone = { variables: () => new Map(), stateDict: () => new Map(), dispose: () => undefined, loadStateDict: (t: Map<string, tf.Tensor>) => ({ missing: [], unexpected: [...t.keys()].filter((n) => n !== 'wte.weight') }) };
    const tensors = new Map([['wte.weight', tf.zeros([2])], ['lm_head.extra', tf.zeros([2])]]);
    expect(loadBackboneAndHeads(backbone, tensors, [new CausalLanguageModeling()])).toEqual({ missing: [], unexpected: ['lm_head.extra'] });
    tf.dispose([...tensors.values()]);
  });

  test('padding positions are neither predicted nor used as labels', () => {
    const clm = new CausalLanguageModeling();
    const batch = collate([{ inputIds: Int32Array.from([5, 6, 7]) }, { inputIds: Int32Array.from([8, 9]) }], { padId: 0 });
    const { positions, labels } = clm.targets(batch);
    expect(Array.from(positions)).toEqual([0, 1, 3]);
    expect(Array.from(labels)).toEqual([6, 7, 9]);
  });
});

describe('CLM with a tiny causal backbone', () => {
  test('rejects a bidirectional backbone; meta says causal + builds examples', () => {
    const clm = new CausalLanguageModeling();
    expect(() => clm.init({ backbone: new TinyBackbone({ vocabSize: 10 }), tokenizer: new PieceTokenizer('a'), rng: new Rng(0) })).toThrow(/needs a causal backbone/);
    expect(() => clm.init({ backbone: new TinyBackbone({ vocabSize: 10 }), tokenizer: new PieceTokenizer('a'), rng: new Rng(0) })).toThrow(expect.objectContaining({ name: 'PretrainError', details: { path: 'objectives[clm]' } }));
    expect(clmPlugin.meta).toEqual({ buildsExamples: true, requiresAttention: 'causal' });
  });

  test('loss falls over a few dozen steps on real text; tensor count stays flat', async () => {
    const text = readSample().slice(0, 6000);
    const tokenizer = new PieceTokenizer(text, 200);
    const documents = tokenizeDocuments([{ id: 'x', sentences: text.split(/\n\s*\n/) }], (t) => tokenizer.ids(t));
    const clm = new CausalLanguageModeling(clmOptions({ blockSize: 32 }));
    const blocks = await collect(clm.exampleBuilder.build(streamOf(documents), { tokenizer, maxLength: 32, rng: new Rng(0) }));
    const backbone = new TinyBackbone({ vocabSize: tokenizer.getVocabSize(), hiddenSize: 32, attention: 'causal', seed: 2 });
    clm.init({ backbone, tokenizer, rng: new Rng(1) });
    const optimizer = tf.train.adam(0.02);
    const losses: number[] = [];
    let baseline = 0;
    for (let step = 0; step < 40; step++) {
      const start = (step * 8) % (blocks.length - 8);
      losses.push(trainStep(backbone, [clm], collate(blocks.slice(start, start + 8), { padId: 0 }), optimizer));
      if (step === 1) baseline = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(baseline);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(0.7 * mean(losses.slice(0, 5)));
  });
});
