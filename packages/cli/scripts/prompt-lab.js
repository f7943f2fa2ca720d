#!/usr/bin/env node
/**
 * Prompt-based fine-tuning experiment (LM-BFF / PET style): classify "<sentence> it was [MASK] ." by
 * the MLM head's logits for label words, pre-trained (backbone + MLM head from a checkpoint) vs
 * scratch (both from HF's default init), on the UCI sentiment sentences.
 *   node packages/cli/scripts/prompt-lab.js '{"checkpoint":"data/pretrained/bert-tiny-books-reviews","sizes":[100,300,1000]}'
 */
'use strict';
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
const core = require('@pretrain/core');
const { MaskedLanguageModeling, mlmOptions } = require('@pretrain/objective-mlm');
const { registerBuiltins } = require('../dist/builtins');
const { loadTokenizer } = require('@pretrain/tokenizer');
const { pairedDifference } = require('../dist/pipeline/paired');
const { createPlugin, sentimentSplits } = require('../dist/commands/demo');
const { PRESETS } = require('../dist/commands/demo-presets');

const repoRoot = path.resolve(__dirname, '../../..');
const dataDir = path.join(repoRoot, 'data');
const base = PRESETS.quick;
const t0 = Date.now();
const log = (s) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${s}`);

function encodePrompt(tokenizer, text, o) {
  const ids = (s) => tokenizer.encode(s, null, { addSpecialTokens: false }).ids;
  const sp = tokenizer.specialTokenIds();
  const body = ids(text).slice(0, o.maxText ?? 48);
  const before = ids(o.prefix ?? '');
  const after = ids(o.template ?? 'it was');
  const inputIds = [sp.cls, ...before, ...body, ...after, sp.mask, ...ids('.'), sp.sep];
  return { inputIds: Int32Array.from(inputIds), maskAt: 1 + before.length + body.length + after.length };
}

async function arm(kind, o, p, splits, n) {
  const scratch = kind === 'scratch';
  const backbone = await createPlugin('model', 'bert', { ...p.modelOptions, ...(scratch ? { initializerRange: 0.02 } : {}) }, dataDir, base.seed + 1);
  const mlm = new MaskedLanguageModeling(mlmOptions({ maskProbability: 0.15 }));
  mlm.init({ backbone, tokenizer: p.tokenizer, rng: new core.Rng(base.seed + 2) });
  if (!scratch) {
    const backboneState = new Map(), headState = new Map();
    for (const [name, t] of p.all) (name.startsWith('bert.') ? backboneState.set(name.slice(5), t) : name.startsWith('cls.predictions') ? headState.set(name, t) : null);
    const r1 = backbone.loadStateDict(backboneState);
    const r2 = mlm.loadStateDict(headState);
    if (r1.missing.length || r2.missing.length) throw new Error(`load: ${JSON.stringify([r1, r2])}`);
  }
  const words = (o.words ?? ['terrible', 'great']).map((w) => p.tokenizer.tokenToId(w));
  if (words.some((w) => w === undefined || w === null)) throw new Error(`label word not in vocab: ${o.words}`);
  const enc = (rows) => rows.map((r) => ({ ...encodePrompt(p.tokenizer, r.text, o), y: Number(r.label) }));
  const train = enc(splits.train.slice(0, n));
  const dev = enc(splits.validation);
  const wordIdx = tf.tensor1d(words, 'int32');
  const logitsOf = (items, training, seed) => {
    const batch = core.collate(items.map((i) => ({ inputIds: i.inputIds, tokenTypeIds: new Int32Array(i.inputIds.length) })), { padId: 0 });
    const seq = batch.inputIds.length / items.length;
    const ids = tf.tensor2d(batch.inputIds, [items.length, seq], 'int32');
    const mask = tf.tensor2d(batch.attentionMask, [items.length, seq], 'int32');
    const types = tf.tensor2d(batch.tokenTypeIds, [items.length, seq], 'int32');
    const out = backbone.forward({ inputIds: ids, attentionMask: mask, tokenTypeIds: types }, { training, dropoutSeed: seed });
    const positions = Int32Array.from(items.map((it, b) => b * seq + it.maskAt));
    return tf.gather(mlm.logitsAt(out.sequenceOutput, positions), wordIdx, 1);
  };
  const evaluate = () => {
    const correct = new Uint8Array(dev.length);
    for (let i = 0; i < dev.length; i += 64) {
      const chunk = dev.slice(i, i + 64);
      const pred = tf.tidy(() => tf.argMax(logitsOf(chunk, false), 1).dataSync());
      chunk.forEach((it, j) => (correct[i + j] = pred[j] === it.y ? 1 : 0));
    }
    return correct;
  };
  const zeroShot = evaluate();
  const vars = [...backbone.variables().values(), ...mlm.variables().values()];
  const optimizer = tf.train.adam(o.learningRate ?? 1e-4);
  const rng = new core.Rng(base.seed + 3);
  const batchSize = o.batchSize ?? 16;
  const steps = o.steps ?? Math.min(o.maxSteps ?? 200, Math.max(o.minSteps ?? 50, Math.ceil(((o.epochs ?? 10) * n) / batchSize)));
  let order = [];
  for (let step = 0; step < steps; step++) {
    if (order.length < batchSize) order = order.concat(rng.shuffle([...train.keys()]));
    const items = order.splice(0, batchSize).map((k) => train[k]);
    const labels = tf.tensor1d(items.map((i) => i.y), 'int32');
    tf.tidy(() => optimizer.minimize(() => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 2), logitsOf(items, true, step + 1)), false, vars));
    labels.dispose();
  }
  const correct = evaluate();
  optimizer.dispose();
  wordIdx.dispose();
  mlm.dispose();
  backbone.dispose();
  return { zeroShot, correct, steps };
}

(async () => {
  registerBuiltins(core.defaultRegistry);
  await core.initBackend({ logger: () => {} });
  const o = JSON.parse(process.argv[2] ?? '{}');
  const dir = path.resolve(repoRoot, o.checkpoint ?? 'data/pretrained/bert-tiny-books-reviews');
  const tokenizer = loadTokenizer(dir);
  const all = core.readCheckpointTensors(dir);
  const p = { tokenizer, all, modelOptions: { ...base.model.options, vocabSize: tokenizer.getVocabSize() } };
  const splits = sentimentSplits(dataDir, base.seed);
  const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
  for (const n of o.sizes ?? [100, 300, 1000]) {
    const pre = await arm('pretrained', o, p, splits, n);
    const scr = o.arms && !o.arms.includes('scratch') ? null : await arm('scratch', o, p, splits, n);
    const line = { n, steps: pre.steps, zeroShot: +mean(Array.from(pre.zeroShot)).toFixed(4), pretrained: +mean(Array.from(pre.correct)).toFixed(4) };
    if (scr) {
      const d = pairedDifference([{ a: pre.correct, b: scr.correct }]);
      Object.assign(line, { scratch: +mean(Array.from(scr.correct)).toFixed(4), gain: +(d.gain * 100).toFixed(1), pm: +(d.halfWidth95 * 100).toFixed(1) });
    }
    log(JSON.stringify({ ...line, o: JSON.stringify(o) }));
  }
})().catch((e) => {
  console.error(e.stack);
  process.exit(1);
});
