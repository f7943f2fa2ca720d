// End-to-end pre-training: a tiny BERT with MLM + NSP and a tiny GPT-2 with CLM, each trained for a
// few dozen steps on real text (the Frankenstein sample) with the plugins' own example builders.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { batchToTensors, collate, disposeBatchTensors, initBackend, Rng, type BackbonePlugin, type Batch, type Encoding, type Example, type ObjectivePlugin, type TokenizedDocument, type TokenizerPlugin } from '@pretrain/core';
import { BertModel } from '@pretrain/model-bert';
import { Gpt2Model } from '@pretrain/model-gpt';
import { MaskedLanguageModeling } from '@pretrain/objective-mlm';
import { NextSentencePrediction, nspOptions } from '@pretrain/objective-nsp';
import { CausalLanguageModeling, clmOptions } from '@pretrain/objective-clm';
import { Trainer } from '@pretrain/trainer';

const SAMPLE = path.join(__dirname, '../../../fixtures/data/objectives/frankenstein-letters-ch20.txt');

/** Word-level test tokenizer over the sample's most frequent words (the plugins only see ids). */
class WordTokenizer implements TokenizerPlugin {
  readonly words: string[];
  private readonly index: Map<string, number>;
  constructor(text: string, size: number) {
    const counts = new Map<string, number>();
    for (const w of WordTokenizer.split(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, size - 5).map(([w]) => w);
    this.words = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...top];
    this.index = new Map(this.words.map((w, i) => [w, i]));
  }
  static split(text: string): string[] {
    return text.toLowerCase().match(/[a-z]+|[^a-z\s]/g) ?? [];
  }
  ids(text: string): Int32Array {
    return Int32Array.from(WordTokenizer.split(text), (w) => this.index.get(w) ?? 1);
  }
  specialTokenIds() {
    return { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4, eos: 3 };
  }
  isContinuation(): boolean {
    return false;
  }
  getVocabSize(): number {
    return this.words.length;
  }
  tokenToId(token: string) {
    return this.index.get(token);
  }
  idToToken(id: number) {
    return this.words[id];
  }
  encode(): Encoding {
    throw new Error('not used');
  }
  encodeBatch(): Encoding[] {
    throw new Error('not used');
  }
  decode(ids: ArrayLike<number>): string {
    return Array.from(ids, (id) => this.words[id]).join(' ');
  }
  toJSON(): string {
    return JSON.stringify(this.words);
  }
  hash(): string {
    return String(this.words.length);
  }
}

const text = fs.readFileSync(SAMPLE, 'utf8');
const tokenizer = new WordTokenizer(text, 2000);
const documents: TokenizedDocument[] = text
  .split(/^(?:Letter|Chapter) \d+\s*$/m)
  .filter((d) => d.trim())
  .map((d, i) => ({
    id: `doc-${i}`,
    sentences: d
      .replace(/\s+/g, ' ')
      .split(/(?<=[.!?])\s+(?=[“"A-Z])/)
      .map((s) => tokenizer.ids(s))
      .filter((s) => s.length > 0),
  }));

async function* stream<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}

async function examplesFrom(objective: ObjectivePlugin, maxLength: number, count: number): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of objective.exampleBuilder!.build(stream(documents), { tokenizer, maxLength, rng: new Rng(1) })) {
    out.push(e);
    if (out.length >= count) break;
  }
  return out;
}

