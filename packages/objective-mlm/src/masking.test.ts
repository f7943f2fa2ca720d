import { collate, initBackend, Rng, type Batch, type Example, FullSentenceBuilder } from '@pretrain/core';
import { MaskedLanguageModeling } from './objective';
import { mlmOptions, type MlmOptions } from './options';
import { PieceTokenizer, readSample, sampleDocuments, streamOf, tokenizeDocuments, TinyBackbone } from '@pretrain/core/testing';

const MAX_LENGTH = 128;
let tokenizer: PieceTokenizer;
let batches: Batch[];

async function collectExamples(maxLength: number): Promise<Example[]> {
  const documents = tokenizeDocuments(sampleDocuments(), (t) => tokenizer.ids(t));
  const examples: Example[] = [];
  const builder = new FullSentenceBuilder({ separateDocuments: true });
  for await (const e of builder.build(streamOf(documents), { tokenizer, maxLength, rng: new Rng(1) })) examples.push(e);
  return examples;
}

function objective(options: Partial<MlmOptions> = {}): MaskedLanguageModeling {
  const mlm = new MaskedLanguageModeling(mlmOptions(options));
  mlm.init({ backbone: new TinyBackbone({ vocabSize: tokenizer.getVocabSize() }), tokenizer, rng: new Rng(0) });
  return mlm;
}

beforeAll(async () => {
  await initBackend({ log: false });
  tokenizer = new PieceTokenizer(readSample());
  const examples = await collectExamples(MAX_LENGTH);
  // Shorter rows at the end of each batch so padding is present too.
  examples.forEach((e, i) => {
    if (i % 7 === 0) {
      const cut = 20 + (i % 50);
      e.inputIds = Int32Array.from([...e.inputIds.subarray(0, cut), tokenizer.specialTokenIds().sep!]);
      e.specialTokensMask = Uint8Array.from([...e.specialTokensMask!.subarray(0, cut), 1]);
      e.wordIds = Int32Array.from([...e.wordIds!.subarray(0, cut), -1]);
      e.tokenTypeIds = new Int32Array(cut + 1);
    }
  });
  batches = [];
  for (let i = 0; i < examples.length; i += 32) batches.push(collate(examples.slice(i, i + 32), { padId: 0 }));
});

