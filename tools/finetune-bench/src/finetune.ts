/**
 * Real-data fine-tuning run (not part of the default tests). Pre-trains a small BERT with MLM on the
 * shared corpus (or takes --model <HF BERT dir>), then fine-tunes it on SST-2 (accuracy), CoNLL-2003
 * NER (entity F1), STS-B (Pearson/Spearman) and one SQuAD v1.1 shard (EM/F1), evaluating on held-out
 * data. Prints a markdown table and writes results.json into --out.
 *
 *   node tools/finetune-bench/run.js finetune [--model dir] [--pretrain-minutes 10] [--tasks sst2,conll,stsb,squad]
 *     [--train-limit 4000] [--eval-limit 1000] [--epochs 2] [--minutes-per-task 8] [--lr 1e-4] [--data ../shared/data] [--out runs/finetune-bench]
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend, registerKernelPack, Rng, type Example, type TokenizedDocument } from '@pretrain/core';
import { nativeKernels } from '@pretrain/backend-native';
import { fromTokenizerJSON, type Tokenizer } from '@pretrain/tokenizer';
import { BertModel, loadBertPretrained } from '@pretrain/model-bert';
import { MaskedLanguageModeling, mlmOptions } from '@pretrain/objective-mlm';
import { readConll, readGlue, readSquad, TextCorpus } from '@pretrain/corpus';
import {
  alignLabelsToTokens,
  encodeSplitWords,
  bestSpans,
  entityF1,
  QuestionAnsweringHead,
  questionAnsweringOptions,
  qaFeatures,
  RegressionHead,
  regressionOptions,
  SequenceClassificationHead,
  sequenceClassificationOptions,
  squadScores,
  taskMetrics,
  TokenClassificationHead,
  tokenClassificationOptions,
  wordPredictions,
  type QaFeature,
} from '@pretrain/heads';
import { Trainer, type TrainerOptionsInput } from '@pretrain/trainer';

const repoRoot = path.resolve(__dirname, '../../..');

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
    out[arg.slice(2)] = argv[i + 1] ?? '';
    i++;
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const dataDir = path.resolve(args.data ?? path.join(repoRoot, '../shared/data'));
const outDir = path.resolve(args.out ?? path.join(repoRoot, 'runs/finetune-bench'));
const seed = Number(args.seed ?? 42);
const trainLimit = Number(args['train-limit'] ?? 4000);
const evalLimit = Number(args['eval-limit'] ?? 1000);
const epochs = Number(args.epochs ?? 2);
const minutesPerTask = Number(args['minutes-per-task'] ?? 8);
const tasks = (args.tasks ?? 'sst2,conll,stsb,squad').split(',');
/** Overrides every task's learning rate (defaults: 1e-4 for SST-2 / STS-B, 2e-4 for CoNLL / SQuAD). */
const learningRate = args.lr !== undefined ? Number(args.lr) : undefined;

