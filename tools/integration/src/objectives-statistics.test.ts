// MLM and NSP statistics with the real bert-base-uncased tokenizer (@pretrain/tokenizer) on the
// Frankenstein sample: NSP builds the pairs, MLM masks them, as in a BERT pre-training run.
import * as fs from 'fs';
import * as path from 'path';
import { collate, initBackend, Rng, type Batch, type Example, type TokenizedDocument } from '@pretrain/core';
import { Tokenizer } from '@pretrain/tokenizer';
import { MaskedLanguageModeling, mlmOptions } from '@pretrain/objective-mlm';
import { createInstancesFromDocument, NextSentencePrediction, pairExample, nspOptions } from '@pretrain/objective-nsp';

const FIXTURES = path.join(__dirname, '../../../fixtures/data');
const tokenizer = Tokenizer.fromFile(path.join(FIXTURES, 'tokenizer/bert-base-uncased/tokenizer.json'));
const text = fs.readFileSync(path.join(FIXTURES, 'objectives/frankenstein-letters-ch20.txt'), 'utf8');
const sentenceTexts: string[][] = text
  .split(/^(?:Letter|Chapter) \d+\s*$/m)
  .filter((d) => d.trim())
  .map((d) =>
    d
      .split(/\n\s*\n/)
      .map((p) => p.replace(/\s+/g, ' ').trim())
      .filter(Boolean)
      .flatMap((p) => p.split(/(?<=[.!?][”’"]?)\s+(?=[“‘"A-Z_])/)),
  );
const documents: TokenizedDocument[] = sentenceTexts.map((sentences, i) => ({
  id: `frankenstein-${i}`,
  sentences: sentences.map((s) => Int32Array.from(tokenizer.encode(s, null, { addSpecialTokens: false }).ids)).filter((s) => s.length > 0),
}));

async function* stream<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}

let examples: Example[];
let batches: Batch[];

beforeAll(async () => {
  await initBackend({ log: false });
  const nsp = new NextSentencePrediction(nspOptions({ documentPoolSize: 1000 }));
  examples = [];
  for await (const e of nsp.exampleBuilder.build(stream(documents), { tokenizer, maxLength: 128, rng: new Rng(1) })) examples.push(e);
  batches = [];
  for (let i = 0; i < examples.length; i += 32) batches.push(collate(examples.slice(i, i + 32), { padId: tokenizer.specialTokenIds().pad! }));
});

test('NSP over the real tokenizer: 50% ± 2% true pairs (dupe factor 3), none longer than maxLength', async () => {
  const nsp = new NextSentencePrediction(nspOptions({ dupeFactor: 3 }));
  let total = 0;
  let isNext = 0;
  for await (const e of nsp.exampleBuilder.build(stream(documents), { tokenizer, maxLength: 128, rng: new Rng(2) })) {
    total++;
    if (e.labels!.nextSentenceLabel === 0) isNext++;
    if (e.inputIds.length > 128) throw new Error(`example of ${e.inputIds.length} tokens`);
  }
  expect(total).toBeGreaterThan(1500);
  expect(Math.abs(isNext / total - 0.5)).toBeLessThanOrEqual(0.02);
});

test('MLM on NSP pairs: 15% ± 0.3% of ≥100k maskable tokens, 80/10/10 ± 1%, never [CLS]/[SEP]/padding', () => {
  const mlm = new MaskedLanguageModeling();
  mlm.init({ backbone: { info: { attention: 'bidirectional', vocabSize: tokenizer.getVocabSize(), hiddenSize: 8, initializerRange: 0.02, hiddenAct: 'gelu' } } as never, tokenizer, rng: new Rng(0) });
  const { mask } = tokenizer.specialTokenIds();
  const counts = { maskable: 0, selected: 0, masked: 0, random: 0, kept: 0, specialSelected: 0 };
  const rng = new Rng(3);
  for (let pass = 0; pass < 2; pass++) {
    for (const batch of batches) {
      const out = mlm.transformBatch(batch, rng);
      const labels = out.fields.mlmLabels;
      for (let i = 0; i < labels.length; i++) {
        const maskable = batch.attentionMask[i] === 1 && batch.specialTokensMask[i] === 0;
        if (maskable) counts.maskable++;
        if (labels[i] === -100) continue;
        if (!maskable) counts.specialSelected++;
        counts.selected++;
        if (out.inputIds[i] === mask) counts.masked++;
        else if (out.inputIds[i] === batch.inputIds[i]) counts.kept++;
        else counts.random++;
      }
    }
  }
  expect(counts.specialSelected).toBe(0);
  expect(counts.maskable).toBeGreaterThanOrEqual(100_000);
  expect(Math.abs(counts.selected / counts.maskable - 0.15)).toBeLessThanOrEqual(0.003);
  expect(Math.abs(counts.masked / counts.selected - 0.8)).toBeLessThanOrEqual(0.01);
  expect(Math.abs(counts.random / counts.selected - 0.1)).toBeLessThanOrEqual(0.01);
  expect(Math.abs(counts.kept / counts.selected - 0.1)).toBeLessThanOrEqual(0.01);
});

