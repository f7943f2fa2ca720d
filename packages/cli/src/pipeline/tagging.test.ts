import { initBackend } from '@pretrain/core';
import { PieceTokenizer, readSample, TinyBackbone } from '@pretrain/core/testing';
import { TokenClassificationHead, tokenClassificationOptions } from '@pretrain/heads';
import { Trainer } from '@pretrain/trainer';
import { StopSignal } from '../interrupt';
import { encodeTaggedWords, runTagging, type TaggedSentence } from './tagging';

beforeAll(async () => {
  await initBackend({ log: false });
});

describe('encodeTaggedWords', () => {
  it('labels the first piece of each word, and leaves out the words that do not fit', () => {
    const tokenizer = new PieceTokenizer(readSample());
    const words = ['the', 'unbelievably', 'cat'];
    const pieces = words.map((w) => tokenizer.encode(w, null, { addSpecialTokens: false }).ids);
    const encoded = encodeTaggedWords(tokenizer, words, [7, 8, 9], 64);
    expect(Array.from(encoded.example.inputIds)).toEqual([2, ...pieces.flat(), 3]);
    const expectedWordIds = [null, ...pieces.flatMap((p, w) => p.map(() => w)), null];
    expect(encoded.wordIds).toEqual(expectedWordIds);
    const firsts = expectedWordIds.map((w, t) => (w !== null && expectedWordIds[t - 1] !== w ? [7, 8, 9][w] : -100));
    expect(Array.from(encoded.example.tokenLabels!.labels)).toEqual(firsts);
    // Room for [CLS], the first word and [SEP] only.
    const cut = encodeTaggedWords(tokenizer, words, [7, 8, 9], pieces[0].length + 2);
    expect(cut.wordIds.filter((w) => w !== null)).toEqual(pieces[0].map(() => 0));
    expect(cut.words).toBe(3);
  });
});

describe('runTagging', () => {
  it('scores every validation word, and the flags agree with an independent prediction of the fine-tuned model', async () => {
    const sample = readSample();
    const tokenizer = new PieceTokenizer(sample);
    // A tag the model can partly learn: is the word capitalised?
    const sentences: TaggedSentence[] = sample
      .split(/(?<=[.!?])\s+/)
      .map((s) => s.split(/\s+/).filter((w) => /^[A-Za-z]+$/.test(w)))
      .filter((words) => words.length >= 3)
      .slice(0, 80)
      .map((words) => ({ words, tags: words.map((w) => (/^[A-Z]/.test(w) ? 'CAP' : 'low')) }));
    const labels = ['CAP', 'low'];
    const backbone = new TinyBackbone({ vocabSize: tokenizer.getVocabSize(), seed: 3 });
    const head = new TokenClassificationHead(tokenClassificationOptions({ numLabels: 2, labels }));
    const env = { stop: new StopSignal(), log: () => undefined };
    const validation = sentences.slice(60);
    const run = await runTagging({ backbone, head, tokenizer, train: sentences.slice(0, 60), validation, labels, options: { maxSteps: 8, batchSize: 8, maxLength: 64, progress: 'none', learningRate: 1e-2 }, seed: 5 }, env);

    const words = validation.reduce((n, s) => n + s.words.length, 0);
    expect(run.validation.examples).toBe(words);
    expect(run.validation.correct).toHaveLength(words);
    expect(Array.from(run.validation.sentence)).toEqual(validation.flatMap((s, i) => s.words.map(() => i)));
    expect(run.validation.accuracy).toBeCloseTo(run.validation.correct.reduce((a, b) => a + b, 0) / words, 12);
    // Independently: predict each sentence with the same weights, take the argmax at each word's first piece.
    const trainer = new Trainer({ backbone, head, tokenizer, options: { progress: 'none', maxLength: 64 }, seed: 5, initialize: false });
    const encoded = validation.map((s) => encodeTaggedWords(tokenizer, s.words, s.tags.map((t) => labels.indexOf(t)), 64));
    const predictions = await trainer.predict(encoded.map((e) => e.example));
    const expected = encoded.flatMap((e, i) => {
      // Words cut off by maxLength were never predicted: they count as wrong.
      const flags = new Array<number>(validation[i].words.length).fill(0);
      e.wordIds.forEach((w, t) => {
        if (w === null || e.wordIds[t - 1] === w) return;
        const [a, b] = [predictions[i].values[t * 2], predictions[i].values[t * 2 + 1]];
        flags[w] = (a >= b ? 0 : 1) === labels.indexOf(validation[i].tags[w]) ? 1 : 0;
      });
      return flags;
    });
    expect(encoded.some((e, i) => new Set(e.wordIds.filter((w) => w !== null)).size < validation[i].words.length)).toBe(true);
    expect(Array.from(run.validation.correct)).toEqual(expected);
    trainer.dispose();
    backbone.dispose();
    head.dispose();
  });
});