describe('MLM masking on real text (Frankenstein, test-double WordPiece)', () => {
  test('selects 15% ± 0.3% of maskable tokens over ≥100k tokens; 80/10/10 within ±1%; never specials or padding', () => {
    const mlm = objective();
    const rng = new Rng(7);
    let maskable = 0;
    let selected = 0;
    let masked = 0;
    let random = 0;
    let kept = 0;
    let wrong = 0; // unselected tokens changed, labels not the original id, special random replacements
    const special = new Set(Object.values(tokenizer.specialTokenIds()));
    // Two passes: dynamic masking draws a new mask each time an example is seen.
    for (let pass = 0; pass < 2; pass++) {
      for (const batch of batches) {
        const out = mlm.transformBatch(batch, rng);
        const labels = out.fields.mlmLabels;
        const positions = out.fields.mlmPositions;
        const fromLabels: number[] = [];
        for (let i = 0; i < batch.inputIds.length; i++) {
          const isMaskable = batch.attentionMask[i] === 1 && batch.specialTokensMask[i] === 0 && !special.has(batch.inputIds[i]);
          if (isMaskable) maskable++;
          if (labels[i] === -100) {
            if (out.inputIds[i] !== batch.inputIds[i]) wrong++;
            continue;
          }
          fromLabels.push(i);
          if (!isMaskable) throw new Error(`selected a special or padding position ${i} (id ${batch.inputIds[i]})`);
          if (labels[i] !== batch.inputIds[i]) wrong++;
          selected++;
          if (out.inputIds[i] === tokenizer.specialTokenIds().mask) masked++;
          else if (out.inputIds[i] === batch.inputIds[i]) kept++;
          else {
            random++;
            if (special.has(out.inputIds[i])) wrong++;
          }
        }
        expect(Array.from(positions)).toEqual(fromLabels);
      }
    }
    expect(wrong).toBe(0);
    expect(maskable).toBeGreaterThanOrEqual(100_000);
    expect(Math.abs(selected / maskable - 0.15)).toBeLessThanOrEqual(0.003);
    expect(Math.abs(masked / selected - 0.8)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(random / selected - 0.1)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(kept / selected - 0.1)).toBeLessThanOrEqual(0.01);
  });

  test('whole-word masking never splits a word, and still selects about 15%', () => {
    const mlm = objective({ wholeWordMasking: true });
    const rng = new Rng(3);
    let maskable = 0;
    let selected = 0;
    let splitWordsSeen = 0;
    for (const batch of batches) {
      const out = mlm.transformBatch(batch, rng);
      const labels = out.fields.mlmLabels;
      const byWord = new Map<string, boolean[]>();
      for (let i = 0; i < batch.inputIds.length; i++) {
        const word = batch.wordIds![i];
        if (word < 0 || batch.attentionMask[i] === 0) continue;
        maskable++;
        if (labels[i] !== -100) selected++;
        const key = `${Math.floor(i / batch.seqLen)}:${word}`;
        const flags = byWord.get(key) ?? [];
        flags.push(labels[i] !== -100);
        byWord.set(key, flags);
      }
      for (const [key, flags] of byWord) {
        if (flags.length > 1) splitWordsSeen++;
        if (flags.some(Boolean) && !flags.every(Boolean)) throw new Error(`word ${key} was partly selected: ${flags}`);
      }
    }
    expect(splitWordsSeen).toBeGreaterThan(1000); // the sample really has multi-piece words
    expect(Math.abs(selected / maskable - 0.15)).toBeLessThanOrEqual(0.01);
  });

  test('whole-word masking falls back to the tokenizer continuation marks when a batch has no word ids', () => {
    const mlm = objective({ wholeWordMasking: true });
    const batch = { ...batches[0], wordIds: undefined };
    const out = mlm.transformBatch(batch, new Rng(5));
    const labels = out.fields.mlmLabels;
    for (let i = 1; i < batch.inputIds.length; i++) {
      if (tokenizer.isContinuation(batch.inputIds[i]) && batch.attentionMask[i]) {
        expect(labels[i] !== -100).toBe(labels[i - 1] !== -100);
      }
    }
  });

  test('dynamic masking draws a new mask each time; static masking repeats it per example', () => {
    const batch = batches[1];
    const dynamic = objective();
    const rng = new Rng(11);
    const first = dynamic.transformBatch(batch, rng).fields.mlmLabels;
    const second = dynamic.transformBatch(batch, rng).fields.mlmLabels;
    expect(Array.from(first)).not.toEqual(Array.from(second));

    const fixed = objective({ masking: 'static' });
    const a = fixed.transformBatch(batch, new Rng(1));
    const b = fixed.transformBatch(batch, new Rng(2));
    expect(Array.from(a.fields.mlmLabels)).toEqual(Array.from(b.fields.mlmLabels));
    expect(Array.from(a.inputIds)).toEqual(Array.from(b.inputIds));
    // The same example in another batch (another row) gets the same mask.
    const row = 3;
    const single = collate(
      [{ inputIds: batch.inputIds.slice(row * batch.seqLen, row * batch.seqLen + batch.attentionMask.slice(row * batch.seqLen, (row + 1) * batch.seqLen).reduce((s, x) => s + x, 0)), specialTokensMask: batch.specialTokensMask.slice(row * batch.seqLen, (row + 1) * batch.seqLen) }],
      { padId: 0, maxLength: batch.seqLen },
    );
    const alone = fixed.transformBatch(single, new Rng(3)).fields.mlmLabels;
    expect(Array.from(alone)).toEqual(Array.from(a.fields.mlmLabels.slice(row * batch.seqLen, (row + 1) * batch.seqLen)));
  });

  test('the same RNG state gives the same masks (reproducible, resumable)', () => {
    const mlm = objective();
    const rng = new Rng(99);
    const state = rng.getState();
    const first = mlm.transformBatch(batches[2], rng);
    const second = mlm.transformBatch(batches[2], Rng.fromState(state));
    expect(Array.from(first.inputIds)).toEqual(Array.from(second.inputIds));
  });

  test('the input batch is not modified', () => {
    const mlm = objective();
    const before = Array.from(batches[0].inputIds);
    mlm.transformBatch(batches[0], new Rng(1));
    expect(Array.from(batches[0].inputIds)).toEqual(before);
    expect(batches[0].fields.mlmLabels).toBeUndefined();
  });
});
