import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { PRESETS } from './demo-presets';
import { defaultRegistry, initBackend } from '@pretrain/core';
import { registerBuiltins } from '../builtins';
import { trainTokenizer } from '../pipeline/tokenizers';
import { DemoRow, PretrainedArm, TaskOutcome, createPlugin, finetuneSteps, readShippedCheckpoint, sentencesOf, judge, loadTaskData, sentimentSplits, taskVerdict, withBackendBudget, withBudget, withSeed } from './demo';

const DATA = path.resolve(__dirname, '../../../../data');

describe('demo verdict', () => {
  /** 600 validation examples: both arms right on `both`, only one arm right on `onlyPretrained` / `onlyScratch`. */
  function row(size: number, both: number, onlyPretrained: number, onlyScratch: number, arm: PretrainedArm = 'shipped'): DemoRow {
    const pretrained = new Uint8Array(600);
    const scratch = new Uint8Array(600);
    pretrained.fill(1, 0, both + onlyPretrained);
    scratch.fill(1, 0, both);
    scratch.fill(1, both + onlyPretrained, both + onlyPretrained + onlyScratch);
    return { size, scratch: { accuracy: (both + onlyScratch) / 600, correct: scratch }, pretrained: { [arm]: { accuracy: (both + onlyPretrained) / 600, correct: pretrained } } };
  }
  const [pos, chunk, sentiment] = PRESETS.quick.tasks;
  const outcome = (task: TaskOutcome['task'], rows: DemoRow[]): TaskOutcome => ({ task, rows });

  it('a task is helped only when the smallest labeled set gains with its interval above zero and the average gain is positive', () => {
    // +10 points at 100 (60 vs 0 discordant): 0.1 ± 1.96·sqrt((60 − 600·0.01)/599/600) = ±2.4.
    const clear = taskVerdict([row(100, 360, 60, 0), row(300, 468, 12, 0)], 'shipped');
    expect(clear.verdict).toBe('helps');
    expect(clear.smallest.halfWidth95).toBeCloseTo(1.96 * Math.sqrt((60 - 600 * 0.01) / 599 / 600), 12);
    // Noisy at the smallest size: not clear, even with a clear gain at the larger one.
    expect(taskVerdict([row(100, 240, 150, 138), row(300, 400, 100, 0)], 'shipped').verdict).toBe('not clear');
    // A clear gain at the smallest size with a negative average is not claimed.
    expect(taskVerdict([row(100, 360, 30, 0), row(300, 300, 0, 120)], 'shipped').verdict).toBe('hurts');
    expect(taskVerdict([row(100, 330, 0, 60), row(300, 420, 0, 60)], 'shipped').verdict).toBe('hurts');
    // Only the sizes an arm was fine-tuned at count for it.
    const liveOnlyAtSmallest = [row(100, 360, 60, 0, 'live'), { ...row(300, 300, 0, 120), pretrained: {} }];
    expect(taskVerdict(liveOnlyAtSmallest, 'live')).toMatchObject({ verdict: 'helps', sizes: 1 });
  });

  it('prints, per pre-trained arm, on how many tasks it beats scratch and one line per task; the budget note of a task no arm helped', () => {
    const both = (r: DemoRow, live: DemoRow): DemoRow => ({ ...r, pretrained: { ...r.pretrained, ...live.pretrained } });
    const lines = judge(
      [
        outcome(pos, [both(row(100, 360, 60, 0), row(100, 330, 0, 60, 'live')), row(300, 468, 12, 0)]),
        outcome(chunk, [both(row(100, 360, 60, 0), row(100, 360, 60, 0, 'live')), row(300, 468, 12, 0)]),
        outcome(sentiment, [both(row(100, 330, 0, 60), row(100, 330, 0, 60, 'live')), row(300, 420, 0, 60)]),
      ],
      PRESETS.quick,
      { shipped: 6000, live: 900 },
    );
    expect(lines).toEqual([
      'The shipped checkpoint (6,000 steps of MLM + NSP, then 400 of stated score, batches of 32 × 32 tokens) beats training from scratch on 2 of 3 tasks: part-of-speech tags, syntactic chunks.',
      '  part-of-speech tags: helps: +10.0 ± 2.4 pt with 100 labeled sentences, +6.0 ± 1.3 pt on average over 2 sizes (paired 95% intervals).',
      '  syntactic chunks: helps: +10.0 ± 2.4 pt with 100 labeled sentences, +6.0 ± 1.3 pt on average over 2 sizes (paired 95% intervals).',
      expect.stringMatching(/^ {2}sentiment: HURTS: -10\.0 ± 2\.4 pt with 100 labeled sentences, -10\.0 ± 1\.\d pt on average over 2 sizes/),
      "This run's pre-training (900 pre-training steps of 32 × 32 tokens) beats training from scratch on 1 of 3 tasks: syntactic chunks.",
      // The live arm is compared with the same scratch run: 330 right vs 360, -5.0 ± 1.96·sqrt((30 − 600·0.0025)/599/600).
      '  part-of-speech tags: HURTS: -5.0 ± 1.7 pt with 100 labeled sentences (paired 95% intervals).',
      '  syntactic chunks: helps: +10.0 ± 2.4 pt with 100 labeled sentences (paired 95% intervals).',
      '  sentiment: HURTS: -10.0 ± 2.4 pt with 100 labeled sentences (paired 95% intervals).',
      `sentiment: ${sentiment.budgetNote}`,
    ]);
    expect(judge([outcome(sentiment, [row(100, 240, 150, 138, 'live')])], PRESETS.quick, { live: 80 })[0]).toBe("This run's pre-training (80 pre-training steps of 32 × 32 tokens) beats training from scratch on none of 1 tasks.");
  });

  it('fine-tunes each labeled size for its epochs, within the task budget', () => {
    expect(finetuneSteps(pos.finetune, 100)).toBe(150); // 24 epochs of 16
    expect(finetuneSteps(pos.finetune, 10)).toBe(pos.finetune.minSteps);
    expect(finetuneSteps({ ...pos.finetune, minSteps: 1 }, 50)).toBe(75);
    expect(finetuneSteps(pos.finetune, 2000)).toBe(pos.finetune.maxSteps);
    expect(finetuneSteps(sentiment.finetune, 300)).toBe(40); // 4 epochs = 38 steps, raised to minSteps
  });

  it('overrides the pre-training budget from the command line, and rejects nonsense', () => {
    const cap = PRESETS.quick.pretrain.maxWallClockSeconds;
    expect(withBudget(PRESETS.quick, 50, undefined).pretrain).toMatchObject({ maxSteps: 50, maxWallClockSeconds: 86400 });
    expect(withBudget(PRESETS.quick, undefined, 2).pretrain.maxWallClockSeconds).toBe(120);
    expect(PRESETS.quick.pretrain.maxWallClockSeconds).toBe(cap); // the preset itself is not changed
    expect(() => withBudget(PRESETS.quick, 0, undefined)).toThrow('--pretrain-steps must be a positive integer');
    expect(withSeed(PRESETS.quick, 7).seed).toBe(7);
    expect(withSeed(PRESETS.quick, undefined)).toBe(PRESETS.quick);
    expect(() => withSeed(PRESETS.quick, 1.5)).toThrow('--seed must be a non-negative integer, got 1.5');
  });

  it('gives the live pre-training the native backend\'s saved time (quick only; wasm and step budgets unchanged)', () => {
    expect(withBackendBudget(PRESETS.quick, 'native').pretrain.maxWallClockSeconds).toBe(240);
    expect(withBackendBudget(PRESETS.quick, 'wasm')).toBe(PRESETS.quick);
    expect(PRESETS.quick.pretrain.maxWallClockSeconds).toBe(120);
    for (const name of ['full', 'smoke', 'gpt']) expect(withBackendBudget(PRESETS[name], 'native')).toBe(PRESETS[name]);
  });
});

