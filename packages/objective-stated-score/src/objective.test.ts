import * as tf from '@tensorflow/tfjs-core';
import { collate, initBackend, Rng, type Example, type TokenizedDocument, type TokenizerPlugin } from '@pretrain/core';
import { TinyBackbone, streamOf, trainStep } from '@pretrain/core/testing';
import { findStatedScores, polarityOf, StatedScoreBuilder } from './builder';
import { StatedScore, STATED_SCORE_PARAMETER_NAMES } from './objective';
import { statedScoreOptions, statedScoreOptionsSchema } from './options';
import { pretrainPlugins } from './index';

beforeAll(() => initBackend({ log: false }));

/** A word-level tokenizer double: each whitespace-separated word (or "/", ".", "!") is one token. */
function wordTokenizer(words: string[]) {
  const vocab = ['[PAD]', '[CLS]', '[SEP]', '[MASK]', ...words];
  const ids = new Map(vocab.map((w, i) => [w, i]));
  const tokenizer = {
    specialTokenIds: () => ({ pad: 0, cls: 1, sep: 2, mask: 3 }),
    isContinuation: () => false,
    idToToken: (id: number) => vocab[id],
    tokenToId: (w: string) => ids.get(w),
    getVocabSize: () => vocab.length,
  } as unknown as TokenizerPlugin;
  const encode = (text: string) => Int32Array.from(text.split(/\s+|(?=[/.!])|(?<=[/.!])/).filter(Boolean).map((w) => ids.get(w.toLowerCase())!));
  return { tokenizer, encode };
}

const WORDS = 'i give it out of a 7 3 10 5 2004 the film was great awful fine and . / ! plot acting rated'.split(' ');

describe('stated scores', () => {
  const { tokenizer, encode } = wordTokenizer(WORDS);

  test('finds "N/10" and "N out of 10", not decimals, dates or other scales', () => {
    const found = (text: string) => findStatedScores(encode(text), tokenizer, 10).map((s) => s.score);
    expect(found('i give it 7/10 .')).toEqual([7]);
    expect(found('a 3 out of 10 film')).toEqual([3]);
    expect(found('rated 10/10 !')).toEqual([10]);
    expect(found('the film was 7 . 5/10')).toEqual([]); // 7.5/10: the "5" follows a "."
    expect(found('the film 3/10/2004')).toEqual([]); // a date
    expect(found('i give it 7/5')).toEqual([]);
    expect(found('i give it 10 out of 10 and 3/10')).toEqual([10, 3]);
    const span = findStatedScores(encode('i give it 7 out of 10 .'), tokenizer, 10)[0];
    expect([span.start, span.end]).toEqual([3, 7]);
  });

  test('a document is positive or negative only when all its scores agree and none is middling', () => {
    const options = statedScoreOptions();
    const polarity = (text: string) => polarityOf(findStatedScores(encode(text), tokenizer, 10), options);
    expect(polarity('great film 10/10')).toBe(1);
    expect(polarity('awful 3/10 . awful')).toBe(0);
    expect(polarity('fine 5/10')).toBeUndefined();
    expect(polarity('great 10/10 awful 3/10')).toBeUndefined();
    expect(polarity('the film was great')).toBeUndefined();
    expect(() => statedScoreOptionsSchema.parse({ negativeAtMost: 7, positiveAtLeast: 7 })).toThrow(/negativeAtMost < positiveAtLeast/);
  });

  test('examples: the score removed, windows labelled with the polarity, unrated documents skipped', async () => {
    const documents: TokenizedDocument[] = [
      { id: 'a', sentences: [encode('the film was great .'), encode('i give it 10/10 !'), encode('great acting and plot .')] },
      { id: 'b', sentences: [encode('the film was fine .')] },
      { id: 'c', sentences: [encode('awful plot .'), encode('3 out of 10')] },
    ];
    const examples: Example[] = [];
    for await (const e of new StatedScoreBuilder(statedScoreOptions({ shuffleWindows: 1, balance: false })).build(streamOf(documents), { tokenizer, maxLength: 8, rng: new Rng(1) })) examples.push(e);
    const text = (e: Example) => Array.from(e.inputIds, (id) => tokenizer.idToToken(id)).join(' ');
    expect(examples.map((e) => [text(e), e.labels!.statedScoreLabel])).toEqual([
      ['[CLS] the film was great . i [SEP]', 1],
      ['[CLS] give it ! great acting and [SEP]', 1],
      ['[CLS] plot . [SEP]', 1],
      ['[CLS] awful plot . [SEP]', 0],
    ]);
    expect(pretrainPlugins.map((p) => [p.name, p.meta])).toEqual([['stated-score', { buildsExamples: true, requiresAttention: 'bidirectional' }]]);
  });

  test('windows leave the pool in random order: a batch mixes documents', async () => {
    const documents: TokenizedDocument[] = Array.from({ length: 40 }, (_, d) => ({ id: `d${d}`, sentences: [encode(`${'the film was great . '.repeat(6)} ${d % 2 ? '7/10' : '3/10'}`)] }));
    const labelsOf = async (shuffleWindows: number) => {
      const labels: number[] = [];
      for await (const e of new StatedScoreBuilder(statedScoreOptions({ shuffleWindows, balance: false })).build(streamOf(documents), { tokenizer, maxLength: 8, rng: new Rng(1) })) labels.push(e.labels!.statedScoreLabel);
      return labels;
    };
    const inOrder = await labelsOf(1);
    const shuffled = await labelsOf(64);
    expect(shuffled.slice().sort()).toEqual(inOrder.slice().sort());
    const changes = (labels: number[]) => labels.slice(1).filter((l, i) => l !== labels[i]).length;
    expect(changes(inOrder)).toBe(39); // 5 windows per document, documents alternate
    expect(changes(shuffled)).toBeGreaterThan(60);
  });
});