function log(line: string): void {
  process.stderr.write(`[finetune-bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function loadTokenizer(): Tokenizer {
  const file = path.join(dataDir, 'tokenizers/bert-base-uncased/tokenizer.json');
  if (!fs.existsSync(file)) throw new Error(`${file} not found: pass --data <shared/data dir>`);
  const tokenizer = fromTokenizerJSON(fs.readFileSync(file, 'utf8'));
  tokenizer.setTruncation(null);
  return tokenizer;
}

function sample<T>(items: T[], limit: number, salt: number): T[] {
  return new Rng(seed + salt).shuffle([...items]).slice(0, limit);
}

function baseOptions(name: string, extra: TrainerOptionsInput = {}): TrainerOptionsInput {
  return {
    outputDir: path.join(outDir, name),
    epochs,
    batchSize: 32,
    learningRate: 1e-4,
    warmupRatio: 0.1,
    weightDecay: 0.01,
    maxWallClockSeconds: minutesPerTask * 60,
    evalEachEpoch: false,
    saveEachEpoch: false,
    progress: 'plain',
    logEverySteps: 20,
    seed,
    ...extra,
    ...(learningRate !== undefined ? { learningRate } : {}),
  };
}

// ------------------------------------------------------------------------------------------------
// Pre-training (when no --model is given)

async function pretrain(tokenizer: Tokenizer): Promise<string> {
  const dir = path.join(outDir, 'pretrained');
  const minutes = Number(args['pretrain-minutes'] ?? 10);
  const hidden = Number(args.hidden ?? 128);
  const layers = Number(args.layers ?? 2);
  const backbone = new BertModel(
    { vocab_size: tokenizer.getVocabSize(), hidden_size: hidden, num_hidden_layers: layers, num_attention_heads: Math.max(2, hidden / 64), intermediate_size: hidden * 4, max_position_embeddings: 256 },
    { seed },
  );
  const mlm = new MaskedLanguageModeling(mlmOptions({ buildExamples: true }));
  const books = ['pg1342.txt', 'pg11.txt', 'pg84.txt', 'pg1661.txt', 'pg2701.txt', 'pg74.txt'].map((b) => path.join(dataDir, 'corpus/gutenberg', b));
  const corpus = new TextCorpus({ paths: [path.join(dataDir, 'corpus/wikitext-2-raw/wiki.valid.raw'), ...books], layout: 'paragraphs', stripGutenberg: true, seed, repeat: false });
  const documents = (epoch: number) =>
    (async function* (): AsyncGenerator<TokenizedDocument> {
      for await (const doc of corpus.documents({ split: 'train', seed: seed + epoch })) {
        const sentences = doc.sentences.map((s) => Int32Array.from(tokenizer.encode(s, null, { addSpecialTokens: false }).ids)).filter((ids) => ids.length > 0);
        if (sentences.length) yield { id: doc.id, sentences };
      }
    })();
  const maxSteps = Number(args['pretrain-steps'] ?? 100000);
  const trainer = new Trainer({
    backbone,
    objectives: [{ objective: mlm }],
    tokenizer,
    seed,
    options: {
      outputDir: path.join(outDir, 'pretrain'),
      maxSteps,
      maxWallClockSeconds: minutes * 60,
      batchSize: 32,
      maxLength: 128,
      learningRate: 1e-3,
      warmupSteps: 100,
      schedule: 'constant',
      saveEverySteps: 500,
      progress: 'plain',
      logEverySteps: 25,
    },
  });
  log(`pre-training BERT (hidden ${hidden}, ${layers} layers, vocab ${tokenizer.getVocabSize()}) with MLM for up to ${minutes} min`);
  const result = await trainer.train({ train: { documents } });
  log(`pre-training stopped at step ${result.step} (${result.reason}); last loss ${result.losses.at(-1)?.toFixed(3)}`);
  trainer.saveModel(dir);
  trainer.dispose();
  mlm.dispose();
  backbone.dispose();
  pretrainSummary = { steps: result.step, firstLoss: result.losses[0], lastLoss: average(result.losses.slice(-20)), minutes };
  return dir;
}

let pretrainSummary: { steps: number; firstLoss: number; lastLoss: number; minutes: number } | undefined;

function average(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

function loadBackbone(modelDir: string, pooler: boolean): BertModel {
  return loadBertPretrained(modelDir, { addPoolingLayer: pooler, seed });
}

// ------------------------------------------------------------------------------------------------
// Tasks

type Metrics = Record<string, number>;

async function sst2(tokenizer: Tokenizer, modelDir: string): Promise<Metrics> {
  tokenizer.setTruncation({ maxLength: 64 });
  const toExample = (e: { text: string; label: number }): Example => {
    const enc = tokenizer.encode(e.text);
    return { inputIds: Int32Array.from(enc.ids), tokenTypeIds: Int32Array.from(enc.typeIds), labels: { labels: e.label } };
  };
  const train = sample(readGlue('sst2', path.join(dataDir, 'sentiment/sst2/train.tsv')).examples, trainLimit, 1).map(toExample);
  const dev = readGlue('sst2', path.join(dataDir, 'sentiment/sst2/dev.tsv')).examples.slice(0, evalLimit).map(toExample);
  const backbone = loadBackbone(modelDir, true);
  const head = new SequenceClassificationHead(sequenceClassificationOptions({ numLabels: 2, labels: ['negative', 'positive'] }));
  const trainer = new Trainer({ backbone, head, tokenizer, computeMetrics: (p, e) => taskMetrics('sequence-classification', p, e), options: baseOptions('sst2') });
  const result = await trainer.train({ train });
  const metrics = await trainer.evaluate(dev);
  log(`sst2: ${result.step} steps; dev ${JSON.stringify(metrics)}`);
  trainer.dispose();
  head.dispose();
  backbone.dispose();
  return { train: train.length, eval: dev.length, steps: result.step, ...metrics };
}

async function stsb(tokenizer: Tokenizer, modelDir: string): Promise<Metrics> {
  tokenizer.setTruncation({ maxLength: 128 });
  const toExample = (e: { text: string; textPair?: string; score: number }): Example => {
    const enc = tokenizer.encode(e.text, e.textPair ?? null);
    // Integral scores (5.0) mixed with fractional ones stay float: the trainer's batches keep such label fields Float32.
    return { inputIds: Int32Array.from(enc.ids), tokenTypeIds: Int32Array.from(enc.typeIds), labels: { labels: e.score } };
  };
  const train = sample(readGlue('stsb', path.join(dataDir, 'pairs/STS-B/train.tsv')).examples, trainLimit, 2).map(toExample);
  const dev = readGlue('stsb', path.join(dataDir, 'pairs/STS-B/dev.tsv')).examples.slice(0, evalLimit).map(toExample);
  const backbone = loadBackbone(modelDir, true);
  const head = new RegressionHead(regressionOptions());
  const trainer = new Trainer({ backbone, head, tokenizer, computeMetrics: (p, e) => taskMetrics('sequence-regression', p, e), options: baseOptions('stsb', { epochs: epochs + 1 }) });
  const result = await trainer.train({ train });
  const metrics = await trainer.evaluate(dev);
  log(`stsb: ${result.step} steps; dev ${JSON.stringify(metrics)}`);
  trainer.dispose();
  head.dispose();
  backbone.dispose();
  return { train: train.length, eval: dev.length, steps: result.step, ...metrics };
}

async function conll(tokenizer: Tokenizer, modelDir: string): Promise<Metrics> {
  tokenizer.setTruncation(null);
  const trainSet = readConll(path.join(dataDir, 'ner/conll2003/train.txt'));
  const names = trainSet.labels!.names;
  const devSet = readConll(path.join(dataDir, 'ner/conll2003/valid.txt'), { labels: names });
  const toExample = (e: { tokens: string[]; tagIds: number[] }) => {
    const { ids, wordIds } = encodeSplitWords(tokenizer, e.tokens, 128);
    const example: Example = { inputIds: Int32Array.from(ids), tokenLabels: { labels: alignLabelsToTokens(wordIds, e.tagIds) } };
    return { example, wordIds };
  };
  const train = sample(trainSet.examples.filter((e) => e.tokens.length > 0), trainLimit, 3).map((e) => toExample(e).example);
  const devSentences = devSet.examples.filter((e) => e.tokens.length > 0).slice(0, evalLimit);
  const dev = devSentences.map(toExample);
  const backbone = loadBackbone(modelDir, false);
  const head = new TokenClassificationHead(tokenClassificationOptions({ numLabels: names.length, labels: names }));
  const trainer = new Trainer({ backbone, head, tokenizer, options: baseOptions('conll', { learningRate: 2e-4 }) });
  const result = await trainer.train({ train });
  const predictions = await trainer.predict(dev.map((d) => d.example));
  const predictedTags = predictions.map((p, i) => {
    const perToken = Array.from({ length: p.shape[0] }, (_, t) => argmax(p.values.subarray(t * names.length, (t + 1) * names.length)));
    return wordPredictions(dev[i].wordIds, perToken, devSentences[i].tokens.length, names.indexOf('O')).map((id) => names[id]);
  });
  const f1 = entityF1(
    devSentences.map((s) => s.tags),
    predictedTags,
  );
  const tokenMetrics = taskMetrics('token-classification', predictions, dev.map((d) => d.example), { labelNames: names });
  log(`conll: ${result.step} steps; dev entity F1 (words) ${f1.toFixed(4)}; ${JSON.stringify(tokenMetrics)}`);
  trainer.dispose();
  head.dispose();
  backbone.dispose();
  return { train: train.length, eval: dev.length, steps: result.step, entity_f1: f1, token_accuracy: tokenMetrics.token_accuracy };
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

async function squad(tokenizer: Tokenizer, modelDir: string): Promise<Metrics> {
  tokenizer.setTruncation({ maxLength: 192, strategy: 'only_second', stride: 48 });
  const shard = readSquad(path.join(dataDir, 'qa/squad-v1.1/train-v1.1.reconstructed.part00.json'));
  // Hold out whole articles: the last 10% of titles are the evaluation set.
  const titles = [...new Set(shard.examples.map((e) => e.title))];
  const heldOut = new Set(titles.slice(Math.floor(titles.length * 0.9)));
  const trainQuestions = sample(shard.examples.filter((e) => !heldOut.has(e.title)), trainLimit, 4);
  const evalQuestions = shard.examples.filter((e) => heldOut.has(e.title)).slice(0, evalLimit);
  const featuresOf = (q: (typeof shard.examples)[number], labeled: boolean): QaFeature[] => qaFeatures(tokenizer.encode(q.question, q.context), labeled ? q.answers[0] : undefined);
  const train = trainQuestions.flatMap((q) => featuresOf(q, true).map((f) => f.example));
  const evalFeatures = evalQuestions.map((q) => featuresOf(q, false));
  const backbone = loadBackbone(modelDir, false);
  const head = new QuestionAnsweringHead(questionAnsweringOptions());
  const trainer = new Trainer({ backbone, head, tokenizer, options: baseOptions('squad', { learningRate: 2e-4, batchSize: 16 }) });
  const result = await trainer.train({ train });
  const flat = evalFeatures.flat();
  const predictions = await trainer.predict(flat.map((f) => f.example));
  let k = 0;
  const answers = evalFeatures.map((features, i) => {
    const windows = features.map((f) => {
      const p = predictions[k++];
      const length = p.shape[0];
      return {
        startLogits: Array.from({ length }, (_, t) => p.values[t * 2]),
        endLogits: Array.from({ length }, (_, t) => p.values[t * 2 + 1]),
        contextOffsets: f.contextOffsets.slice(0, length),
      };
    });
    return bestSpans(windows, evalQuestions[i].context, { nBest: 20, maxAnswerLength: 30 })[0]?.text ?? '';
  });
  const scores = squadScores(
    answers,
    evalQuestions.map((q) => q.answers.map((a) => a.text)),
  );
  log(`squad: ${result.step} steps; held-out EM ${scores.exactMatch.toFixed(2)} F1 ${scores.f1.toFixed(2)}`);
  trainer.dispose();
  head.dispose();
  backbone.dispose();
  return { train: trainQuestions.length, trainFeatures: train.length, eval: evalQuestions.length, steps: result.step, exact_match: scores.exactMatch, f1: scores.f1 };
}

async function main(): Promise<void> {
  registerKernelPack(nativeKernels); // PRETRAIN_BACKEND=native can then choose it
  const backend = await initBackend();
  fs.mkdirSync(outDir, { recursive: true });
  const tokenizer = loadTokenizer();
  const started = Date.now();
  const modelDir = args.model ? path.resolve(args.model) : await pretrain(tokenizer);
  const runners: Record<string, (t: Tokenizer, m: string) => Promise<Metrics>> = { sst2, conll, stsb, squad };
  const results: Record<string, Metrics> = {};
  for (const task of tasks) {
    const run = runners[task];
    if (!run) throw new Error(`unknown task "${task}" (known: ${Object.keys(runners).join(', ')})`);
    const t0 = Date.now();
    results[task] = { ...(await run(tokenizer, modelDir)), minutes: (Date.now() - t0) / 60000 };
    fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify({ args, backend, pretrain: pretrainSummary, modelDir, results }, null, 2));
  }
  const rows = Object.entries(results).map(([task, m]) => `| ${task} | ${m.train} | ${m.eval} | ${m.steps} | ${headline(task, m)} | ${m.minutes.toFixed(1)} |`);
  process.stdout.write(['| task | train examples | eval examples | steps | result | minutes |', '|---|---|---|---|---|---|', ...rows].join('\n') + '\n');
  log(`done in ${((Date.now() - started) / 60000).toFixed(1)} min on ${backend.name}`);
}

function headline(task: string, m: Metrics): string {
  switch (task) {
    case 'sst2':
      return `accuracy ${m.accuracy.toFixed(4)}, F1 ${m.f1.toFixed(4)}`;
    case 'conll':
      return `entity F1 ${m.entity_f1.toFixed(4)} (token accuracy ${m.token_accuracy.toFixed(4)})`;
    case 'stsb':
      return `Pearson ${m.pearson.toFixed(4)}, Spearman ${m.spearman.toFixed(4)}`;
    case 'squad':
      return `EM ${m.exact_match.toFixed(2)}, F1 ${m.f1.toFixed(2)}`;
    default:
      return JSON.stringify(m);
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
