import { Rng, type Example, FullSentenceBuilder } from '@pretrain/core';
import { mlmPlugin } from './plugin';
import { PieceTokenizer, readSample, sampleDocuments, streamOf, tokenizeDocuments } from '@pretrain/core/testing';

describe('FullSentenceBuilder (RoBERTa FULL-SENTENCES)', () => {
  test('packs every token of every sentence, in order, into [CLS] … [SEP] rows of at most maxLength', async () => {
    const tokenizer = new PieceTokenizer(readSample());
    const documents = tokenizeDocuments(sampleDocuments(), (t) => tokenizer.ids(t));
    const { cls, sep } = tokenizer.specialTokenIds();
    const examples: Example[] = [];
    for await (const e of new FullSentenceBuilder({ separateDocuments: true }).build(streamOf(documents), { tokenizer, maxLength: 64, rng: new Rng(0) })) examples.push(e);

    const packed: number[] = [];
    let totalLength = 0;
    let badMarks = 0;
    for (const e of examples) {
      expect(e.inputIds.length).toBeLessThanOrEqual(64);
      expect(e.inputIds[0]).toBe(cls);
      expect(e.inputIds[e.inputIds.length - 1]).toBe(sep);
      totalLength += e.inputIds.length;
      for (let i = 1; i < e.inputIds.length - 1; i++) {
        if (e.specialTokensMask![i] !== (e.inputIds[i] === sep ? 1 : 0)) badMarks++;
        if (e.wordIds![i] >= 0 !== (e.inputIds[i] !== sep)) badMarks++;
        packed.push(e.inputIds[i]);
      }
    }
    // Document separators appear exactly between documents.
    const expected: number[] = [];
    documents.forEach((d, i) => {
      if (i > 0) expected.push(sep!);
      d.sentences.forEach((s) => expected.push(...s));
    });
    // A separator that would start a row is dropped; every other token is kept in order.
    expect(packed.filter((id) => id !== sep)).toEqual(expected.filter((id) => id !== sep));
    expect(packed.filter((id) => id === sep).length).toBeGreaterThanOrEqual(documents.length - 1 - examples.length);
    expect(badMarks).toBe(0);
    // Greedy packing of whole sentences: rows are mostly full.
    expect(totalLength / examples.length).toBeGreaterThan(0.75 * 64);
  });

  test('word ids start a new word at every non-continuation piece', async () => {
    const tokenizer = new PieceTokenizer('extraordinary things happen', 0);
    const ids = tokenizer.ids('extraordinary things'); // ext ##rao ##rdi ##nar ##y thi ##ngs
    const examples: Example[] = [];
    for await (const e of new FullSentenceBuilder({ separateDocuments: true }).build(streamOf([{ id: 'd', sentences: [ids] }]), { tokenizer, maxLength: 32, rng: new Rng(0) })) examples.push(e);
    expect(Array.from(examples[0].wordIds!)).toEqual([-1, 0, 0, 0, 0, 0, 1, 1, -1]);
  });

  test('plugin meta: builds examples only with buildExamples, needs a bidirectional model', () => {
    const builds = mlmPlugin.meta!.buildsExamples as (o: unknown) => boolean;
    expect(builds(mlmPlugin.options.parse({}))).toBe(false);
    expect(builds(mlmPlugin.options.parse({ buildExamples: true }))).toBe(true);
    expect(mlmPlugin.meta!.requiresAttention).toBe('bidirectional');
    expect(() => mlmPlugin.options.parse({ maskTokenProbability: 0.95, randomTokenProbability: 0.1 })).toThrow(/must not exceed 1/);
    expect(() => mlmPlugin.options.parse({ maskProb: 0.2 })).toThrow(/maskProb/);
  });
});
