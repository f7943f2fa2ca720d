#!/usr/bin/env node
/**
 * The runs behind docs/guides/pretrain-bert.md "What the demo measures": the demo's pipeline
 * (runPretraining / runFinetuning, the quick preset's model, recipe and UCI splits) with one thing
 * changed at a time. Build the CLI first (`npx nx run @pretrain/cli:build`).
 *
 *   node packages/cli/scripts/transfer-study.js pretrain '{"name":"books","minutes":4.5}'
 *   node packages/cli/scripts/transfer-study.js finetune '{"name":"books","n":300,"steps":40,"arms":["pretrained","scratch"]}'
 *
 * pretrain options: name (run folder runs/transfer-study/<name>), minutes (cumulative wall-clock cap; rerun
 *   with a larger value and "resume": true to continue), steps (cap, default 40,000), books (file names in
 *   data/gutenberg, default the preset's six; [] for none), extra (more text files, e.g. the Rotten Tomatoes
 *   snippets of ../shared/data/sentiment/rt-polarity), mlmOnly (MLM building its own full-sentence examples, no NSP).
 * finetune options: name, n (labeled examples), steps, arms ("pretrained", "scratch"), learningRate,
 *   frozen (train the classifier only), pooling ("mean" | "first"; default the preset's).
 * Prints one line per run; the pre-trained weights and tokenizer come from <run>/checkpoint.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const core = require('@pretrain/core');
const { registerBuiltins } = require('../dist/builtins');
const { trainTokenizer } = require('../dist/pipeline/tokenizers');
const { loadTokenizer } = require('@pretrain/tokenizer');
const { runFinetuning } = require('../dist/pipeline/train');
const { readBackboneTensors } = require('../dist/pipeline/checkpoint');
const { createPlugin, pretrainPreset, sentencesOf, sentimentSplits } = require('../dist/commands/demo');
const { PRESETS } = require('../dist/commands/demo-presets');
const { stopSignal } = require('../dist/interrupt');

const repoRoot = path.resolve(__dirname, '../../..');
const dataDir = path.join(repoRoot, 'data');
const preset = PRESETS.quick;
/** The six books every run in the guide pre-trained on (the quick preset now adds movie reviews). */
const SIX_BOOKS = ['pg11.txt', 'pg84.txt', 'pg1342.txt', 'pg1661.txt', 'pg74.txt', 'pg2701.txt'];
const env = { stop: stopSignal, log: (line) => console.log(line) };

const create = (kind, name, options, seed) => createPlugin(kind, name, options, dataDir, seed);

function runDir(name) {
  if (!name || /[/\\]/.test(name)) throw new Error('transfer-study: "name" (a folder name) is required');
  return path.join(repoRoot, 'runs', 'transfer-study', name);
}

async function pretrain(o) {
  const dir = runDir(o.name);
  const paths = [...(o.books ?? SIX_BOOKS).map((b) => path.join(dataDir, 'gutenberg', b)), ...(o.extra ?? []).map((p) => path.resolve(p))];
  const corpus = await create('corpus', 'text', { ...preset.corpus.options, paths }, preset.seed);
  // The tokenizer is a pure function of the corpus, so a resumed run trains the same one again.
  const tokenizer = await trainTokenizer(sentencesOf(corpus, preset.seed), { type: 'wordpiece', vocabSize: preset.vocabSize });
  const modelOptions = { ...preset.model.options, vocabSize: tokenizer.getVocabSize() };
  // The guide's runs used the recipe of that time: MLM at 15% + NSP.
  const objectives = o.mlmOnly ? [{ name: 'mlm', options: { buildExamples: true } }] : [{ name: 'mlm', options: {} }, { name: 'nsp', options: {} }];
  const trainer = { maxSteps: o.steps ?? 40000, maxWallClockSeconds: Math.round((o.minutes ?? 4.5) * 60), progress: 'none', resume: o.resume === true };
  const { backbone, pre } = await pretrainPreset(preset, modelOptions, tokenizer, corpus, dataDir, dir, env, { objectives, trainer });
  backbone.dispose();
  console.log(`pretrain ${o.name}: ${pre.result.step} steps, ${(pre.elapsedMs / 1000).toFixed(0)} s this run; held-out ${JSON.stringify(pre.evalAfter ?? 'none (no validation documents)')}`);
}

async function finetune(o) {
  const checkpoint = path.join(runDir(o.name), 'checkpoint');
  if (!fs.existsSync(checkpoint)) throw new Error(`transfer-study: ${checkpoint} not found (run "pretrain" first)`);
  const tokenizer = loadTokenizer(checkpoint);
  const modelOptions = { ...preset.model.options, vocabSize: tokenizer.getVocabSize() };
  const backboneState = readBackboneTensors(checkpoint, 'bert');
  const splits = sentimentSplits(dataDir, preset.seed);
  const n = o.n ?? splits.train.length;
  const trainer = { learningRate: 1e-3, warmupSteps: 10, maxLength: 64, progress: 'none', maxSteps: o.steps ?? 100, batchSize: 32 };
  if (o.learningRate !== undefined) trainer.learningRate = o.learningRate;
  if (o.frozen) trainer.strategy = { type: 'frozen-backbone' };
  for (const arm of o.arms ?? ['pretrained', 'scratch']) {
    const model = await create('model', 'bert', modelOptions, preset.seed + 1);
    if (arm === 'pretrained') {
      const report = model.loadStateDict(backboneState);
      if (report.missing.length || report.unexpected.length) throw new Error(`loading ${checkpoint}: ${JSON.stringify(report)}`);
    } else if (arm !== 'scratch') throw new Error(`transfer-study: unknown arm "${arm}" (pretrained | scratch)`);
    const head = await create('head', 'sequence-classification', { pooling: 'mean', ...(o.pooling ? { pooling: o.pooling } : {}), numLabels: 2, labels: splits.labels }, preset.seed);
    const run = await runFinetuning({ backbone: model, head, tokenizer, splits: { ...splits, train: splits.train.slice(0, n) }, options: trainer, seed: preset.seed }, env);
    console.log(`finetune ${o.name} ${arm}: n=${n} steps=${trainer.maxSteps} lr=${trainer.learningRate}${o.frozen ? ' frozen' : ''} → accuracy ${run.validation.accuracy.toFixed(4)} (loss ${run.validation.loss.toFixed(3)}, ${run.validation.examples} validation sentences)`);
    model.dispose();
    head.dispose();
  }
  for (const t of backboneState.values()) t.dispose();
}

(async () => {
  const [command, json] = process.argv.slice(2);
  const commands = { pretrain, finetune };
  if (!commands[command]) throw new Error('usage: transfer-study.js pretrain|finetune \'{json options}\' (see the header of this file)');
  registerBuiltins(core.defaultRegistry);
  await core.initBackend({ logger: () => {} });
  await commands[command](JSON.parse(json ?? '{}'));
})().catch((error) => {
  console.error(`transfer-study: ${error.message}`);
  process.exit(1);
});