test('balance: when 4 in 5 documents are positive, about as many negative windows as positive ones are kept', async () => {
  const { tokenizer, encode } = wordTokenizer(WORDS);
  const documents: TokenizedDocument[] = Array.from({ length: 200 }, (_, d) => ({ id: `d${d}`, sentences: [encode(`${'the film was great . '.repeat(4)} ${d % 5 === 0 ? '3/10' : '7/10'}`)] }));
  const labels: number[] = [];
  for await (const e of new StatedScoreBuilder(statedScoreOptions()).build(streamOf(documents), { tokenizer, maxLength: 12, rng: new Rng(2) })) labels.push(e.labels!.statedScoreLabel);
  const negatives = labels.filter((l) => l === 0).length;
  expect(negatives).toBeGreaterThanOrEqual(76); // nearly every negative window is kept (80 arrive, 2 per document)
  expect(Math.abs(labels.length - 2 * negatives)).toBeLessThan(20);
});

describe('stated-score head', () => {
  test('learns the polarity of a fixed batch; tensor count flat; state dict under stated_score.*', async () => {
    const { tokenizer, encode } = wordTokenizer(WORDS);
    const rng = new Rng(2);
    const documents: TokenizedDocument[] = Array.from({ length: 32 }, (_, d) => {
      const word = d % 2 === 0 ? 'great' : 'awful';
      const filler = () => ['the', 'film', 'plot', 'acting', 'was', 'and'][rng.int(6)];
      return { id: `d${d}`, sentences: [encode(`${filler()} ${filler()} ${word} ${filler()} ${d % 2 === 0 ? '7/10' : '3/10'}`)] };
    });
    const objective = new StatedScore(statedScoreOptions({ balance: false }));
    const examples: Example[] = [];
    for await (const e of objective.exampleBuilder.build(streamOf(documents), { tokenizer, maxLength: 16, rng: new Rng(3) })) examples.push(e);
    expect(examples).toHaveLength(32);
    const backbone = new TinyBackbone({ vocabSize: tokenizer.getVocabSize(), hiddenSize: 16, seed: 4 });
    objective.init({ backbone, tokenizer, rng: new Rng(5) });
    expect([...objective.variables().keys()].sort()).toEqual(Object.values(STATED_SCORE_PARAMETER_NAMES).sort());
    const batch = collate(examples, { padId: 0 });
    const optimizer = tf.train.adam(0.05);
    const first = trainStep(backbone, [objective], batch, optimizer);
    const tensors = tf.memory().numTensors;
    let last = first;
    for (let step = 1; step < 40; step++) last = trainStep(backbone, [objective], batch, optimizer);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(first).toBeGreaterThan(0.5);
    expect(last).toBeLessThan(0.1);
  });
});
