import * as tf from '@tensorflow/tfjs-core';
import { collate, initBackend, Rng, type Example, type TokenizedDocument } from '@pretrain/core';
import { PieceTokenizer, TinyBackbone, streamOf, trainStep } from '@pretrain/core/testing';
import { ContextContrast, contextContrastOptionsSchema, partnerMatrix } from './contrast';
import { contextContrastPlugin } from './plugin';

beforeAll(() => initBackend({ log: false }));

const tokenizer = { ...new PieceTokenizer('a'), specialTokenIds: () => ({ pad: 0, cls: 1, sep: 2, mask: 3 }), isContinuation: () => false } as unknown as PieceTokenizer;

async function examplesOf(objective: ContextContrast, documents: TokenizedDocument[], maxLength: number): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of objective.exampleBuilder.build(streamOf(documents), { tokenizer, maxLength, rng: new Rng(1) })) out.push(e);
  return out;
}

describe('context-contrast', () => {
  test('pairs are consecutive examples with one id: two non-overlapping windows of one document, paired at random', async () => {
    // Token i of document d is 100 * d + i + 10: an id names its document and position.
    const documents = [40, 9, 25, 80].map((length, d) => ({ id: `d${d}`, sentences: [Int32Array.from({ length }, (_, i) => 100 * d + i + 10)] }));
    const examples = await examplesOf(new ContextContrast(contextContrastOptionsSchema.parse({ minDocumentTokens: 10 })), documents, 12);
    const bodies = examples.map((e) => Array.from(e.inputIds.subarray(1, -1)).map((id) => id - 10));
    // 40 tokens: 4 windows, 2 pairs; 9: skipped; 25: 2 windows, 1 pair; 80: 8 windows, 4 pairs.
    expect(bodies.map((b) => Math.floor(b[0] / 100))).toEqual([0, 0, 0, 0, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3]);
    for (const body of bodies) {
      expect(body).toHaveLength(10);
      expect(body[0] % 10).toBe(0); // window starts on the grid of window-sized steps
      expect(body.every((id, i) => id === body[0] + i)).toBe(true);
    }
    const ids = examples.map((e) => e.labels!.contextPair);
    for (let k = 0; k < ids.length; k += 2) {
      expect(ids[k + 1]).toBe(ids[k]);
      expect(bodies[k + 1][0]).not.toBe(bodies[k][0]);
    }
    expect(new Set(ids).size).toBe(7);
    // Every window of the 80-token document is used once; the pairing is not always (first half, second half).
    expect(bodies.slice(6).map((b) => b[0] - 300).sort((a, b) => a - b)).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    expect(contextContrastPlugin.meta).toEqual({ buildsExamples: true, requiresAttention: 'bidirectional' });
  });

  test('partner matrix marks the other window of each pair; a window without its partner in the batch is left out', () => {
    const { matrix, rows } = partnerMatrix(Int32Array.from([7, 7, 3, 9, 3]), 5);
    expect(rows).toBe(4);
    const marked = [...Array(5).keys()].map((i) => matrix.subarray(i * 5, i * 5 + 5).indexOf(1));
    expect(marked).toEqual([1, 0, 4, -1, 2]);
  });

  test('loss starts below log(batch − 1) + 1 and falls as windows of a document find each other; tensor count flat', async () => {
    const rng = new Rng(3);
    // Each document draws its words from its own small set: only the document ties two windows together.
    const documents: TokenizedDocument[] = Array.from({ length: 16 }, (_, d) => ({ id: `d${d}`, sentences: [Int32Array.from({ length: 24 }, () => 10 + ((d * 3 + rng.int(4)) % 60))] }));
    const objective = new ContextContrast(contextContrastOptionsSchema.parse({ temperature: 0.1 }));
    const examples = await examplesOf(objective, documents, 14);
    const backbone = new TinyBackbone({ vocabSize: 80, hiddenSize: 16, seed: 5 });
    objective.init({ backbone, tokenizer, rng: new Rng(4) });
    const batch = collate(examples.slice(0, 16), { padId: 0 });
    const optimizer = tf.train.adam(0.02);
    const first = trainStep(backbone, [objective], batch, optimizer);
    const tensors = tf.memory().numTensors;
    let last = first;
    for (let step = 1; step < 80; step++) last = trainStep(backbone, [objective], batch, optimizer);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(first).toBeLessThan(Math.log(15) + 1);
    expect(first).toBeGreaterThan(0.3);
    expect(last).toBeLessThan(0.1);
  });
});