/** One optimisation step over the weighted objectives; returns each objective's loss. */
function step(backbone: BackbonePlugin, objectives: ObjectivePlugin[], batch: Batch, optimizer: tf.Optimizer, seed: number): number[] {
  const tensors = batchToTensors(batch);
  const variables = [...backbone.variables().values(), ...objectives.flatMap((o) => [...o.variables().values()])];
  try {
    return tf.tidy(() => {
      let parts: tf.Scalar[] = [];
      const { grads } = tf.variableGrads(() => {
        const output = backbone.forward(tensors, { training: true, dropoutSeed: seed });
        parts = objectives.map((o) => tf.keep(o.loss(output, tensors, { training: true }).loss));
        return parts.reduce((a, b) => tf.add(a, b)) as tf.Scalar;
      }, variables);
      optimizer.applyGradients(grads);
      const values = parts.map((p) => p.dataSync()[0]);
      parts.forEach((p) => p.dispose());
      return values;
    });
  } finally {
    disposeBatchTensors(tensors);
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

beforeAll(() => initBackend({ log: false }));

test('a tiny BERT pre-trained with MLM + NSP: the combined and MLM losses fall, NSP stays at or below chance', async () => {
  const bert = new BertModel({ vocab_size: tokenizer.getVocabSize(), hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 128, max_position_embeddings: 64, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 }, { seed: 1 });
  const mlm = new MaskedLanguageModeling();
  const nsp = new NextSentencePrediction(nspOptions({ documentPoolSize: 100 }));
  const rng = new Rng(3);
  mlm.init({ backbone: bert, tokenizer, rng });
  nsp.init({ backbone: bert, tokenizer, rng });
  // Six batches seen repeatedly (new MLM masks each time): NSP needs more data than a test can
  // afford to generalise, but a model that trains must at least fit what it sees.
  const examples = await examplesFrom(nsp, 64, 16 * 4);
  const optimizer = tf.train.adam(5e-3);
  const history: number[][] = [];
  let tensorsAtStart = 0;
  for (let s = 0; s < 60; s++) {
    const at = (s % 4) * 16;
    const batch = mlm.transformBatch(collate(examples.slice(at, at + 16), { padId: 0 }), rng);
    history.push(step(bert, [mlm, nsp], batch, optimizer, s));
    if (s === 1) tensorsAtStart = tf.memory().numTensors;
  }
  expect(tf.memory().numTensors).toBe(tensorsAtStart);
  const first = (k: number) => mean(history.slice(0, 5).map((h) => h[k]));
  const last = (k: number) => mean(history.slice(-5).map((h) => h[k]));
  expect(last(0)).toBeLessThan(0.8 * first(0)); // MLM: from ~ln(2000) towards the unigram entropy
  // NSP only learns the label prior in 60 steps of a 2-layer model (it needs far more data to use
  // the pair itself): its loss must stay finite and at chance level or below, not diverge.
  const nspTail = mean(history.slice(-8).map((h) => h[1]));
  expect(Number.isFinite(nspTail)).toBe(true);
  expect(nspTail).toBeLessThanOrEqual(Math.LN2 + 0.02);
  expect(last(0) + last(1)).toBeLessThan(0.8 * (first(0) + first(1)));
});

test('a tiny GPT-2 pre-trained with CLM: the loss falls', async () => {
  const gpt = new Gpt2Model({ vocab_size: tokenizer.getVocabSize(), n_embd: 64, n_layer: 2, n_head: 2, n_positions: 64, bos_token_id: 3, eos_token_id: 3, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }, { seed: 1 });
  const clm = new CausalLanguageModeling(clmOptions({ blockSize: 64 }));
  clm.init({ backbone: gpt, tokenizer, rng: new Rng(0) });
  const blocks = await examplesFrom(clm, 64, 8 * 30);
  const optimizer = tf.train.adam(3e-3);
  const losses: number[] = [];
  for (let s = 0; s < 30; s++) losses.push(step(gpt, [clm], collate(blocks.slice(s * 8, s * 8 + 8), { padId: 0 }), optimizer, s)[0]);
  expect(mean(losses.slice(-5))).toBeLessThan(0.8 * mean(losses.slice(0, 5)));
});

test('the same through @pretrain/trainer: BERT + MLM + NSP examples from the NSP builder, the loss falls', async () => {
  const bert = new BertModel({ vocab_size: tokenizer.getVocabSize(), hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 128, max_position_embeddings: 64, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 }, { seed: 2 });
  const mlm = new MaskedLanguageModeling();
  const nsp = new NextSentencePrediction(nspOptions({ documentPoolSize: 100 }));
  const examples = await examplesFrom(nsp, 64, 16 * 30);
  const trainer = new Trainer({
    backbone: bert,
    objectives: [{ objective: mlm }, { objective: nsp, weight: 1 }],
    tokenizer,
    seed: 7,
    options: { maxSteps: 30, batchSize: 16, maxLength: 64, learningRate: 3e-3, schedule: 'constant', progress: 'none', saveEachEpoch: false, evalEachEpoch: false },
  });
  const result = await trainer.train({ train: examples });
  expect(result.losses).toHaveLength(30);
  // From chance (≈ ln 2000 + ln 2 ≈ 8.3 nats) to more than a nat lower (MLM reaches the unigram level).
  expect(mean(result.losses.slice(-5))).toBeLessThan(mean(result.losses.slice(0, 5)) - 1);
});
