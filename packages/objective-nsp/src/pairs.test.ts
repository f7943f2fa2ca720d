import { Rng, type Example } from '@pretrain/core';
import { SentencePairBuilder } from './builder';
import { nspOptions } from './options';
import { truncateSeqPair, type PairInstance } from './pairs';
import { PieceTokenizer, readSample, sampleDocuments, streamOf, tokenizeDocuments } from '@pretrain/core/testing';

const MAX_LENGTH = 64;
const tokenizer = new PieceTokenizer(readSample());
const documents = tokenizeDocuments(sampleDocuments(), (t) => tokenizer.ids(t));
const pool = documents.map((d) => d.sentences);
/** Each document's tokens as one comma-joined string, for independent substring checks. */
const documentText = pool.map((sentences) => `,${sentences.flatMap((s) => Array.from(s)).join(',')},`);
const asText = (tokens: number[]) => `,${tokens.join(',')},`;

function instances(dupeFactor: number, seed: number): PairInstance[] {
  const builder = new SentencePairBuilder({ ...nspOptions({ dupeFactor }), shuffle: false });
  return builder.instancesOf(pool, MAX_LENGTH, new Rng(seed));
}

describe('NSP sentence pairs on real text (Frankenstein letters and chapters)', () => {
  test('the sample is large enough to say something', () => {
    expect(pool.length).toBeGreaterThanOrEqual(20);
    expect(pool.flat().reduce((n, s) => n + s.length, 0)).toBeGreaterThan(70_000);
  });

  test('50% ± 2% of pairs are true continuations', () => {
    const all = instances(4, 1);
    expect(all.length).toBeGreaterThan(5000);
    const trueShare = all.filter((x) => !x.isRandomNext).length / all.length;
    expect(Math.abs(trueShare - 0.5)).toBeLessThanOrEqual(0.02);
  });

  test('no pair exceeds maxLength; a true pair never crosses a document boundary; random B comes from another document', () => {
    let trueChecked = 0;
    for (const x of instances(2, 2)) {
      expect(x.tokensA.length).toBeGreaterThan(0);
      expect(x.tokensB.length).toBeGreaterThan(0);
      expect(x.tokensA.length + x.tokensB.length + 3).toBeLessThanOrEqual(MAX_LENGTH);
      const home = documentText[x.a.document];
      const aAt = home.indexOf(asText(x.tokensA));
      if (aAt < 0) throw new Error(`segment A is not a contiguous piece of its document ${x.a.document}`);
      if (x.isRandomNext) {
        expect(x.b.document).not.toBe(x.a.document);
        if (!documentText[x.b.document].includes(asText(x.tokensB))) throw new Error('random B is not a contiguous piece of its document');
      } else {
        // Independent of the recorded provenance: B is found in A's document, after A.
        if (home.indexOf(asText(x.tokensB), aAt + 1) < 0) throw new Error(`true B does not follow A inside document ${x.a.document}`);
        expect(x.b).toEqual({ document: x.a.document, start: x.a.end, end: x.b.end });
        trueChecked++;
      }
    }
    expect(trueChecked).toBeGreaterThan(1000);
  });

  test('every sentence of the corpus is used (in segment A or a true segment B)', () => {
    const used = pool.map((sentences) => new Uint8Array(sentences.length));
    for (const x of instances(1, 3)) {
      for (let s = x.a.start; s < x.a.end; s++) used[x.a.document][s] = 1;
      if (!x.isRandomNext) for (let s = x.b.start; s < x.b.end; s++) used[x.b.document][s] = 1;
    }
    used.forEach((flags, d) => {
      const missing = flags.findIndex((f) => f === 0);
      if (missing >= 0) throw new Error(`document ${d} sentence ${missing} was never used`);
    });
  });

  test('built examples are [CLS] A [SEP] B [SEP] with type ids, word ids and the label', async () => {
    const builder = new SentencePairBuilder({ ...nspOptions({ documentPoolSize: 8 }) });
    const examples: Example[] = [];
    for await (const e of builder.build(streamOf(documents), { tokenizer, maxLength: MAX_LENGTH, rng: new Rng(4) })) examples.push(e);
    const { cls, sep } = tokenizer.specialTokenIds();
    expect(examples.length).toBeGreaterThan(1000);
    for (const e of examples.slice(0, 300)) {
      const ids = Array.from(e.inputIds);
      expect(ids.length).toBeLessThanOrEqual(MAX_LENGTH);
      expect(ids[0]).toBe(cls);
      expect(ids[ids.length - 1]).toBe(sep);
      const firstSep = ids.indexOf(sep!);
      expect(ids.filter((id) => id === sep)).toHaveLength(2);
      expect(Array.from(e.tokenTypeIds!)).toEqual(ids.map((_, i) => (i > firstSep ? 1 : 0)));
      expect(Array.from(e.specialTokensMask!)).toEqual(ids.map((id) => (id === cls || id === sep ? 1 : 0)));
      ids.forEach((id, i) => {
        if (i > 0 && e.wordIds![i] >= 0 && e.wordIds![i - 1] >= 0) expect(e.wordIds![i] === e.wordIds![i - 1]).toBe(tokenizer.isContinuation(id));
      });
      expect([0, 1]).toContain(e.labels!.nextSentenceLabel);
    }
  });

  test('truncateSeqPair trims the longer segment from both ends at random', () => {
    const rng = new Rng(5);
    const a = Array.from({ length: 40 }, (_, i) => i);
    const b = [100, 101, 102];
    truncateSeqPair(a, b, 20, rng);
    expect(a.length + b.length).toBe(20);
    expect(b).toEqual([100, 101, 102]);
    expect(a[0]).toBeGreaterThan(0); // some removed from the front
    expect(a[a.length - 1]).toBeLessThan(39); // and some from the back
    for (let i = 1; i < a.length; i++) expect(a[i]).toBe(a[i - 1] + 1); // what is left stays contiguous
  });
});
