import * as tf from '@tensorflow/tfjs-core';
import { batchToTensors, collate, disposeBatchTensors, initBackend, Rng, type Example, type TokenizedDocument } from '@pretrain/core';
import { PieceTokenizer, TinyBackbone, readSample, sampleDocuments, streamOf, tokenizeDocuments, trainStep } from '@pretrain/core/testing';
import { contextWindows } from './builder';
import { ContextBagOfWords, CONTEXT_BOW_PARAMETER_NAMES, targetDistribution } from './objective';
import { contextBowOptions } from './options';
import { contextBowPlugin } from './plugin';
import { pretrainPlugins } from './index';

beforeAll(() => initBackend({ log: false }));

async function examplesOf(objective: ContextBagOfWords, documents: TokenizedDocument[], tokenizer: PieceTokenizer, maxLength: number, seed = 1): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of objective.exampleBuilder.build(streamOf(documents), { tokenizer, maxLength, rng: new Rng(seed) })) out.push(e);
  return out;
}

describe('context windows', () => {
  // Token i of the document is id 1000 + i, so a target id names the position it was drawn from.
  const document = Int32Array.from({ length: 300 }, (_, i) => 1000 + i);

  test('cover the document in order, each at most the capacity and half the document, targets from within the radius outside the window', () => {
    const options = contextBowOptions({ radius: 40, targetsPerWindow: 25 });
    const windows = contextWindows(document, 30, options, new Rng(1));
    expect(windows.map((w) => [w.start, w.end])).toEqual(Array.from({ length: 10 }, (_, k) => [30 * k, 30 * k + 30]));
    for (const w of windows) {
      expect(w.targets).toHaveLength(25);
      for (const id of w.targets) {
        const at = id - 1000;
        const outside = at < w.start || at >= w.end;
        const near = at >= w.start - 40 && at < w.end + 40;
        if (!outside || !near) throw new Error(`target at ${at} for window [${w.start}, ${w.end})`);
      }
    }
    // Both sides are drawn from: the middle windows get targets before and after.
    const middle = windows[5];
    expect(middle.targets.some((id) => id - 1000 < middle.start)).toBe(true);
    expect(middle.targets.some((id) => id - 1000 >= middle.end)).toBe(true);
  });

  test('a short document gets two halves that predict each other; one under minDocumentTokens gets none', () => {
    const short = Int32Array.from({ length: 10 }, (_, i) => i + 5);
    const windows = contextWindows(short, 126, contextBowOptions(), new Rng(2));
    expect(windows.map((w) => [w.start, w.end])).toEqual([
      [0, 5],
      [5, 10],
    ]);
    expect(windows[0].targets.every((id) => id >= 10)).toBe(true);
    expect(windows[1].targets.every((id) => id < 10)).toBe(true);
    expect(windows[0].targets).toHaveLength(7); // at most the example's length: 5 tokens + [CLS] + [SEP]
    expect(contextWindows(short.subarray(0, 7), 126, contextBowOptions(), new Rng(2))).toEqual([]);
  });

  test('subsample: a token that is most of the text is rarely drawn; rare tokens always are', async () => {
    const rng = new Rng(4);
    // 90 % token 50, the rest tokens 60..99.
    const documents: TokenizedDocument[] = Array.from({ length: 30 }, (_, d) => ({ id: `d${d}`, sentences: [Int32Array.from({ length: 120 }, () => (rng.float() < 0.9 ? 50 : 60 + rng.int(40)))] }));
    const share = async (subsample: number) => {
      const objective = new ContextBagOfWords(contextBowOptions({ subsample }));
      const examples = await examplesOf(objective, documents, { ...new PieceTokenizer('a'), specialTokenIds: () => ({ pad: 0, cls: 1, sep: 2 }), isContinuation: () => false } as unknown as PieceTokenizer, 32);
      const targets = examples.flatMap((e) => Array.from(e.tokenLabels!.contextBowTargets).filter((t) => t >= 0));
      return targets.filter((t) => t === 50).length / targets.length;
    };
    expect(await share(0)).toBeGreaterThan(0.85);
    // keep(50) = sqrt(0.001 / 0.9) ≈ 0.033; keep(rare) = 1: about 0.9 * 0.033 / (0.9 * 0.033 + 0.1) ≈ 0.23.
    const subsampled = await share(0.001);
    expect(subsampled).toBeGreaterThan(0.1);
    expect(subsampled).toBeLessThan(0.4);
  });

  test('examples are [CLS] window [SEP] with the targets as a per-token field, windows never cross documents', async () => {
    const text = readSample().slice(0, 20000);
    const tokenizer = new PieceTokenizer(text, 300);
    const documents = tokenizeDocuments(sampleDocuments(text), (t) => tokenizer.ids(t));
    const examples = await examplesOf(new ContextBagOfWords(), documents, tokenizer, 32);
    const { cls, sep } = tokenizer.specialTokenIds();
    const texts = documents.map((d) => `,${d.sentences.flatMap((s) => Array.from(s)).join(',')},`);
    expect(examples.length).toBeGreaterThan(20);
    for (const e of examples) {
      expect(e.inputIds.length).toBeLessThanOrEqual(32);
      expect([e.inputIds[0], e.inputIds[e.inputIds.length - 1]]).toEqual([cls, sep]);
      const body = `,${Array.from(e.inputIds.subarray(1, -1)).join(',')},`;
      expect(texts.some((t) => t.includes(body))).toBe(true);
      const targets = e.tokenLabels!.contextBowTargets;
      expect(targets).toHaveLength(e.inputIds.length);
      expect(Array.from(targets).filter((t) => t >= 0).length).toBe(Math.min(32, e.inputIds.length));
    }
    expect(contextBowPlugin.meta).toEqual({ buildsExamples: true, requiresAttention: 'bidirectional' });
    expect(pretrainPlugins.map((p) => p.name)).toEqual(['context-bow', 'context-contrast']);
  });
});