describe('demo task data', () => {
  it('reads the committed CoNLL-2003 sample with part-of-speech and chunk columns as plain tags', () => {
    const [posTask, chunkTask] = PRESETS.quick.tasks;
    const posData = loadTaskData(posTask, DATA, 42);
    if (posData.kind !== 'tagging') throw new Error('expected tagging data');
    expect(posData.trainSize).toBe(2000);
    expect(posData.validation).toHaveLength(700);
    expect(posData.validation[0]).toEqual({ words: ['CRICKET', '-', 'LEICESTERSHIRE', 'TAKE', 'OVER', 'AT', 'TOP', 'AFTER', 'INNINGS', 'VICTORY', '.'], tags: ['NNP', ':', 'NNP', 'NNP', 'IN', 'NNP', 'NNP', 'NNP', 'NNP', 'NN', '.'] });
    expect(posData.labels).toContain('NN');
    expect(posData.labels.length).toBeGreaterThan(30);
    const chunkData = loadTaskData(chunkTask, DATA, 42);
    if (chunkData.kind !== 'tagging') throw new Error('expected tagging data');
    expect(chunkData.validation[0].tags.slice(0, 3)).toEqual(['B-NP', 'O', 'B-NP']);
  });
});

describe('the committed checkpoint', () => {
  it('was pre-trained with exactly the tokenizer the demo trains on the committed corpus, and loads as a BERT backbone', async () => {
    await initBackend({ log: false });
    registerBuiltins(defaultRegistry);
    const preset = PRESETS.quick;
    const corpus = await createPlugin('corpus', preset.corpus.name, { ...preset.corpus.options, paths: preset.corpusFiles.map((f) => path.join(DATA, f)) }, DATA, 3);
    const tokenizer = await trainTokenizer(sentencesOf(corpus, 3), { type: 'wordpiece', vocabSize: preset.vocabSize });
    const shipped = readShippedCheckpoint(preset.shipped!, DATA, tokenizer);
    if (!('state' in shipped)) throw new Error(shipped.skipped);
    const model = await createPlugin('model', preset.model.name, { ...preset.model.options, vocabSize: tokenizer.getVocabSize() }, DATA, 1);
    expect(model.loadStateDict(shipped.state)).toEqual({ missing: [], unexpected: [] });
    expect(shipped.state.get('embeddings.word_embeddings.weight')!.shape).toEqual([2000, 128]);
    model.dispose();
    for (const t of shipped.state.values()) t.dispose();
    // Another tokenizer: the arm is skipped, and the note says why.
    const other = await trainTokenizer((function* () {
      yield* ['a tiny corpus', 'of two sentences'];
    })(), { type: 'wordpiece', vocabSize: 60 });
    const skipped = readShippedCheckpoint(preset.shipped!, DATA, other);
    expect(skipped).toEqual({ skipped: expect.stringMatching(/was pre-trained with another tokenizer than the one trained on this corpus \(hash [0-9a-f]{12} vs [0-9a-f]{12}\); rebuild it with the command in its README.md$/) });
    expect(readShippedCheckpoint({ dir: 'nowhere', steps: 1 }, DATA, tokenizer)).toEqual({ skipped: `${path.join(DATA, 'nowhere')} does not exist` });

    // The shipped checkpoint continues the committed MLM + NSP one (its README: 400 stated-score steps): every
    // backbone tensor moved, none was re-initialised (each stays close to where stage 1 left it).
    const stageOne = readShippedCheckpoint({ dir: 'pretrained/bert-tiny-books-reviews', steps: 6000 }, DATA, tokenizer);
    const stageTwo = readShippedCheckpoint(preset.shipped!, DATA, tokenizer);
    if (!('state' in stageOne) || !('state' in stageTwo)) throw new Error('both committed checkpoints load');
    const relativeChange = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.norm(tf.sub(a, b)).dataSync()[0] / tf.norm(a).dataSync()[0]);
    const moved = [...stageOne.state].filter(([name]) => !name.startsWith('pooler.')).map(([name, t]) => [name, relativeChange(t, stageTwo.state.get(name)!)] as const);
    expect(moved.length).toBeGreaterThan(20);
    for (const [name, change] of moved) {
      if (!(change > 0 && change < 0.5)) throw new Error(`${name}: relative change ${change}`);
    }
    for (const t of [...stageOne.state.values(), ...stageTwo.state.values()]) t.dispose();
  }, 60_000);
});

describe('sentiment splits', () => {
  it('reads the 3 × 1,000 committed UCI sentences into 2,400 train and 600 validation, both labels present', () => {
    const splits = sentimentSplits(DATA, 42);
    expect(splits.train).toHaveLength(2400);
    expect(splits.validation).toHaveLength(600);
    expect(new Set(splits.validation.map((r) => r.label))).toEqual(new Set(['0', '1']));
    const positives = splits.train.filter((r) => r.label === '1').length;
    expect(positives).toBeGreaterThan(1100);
    expect(positives).toBeLessThan(1300);
    const seen = new Set(splits.train.map((r) => r.text));
    expect(splits.validation.filter((r) => seen.has(r.text)).length).toBeLessThan(10);
  });
});