test('whole-word masking never splits a WordPiece word', () => {
  const mlm = new MaskedLanguageModeling(mlmOptions({ wholeWordMasking: true }));
  mlm.init({ backbone: { info: { attention: 'bidirectional', vocabSize: tokenizer.getVocabSize(), hiddenSize: 8, initializerRange: 0.02, hiddenAct: 'gelu' } } as never, tokenizer, rng: new Rng(0) });
  const rng = new Rng(4);
  let multiPieceWords = 0;
  for (const batch of batches) {
    const labels = mlm.transformBatch(batch, rng).fields.mlmLabels;
    // Words from the ## marks, independently of the word ids the builder computed.
    for (let i = 0; i < labels.length; i++) {
      if (batch.attentionMask[i] === 0 || batch.specialTokensMask[i] === 1 || tokenizer.isContinuation(batch.inputIds[i])) continue;
      let end = i + 1;
      while (end % batch.seqLen !== 0 && batch.attentionMask[end] === 1 && tokenizer.isContinuation(batch.inputIds[end])) end++;
      if (end - i > 1) multiPieceWords++;
      const selected = Array.from(labels.subarray(i, end), (l) => l !== -100);
      if (selected.some(Boolean) && !selected.every(Boolean)) throw new Error(`word ${tokenizer.decode(batch.inputIds.subarray(i, end))} partly selected`);
    }
  }
  expect(multiPieceWords).toBeGreaterThan(1000);
});

test("the builders' word ids agree with the tokenizer's own word ids", () => {
  for (const sentence of sentenceTexts[3].slice(0, 50)) {
    const encoding = tokenizer.encode(sentence, null, { addSpecialTokens: false });
    const example = pairExample(encoding.ids, [tokenizer.specialTokenIds().unk!], {}, tokenizer);
    const ours = Array.from(example.wordIds!.subarray(1, 1 + encoding.ids.length));
    const theirs = encoding.wordIds.map((w) => w!);
    // Same grouping: a new word exactly where the tokenizer starts one.
    for (let i = 1; i < ours.length; i++) expect(ours[i] !== ours[i - 1]).toBe(theirs[i] !== theirs[i - 1]);
  }
});

test('NSP pairs over the real tokenizer: true pairs stay inside their document, every sentence is used', () => {
  const pool = documents.map((d) => d.sentences);
  const streams = pool.map((sentences) => `,${sentences.flatMap((x) => Array.from(x)).join(',')},`);
  const used = pool.map((sentences) => new Uint8Array(sentences.length));
  const rng = new Rng(5);
  let truePairs = 0;
  for (let d = 0; d < pool.length; d++) {
    for (const x of createInstancesFromDocument(pool, d, { maxLength: 128, shortSeqProbability: 0.1, randomNextProbability: 0.5 }, rng)) {
      expect(x.tokensA.length + x.tokensB.length + 3).toBeLessThanOrEqual(128);
      for (let i = x.a.start; i < x.a.end; i++) used[d][i] = 1;
      if (x.isRandomNext) continue;
      truePairs++;
      for (let i = x.b.start; i < x.b.end; i++) used[d][i] = 1;
      // Independently of the recorded ranges: A, then B, are found in this document's token stream.
      const aAt = streams[d].indexOf(`,${x.tokensA.join(',')},`);
      if (aAt < 0 || streams[d].indexOf(`,${x.tokensB.join(',')},`, aAt + 1) < 0) throw new Error(`a true pair of document ${d} is not in document order`);
    }
  }
  expect(truePairs).toBeGreaterThan(300);
  used.forEach((flags, d) => expect(flags.every((f) => f === 1) ? d : `document ${d} has unused sentences`).toBe(d));
});