describe('context bag-of-words loss', () => {
  test('target distribution: each row with targets sums to 1; ids outside the vocabulary are an error naming the row', () => {
    const field = Int32Array.from([3, 3, 5, -100, -100, -100, -100, -100, 1, -100, -100, -100]);
    const { distribution, rows } = targetDistribution(field, 3, 4, 6);
    expect(rows).toBe(2);
    expect(Array.from(distribution.subarray(0, 6)).map((x) => +x.toFixed(4))).toEqual([0, 0, 0, 0.6667, 0, 0.3333]);
    expect(Array.from(distribution.subarray(6, 12))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(distribution.subarray(12, 18))).toEqual([0, 1, 0, 0, 0, 0]);
    expect(() => targetDistribution(Int32Array.from([9, -100]), 1, 2, 6)).toThrow(/target id 9 in row 0 is outside the vocabulary \(6 tokens\)/);
  });

  test('the batch loss is the mean of the rows’ losses: padding changes nothing', async () => {
    const text = readSample().slice(0, 8000);
    const tokenizer = new PieceTokenizer(text, 200);
    const documents = tokenizeDocuments(sampleDocuments(text), (t) => tokenizer.ids(t));
    const objective = new ContextBagOfWords();
    const examples = (await examplesOf(objective, documents, tokenizer, 24)).slice(0, 6);
    const backbone = new TinyBackbone({ vocabSize: tokenizer.getVocabSize(), hiddenSize: 16, seed: 3 });
    objective.init({ backbone, tokenizer, rng: new Rng(4) });
    const lossOf = (batch: Example[], maxLength?: number) => {
      const tensors = batchToTensors(collate(batch, { padId: 0, maxLength }));
      try {
        return tf.tidy(() => objective.loss(backbone.forward(tensors, { training: false }), tensors).loss.dataSync()[0]);
      } finally {
        disposeBatchTensors(tensors);
      }
    };
    const rows = examples.map((e) => lossOf([e]));
    expect(lossOf(examples, 40)).toBeCloseTo(rows.reduce((a, b) => a + b) / rows.length, 4);
    expect(new Set(rows.map((r) => r.toFixed(4))).size).toBeGreaterThan(1);
  });

  test("pool 'embeddings' reads the mean of the window's word embeddings, not the layers above them", async () => {
    const text = readSample().slice(0, 6000);
    const tokenizer = new PieceTokenizer(text, 200);
    const documents = tokenizeDocuments(sampleDocuments(text), (t) => tokenizer.ids(t));
    const lossAfterChangingLayers = async (pool: 'hidden' | 'embeddings') => {
      const objective = new ContextBagOfWords(contextBowOptions({ pool }));
      const examples = (await examplesOf(objective, documents, tokenizer, 24)).slice(0, 8);
      const backbone = new TinyBackbone({ vocabSize: tokenizer.getVocabSize(), hiddenSize: 16, seed: 3 });
      objective.init({ backbone, tokenizer, rng: new Rng(4) });
      const tensors = batchToTensors(collate(examples, { padId: 0 }));
      const lossNow = () => tf.tidy(() => objective.loss(backbone.forward(tensors, { training: false }), tensors).loss.dataSync()[0]);
      const before = lossNow();
      const mix = backbone.variables().get('mix.weight')!;
      mix.assign(tf.mul(mix, -3));
      const after = lossNow();
      disposeBatchTensors(tensors);
      return Math.abs(after - before);
    };
    expect(await lossAfterChangingLayers('embeddings')).toBe(0);
    expect(await lossAfterChangingLayers('hidden')).toBeGreaterThan(1e-3);
  });

  test('state dict: the transform and bias under context_bow.*; the decoder is the word embeddings (not stored)', () => {
    const objective = new ContextBagOfWords();
    const tokenizer = new PieceTokenizer('a b c');
    objective.init({ backbone: new TinyBackbone({ vocabSize: 12, hiddenSize: 8 }), tokenizer, rng: new Rng(0) });
    const state = objective.stateDict();
    expect([...state.keys()].sort()).toEqual(Object.values(CONTEXT_BOW_PARAMETER_NAMES).sort());
    expect(state.get(CONTEXT_BOW_PARAMETER_NAMES.bias)!.shape).toEqual([12]);
    const other = new ContextBagOfWords();
    other.init({ backbone: new TinyBackbone({ vocabSize: 12, hiddenSize: 8 }), tokenizer, rng: new Rng(5) });
    expect(other.loadStateDict(state)).toEqual({ missing: [], unexpected: [] });
    tf.dispose([...state.values()]);
    objective.dispose();
    other.dispose();
  });

  test('words that share documents end up closer than words that fill the same slots in other documents (the point of the objective)', async () => {
    // Two kinds of documents over one frame "the film was X": kind A uses words 10–13, kind B words 14–17,
    // in the same slot. Only which words share a document tells A's words from B's.
    const rng = new Rng(7);
    const documents: TokenizedDocument[] = Array.from({ length: 40 }, (_, d) => {
      const words = d % 2 === 0 ? [10, 11, 12, 13] : [14, 15, 16, 17];
      return { id: `d${d}`, sentences: Array.from({ length: 6 }, () => Int32Array.from([5, 6, 7, words[rng.int(4)]])) };
    });
    const tokenizer = new PieceTokenizer('a');
    const backbone = new TinyBackbone({ vocabSize: 20, hiddenSize: 16, seed: 11 });
    const objective = new ContextBagOfWords(contextBowOptions({ radius: 64 }));
    const examples = await examplesOf(objective, documents, { ...tokenizer, specialTokenIds: () => ({ pad: 0, cls: 1, sep: 2, mask: 3 }), isContinuation: () => false } as unknown as PieceTokenizer, 6); // one sentence, one of the kind's words, per window
    objective.init({ backbone, tokenizer, rng: new Rng(8) });
    const cosine = () =>
      tf.tidy(() => {
        const e = tf.gather(backbone.inputEmbeddings(), [10, 11, 12, 13, 14, 15, 16, 17]);
        const n = tf.div(e, tf.norm(e, 2, 1, true));
        const c = tf.matMul(n, n, false, true).arraySync() as number[][];
        let same = 0;
        let across = 0;
        for (let i = 0; i < 8; i++) {
          for (let j = 0; j < 8; j++) {
            if (i === j) continue;
            if (Math.floor(i / 4) === Math.floor(j / 4)) same += c[i][j] / 24;
            else across += c[i][j] / 32;
          }
        }
        return same - across;
      });
    const before = cosine();
    const optimizer = tf.train.adam(0.02);
    const batchAt = (step: number) => collate(examples.slice((step * 16) % 240, ((step * 16) % 240) + 16), { padId: 0 });
    trainStep(backbone, [objective], batchAt(0), optimizer); // Adam makes its slots in the first step
    const tensors = tf.memory().numTensors;
    for (let step = 1; step < 150; step++) trainStep(backbone, [objective], batchAt(step), optimizer);
    expect(tf.memory().numTensors).toBe(tensors);
    const after = cosine();
    expect(before).toBeLessThan(0.2);
    expect(after).toBeGreaterThan(before + 0.6);
  });
});
