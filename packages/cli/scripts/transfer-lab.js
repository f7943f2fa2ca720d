#!/usr/bin/env node
/**
 * The pre-training study behind docs/guides/pretrain-bert.md ("The study"): pre-train with one recipe
 * change at a time, then fine-tune part-of-speech / chunk tagging (CoNLL-2003, ../shared/data) and
 * sentiment (UCI, data/) pre-trained vs scratch, or probe each layer. Build the CLI first
 * (`npx nx run @pretrain/cli:build`). Runs go to runs/lab/<name>; NAME@STEP names a saved checkpoint.
 *
 *   node packages/cli/scripts/transfer-lab.js pretrain '{"name":"E-mix","corpus":"mix","steps":1300,"minutes":60,"objectives":[...]}'
 *   node packages/cli/scripts/transfer-lab.js finetune '{"name":"F-long@2000","tasks":["pos","chunk","sentiment"],"pos":{"sizes":[100]}}'
 *   node packages/cli/scripts/transfer-lab.js both '{...pretrain options, "finetune":{...finetune options}}'
 *   node packages/cli/scripts/transfer-lab.js probe '{"name":"F-long@4000","posTrain":1000}'
 *   node packages/cli/scripts/transfer-lab.js ship '{"name":"F-long@6000","dir":"data/pretrained/bert-tiny-books-reviews"}'
 *   node packages/cli/scripts/transfer-lab.js neighbours '{"dir":"data/pretrained/bert-tiny-books-reviews"}'
 *
 * pretrain: corpus ("books": the six books; "imdb": all 50,000 shared IMDB reviews; "mix": the demo's
 *   books + 10,000 reviews; "reviews": the demo's 10,000 reviews alone; "extra": 60 more shared books), vocabSize, model (BERT option overrides),
 *   objectives, trainer (overrides of the quick preset's pre-training), steps (cap), minutes (cap),
 *   initFrom (a BERT checkpoint folder to continue from: its tokenizer and backbone tensors).
 * finetune: tasks (pos | chunk | sentiment), per task { sizes, steps or epochs/minSteps/maxSteps,
 *   batchSize, learningRate }, arms. The scratch arm uses HF's default initialisation.
 * probe: standardised ridge-regression probes on every layer's states (per word for POS, mean over
 *   tokens for sentiment), pre-trained vs random init.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const core = require('@pretrain/core');
const { readConll } = require('@pretrain/corpus');
const { TokenClassificationHead, tokenClassificationOptions } = require('@pretrain/heads');
const { encodeTaggedWords } = require('../dist/pipeline/tagging');
const { Trainer } = require('@pretrain/trainer');
const { registerBuiltins } = require('../dist/builtins');
const { trainTokenizer } = require('../dist/pipeline/tokenizers');
const { loadTokenizer } = require('@pretrain/tokenizer');
const { runFinetuning } = require('../dist/pipeline/train');
const { readBackboneTensors } = require('../dist/pipeline/checkpoint');
const { pairedDifference } = require('../dist/pipeline/paired');
const { createPlugin, pretrainPreset, sentimentSplits } = require('../dist/commands/demo');
const { PRESETS } = require('../dist/commands/demo-presets');
const { stopSignal } = require('../dist/interrupt');

const repoRoot = path.resolve(__dirname, '../../..');
const dataDir = path.join(repoRoot, 'data');
const shared = path.resolve(repoRoot, '../shared/data');
const base = PRESETS.quick;
const env = { stop: stopSignal, log: (line) => console.log(line) };
const t0 = Date.now();
const log = (s) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${s}`);

function runDir(name) {
  return path.join(repoRoot, 'runs', 'lab', name);
}

function corpusPaths(which) {
  if (which === 'books') return { paths: base.corpusFiles.filter((f) => f.startsWith('gutenberg/')).map((f) => path.join(dataDir, f)), stripGutenberg: true };
  if (which === 'imdb') return { paths: [path.join(shared, 'corpus/imdb-unsup/unsup.jsonl.gz')], format: 'jsonl' };
  if (which === 'mix') return { paths: base.corpusFiles.map((f) => path.join(dataDir, f)), stripGutenberg: true };
  if (which === 'reviews') return { paths: base.corpusFiles.filter((f) => f.startsWith('imdb-unsup/')).map((f) => path.join(dataDir, f)) };
  if (which === 'extra') return { paths: [path.join(shared, 'corpus/gutenberg-extra')], stripGutenberg: true };
  throw new Error(`unknown corpus ${which}`);
}

async function pretrain(o) {
  const dir = runDir(o.name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'lab.json'), JSON.stringify(o, null, 2));
  const corpus = await createPlugin('corpus', 'text', { validationFraction: 0.02, ...corpusPaths(o.corpus ?? 'books'), ...(o.corpusOptions ?? {}) }, dataDir, base.seed);
  let tokenizer;
  const tokFile = path.join(dir, 'tokenizer.json');
  // initFrom: continue pre-training from a checkpoint folder (its tokenizer and backbone tensors).
  const initFrom = o.initFrom ? path.resolve(repoRoot, o.initFrom) : null;
  if (initFrom && !fs.existsSync(tokFile)) fs.copyFileSync(path.join(initFrom, 'tokenizer.json'), tokFile);
  if (fs.existsSync(tokFile)) tokenizer = loadTokenizer(tokFile);
  else {
    const limit = o.tokenizerSentences ?? 200000;
    async function* sentences() {
      let n = 0;
      for await (const d of corpus.documents({ split: 'train', seed: base.seed })) {
        for (const s of d.sentences) {
          yield s;
          if (++n >= limit) return;
        }
      }
    }
    tokenizer = await trainTokenizer(sentences(), { type: o.kind === 'gpt' ? 'bpe' : 'wordpiece', vocabSize: o.vocabSize ?? base.vocabSize });
    fs.writeFileSync(tokFile, tokenizer.toJSON());
  }
  log(`tokenizer ${tokenizer.getVocabSize()} tokens`);
  const modelOptions = { ...modelDefaults(o.kind, tokenizer), ...(o.model ?? {}), vocabSize: tokenizer.getVocabSize() };
  const preset = { ...base, evalDocuments: o.evalDocuments ?? base.evalDocuments, model: { name: modelName(o.kind), options: modelOptions }, pretrain: { ...base.pretrain, ...(o.trainer ?? {}) } };
  const objectives = o.objectives ?? (o.kind === 'gpt' ? [{ name: 'clm', options: {} }] : base.objectives);
  const trainer = { maxSteps: o.steps ?? 100000, maxWallClockSeconds: Math.round((o.minutes ?? 4.5) * 60), progress: 'none', resume: o.resume === true };
  const initialBackbone = initFrom ? readBackboneTensors(initFrom, 'bert') : undefined;
  const { backbone, pre } = await pretrainPreset(preset, modelOptions, tokenizer, corpus, dataDir, dir, env, { objectives, trainer, initialBackbone });
  backbone.dispose();
  log(`pretrain ${o.name}: ${pre.result.step} steps, ${(pre.elapsedMs / 1000).toFixed(0)} s; before ${JSON.stringify(pre.evalBefore)} after ${JSON.stringify(pre.evalAfter)}`);
}

/** GPT runs ("kind": "gpt"): the demo BERT's size as a GPT-2 (2 layers, width 128, 2 heads), byte-level BPE, CLM. */
function modelName(kind) {
  return kind === 'gpt' ? 'gpt2' : 'bert';
}

function modelDefaults(kind, tokenizer) {
  if (kind !== 'gpt') return base.model.options;
  const endOfText = tokenizer.specialTokenIds().eos ?? tokenizer.tokenToId('<|endoftext|>');
  return { nEmbd: 128, nLayer: 2, nHead: 2, nPositions: 128, bosTokenId: endOfText, eosTokenId: endOfText };
}

function loadPretrained(name) {
  const dir = runDir(name.split('@')[0]);
  const lab = JSON.parse(fs.readFileSync(path.join(dir, 'lab.json'), 'utf8'));
  const checkpoint = path.join(dir, name.includes('@') ? `checkpoint-${name.split('@')[1]}` : 'checkpoint');
  const tokenizer = loadTokenizer(checkpoint);
  const modelOptions = { ...modelDefaults(lab.kind, tokenizer), ...(lab.model ?? {}), vocabSize: tokenizer.getVocabSize() };
  const state = readBackboneTensors(checkpoint, lab.kind === 'gpt' ? 'transformer' : 'bert');
  return { tokenizer, modelOptions, state, kind: lab.kind ?? 'bert' };
}

async function makeBackbone(arm, p, o) {
  // The scratch arm starts from HF's default initialisation unless the study says otherwise.
  const scratchInit = arm === 'scratch' && !o.scratchKeepsInit ? { initializerRange: 0.02 } : {};
  const model = await createPlugin('model', modelName(p.kind), { ...p.modelOptions, ...scratchInit, ...(o.modelOverrides ?? {}) }, dataDir, base.seed + 1);
  if (arm === 'pretrained') {
    // transfer: "all" (default) or a list of name prefixes to carry over (e.g. ["embeddings."]); the rest keeps the scratch init.
    const keep = o.transfer && o.transfer !== 'all' ? (name) => o.transfer.some((prefix) => name.startsWith(prefix)) : () => true;
    const state = new Map([...p.state].filter(([name]) => keep(name)));
    const report = model.loadStateDict(state);
    if (report.unexpected.length || (!o.transfer && report.missing.length)) throw new Error(`load: ${JSON.stringify(report)}`);
  }
  return model;
}

/** CoNLL-2003 sentences with one column as plain tags ({ tokens, tags }). */
function readPos(file, column) {
  return readConll(file, { tagColumn: column, tagFormat: 'plain' }).examples;
}

async function finetunePos(o, p, task = 'pos') {
  const column = o.column ?? 1;
  const train = new core.Rng(base.seed).shuffle(readPos(path.join(shared, 'ner/conll2003/train.txt'), column));
  const valid = readPos(path.join(shared, 'ner/conll2003/valid.txt'), column).slice(0, o.validation ?? 1000);
  const names = [...new Set(train.flatMap((s) => s.tags).concat(valid.flatMap((s) => s.tags)))].sort();
  const toExample = (s) => {
    const { example, wordIds } = encodeTaggedWords(p.tokenizer, s.tokens, s.tags.map((t) => names.indexOf(t)), 64);
    return { example, wordIds };
  };
  const dev = valid.map(toExample);
  const out = [];
  for (const n of o.sizes ?? [100, 500]) {
    const examples = train.slice(0, n).map((s) => toExample(s).example);
    const batchSize = o.batchSize ?? 32;
    const steps = o.steps ?? Math.min(o.maxSteps ?? 300, Math.max(o.minSteps ?? 60, Math.ceil(((o.epochs ?? 10) * n) / batchSize)));
    const correct = {};
    for (const arm of o.arms ?? ['pretrained', 'scratch']) {
      const backbone = await makeBackbone(arm, p, o);
      const head = new TokenClassificationHead(tokenClassificationOptions({ numLabels: names.length, labels: names }));
      const trainer = new Trainer({ backbone, head, tokenizer: p.tokenizer, options: { learningRate: o.learningRate ?? 1e-3, warmupSteps: 10, maxSteps: steps, batchSize, evalEachEpoch: false, saveEachEpoch: false, progress: 'none', ...(o.trainer ?? {}) }, seed: base.seed });
      await trainer.train({ train: examples });
      const predictions = await trainer.predict(dev.map((d) => d.example));
      const flags = [];
      const sentenceOf = [];
      predictions.forEach((pr, i) => {
        const labels = dev[i].example.tokenLabels.labels;
        for (let t = 0; t < labels.length; t++) {
          if (labels[t] < 0) continue;
          const row = pr.values.subarray(t * names.length, (t + 1) * names.length);
          let best = 0;
          for (let k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
          flags.push(best === labels[t] ? 1 : 0);
          sentenceOf.push(i);
        }
      });
      correct[arm] = Uint8Array.from(flags);
      correct.groups = Int32Array.from(sentenceOf);
      trainer.dispose();
      head.dispose();
      backbone.dispose();
    }
    out.push(report(task, n, steps, correct));
  }
  return out;
}

/** Pang & Lee's movie-review sentence polarity (../shared): 1,000 held out, the rest to train from. */
function rtSplits() {
  const read = (f, label) => fs.readFileSync(path.join(shared, 'sentiment/rt-polarity', f), 'utf8').split('\n').map((t) => t.trim()).filter(Boolean).map((text) => ({ text, label }));
  const all = new core.Rng(base.seed).shuffle([...read('rt-polarity.neg', '0'), ...read('rt-polarity.pos', '1')]);
  return { train: all.slice(1000), validation: all.slice(0, 1000), labels: ['0', '1'] };
}

async function finetuneSentiment(o, p) {
  const splits = o.data === 'rt' ? rtSplits() : sentimentSplits(dataDir, base.seed);
  const out = [];
  for (const n of o.sizes ?? [100, 300, 1000]) {
    const steps = o.steps ?? Math.min(o.maxSteps ?? 100, Math.max(o.minSteps ?? 40, Math.ceil(((o.epochs ?? 4) * n) / 32)));
    const correct = {};
    for (const arm of o.arms ?? ['pretrained', 'scratch']) {
      const backbone = await makeBackbone(arm, p, o);
      const head = await createPlugin('head', 'sequence-classification', { pooling: o.pooling ?? (p.kind === 'gpt' ? 'last' : 'mean'), numLabels: 2, labels: splits.labels }, dataDir, base.seed);
      // evalOn "train": score the labeled examples themselves (can the arm fit them at all?).
      const validation = o.evalOn === 'train' ? splits.train.slice(0, n) : splits.validation;
      const run = await runFinetuning({ backbone, head, tokenizer: p.tokenizer, splits: { ...splits, train: splits.train.slice(0, n), validation }, options: { ...base.finetuneTrainer, progress: 'none', learningRate: o.learningRate ?? 1e-3, maxSteps: steps, batchSize: 32, ...(o.trainer ?? {}) }, seed: base.seed, keepValidationCorrect: true }, env);
      correct[arm] = run.validation.correct;
      backbone.dispose();
      head.dispose();
    }
    out.push(report('sentiment', n, steps, correct));
  }
  return out;
}

function report(task, n, steps, correct) {
  const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
  const line = { task, n, steps };
  for (const [arm, c] of Object.entries(correct)) if (arm !== 'groups') line[arm] = +mean(Array.from(c)).toFixed(4);
  if (correct.pretrained && correct.scratch) {
    const d = pairedDifference([{ a: correct.pretrained, b: correct.scratch, groups: correct.groups }]);
    line.gain = +(d.gain * 100).toFixed(1);
    line.pm = +(d.halfWidth95 * 100).toFixed(1);
  }
  log(JSON.stringify(line));
  return line;
}

async function finetune(o) {
  const p = loadPretrained(o.name);
  const tasks = o.tasks ?? ['pos', 'sentiment'];
  const results = [];
  for (const task of tasks) {
    const opts = { ...o, ...(o[task] ?? {}) };
    if (task === 'chunk') opts.column = 2;
    results.push(...(task === 'sentiment' ? await finetuneSentiment(opts, p) : await finetunePos(opts, p, task)));
  }
  fs.appendFileSync(path.join(runDir(o.name.split('@')[0]), 'finetune.jsonl'), JSON.stringify({ options: o, results }) + '\n');
}


/** Hidden states of every layer for a batch of examples: [layer][example] → Float32Array [tokens × hidden]. */
function hiddenStatesOf(backbone, examples) {
  const tf = require('@tensorflow/tfjs-core');
  const layers = [];
  for (let i = 0; i < examples.length; i += 32) {
    const chunk = examples.slice(i, i + 32);
    const batch = core.collate(chunk, { padId: 0 });
    const seq = batch.seqLen ?? batch.inputIds.length / chunk.length;
    const states = tf.tidy(() => {
      const ids = tf.tensor2d(batch.inputIds, [chunk.length, seq], 'int32');
      const mask = tf.tensor2d(batch.attentionMask, [chunk.length, seq], 'int32');
      const types = tf.tensor2d(batch.tokenTypeIds, [chunk.length, seq], 'int32');
      const out = backbone.forward({ inputIds: ids, attentionMask: mask, tokenTypeIds: types }, { training: false, outputHiddenStates: true });
      return out.hiddenStates.map((h) => h.dataSync().slice());
    });
    const hidden = backbone.info.hiddenSize;
    states.forEach((flat, l) => {
      layers[l] ??= [];
      chunk.forEach((e, b) => layers[l].push(flat.subarray(b * seq * hidden, (b * seq + e.inputIds.length) * hidden)));
    });
  }
  return layers;
}

/** Standardised ridge-regression classifier on one-hot targets: accuracy on the test rows. */
function ridgeProbe(trainX, trainY, testX, testY, classes, lambda = 1) {
  const d = trainX[0].length;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const x of trainX) for (let j = 0; j < d; j++) mean[j] += x[j] / trainX.length;
  for (const x of trainX) for (let j = 0; j < d; j++) sd[j] += (x[j] - mean[j]) ** 2 / trainX.length;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]) + 1e-6;
  const z = (x) => { const o = new Float64Array(d + 1); for (let j = 0; j < d; j++) o[j] = (x[j] - mean[j]) / sd[j]; o[d] = 1; return o; };
  const D = d + 1;
  const A = new Float64Array(D * D);
  const B = new Float64Array(D * classes);
  trainX.forEach((x, i) => {
    const v = z(x);
    for (let a = 0; a < D; a++) {
      for (let b = 0; b < D; b++) A[a * D + b] += v[a] * v[b];
      B[a * classes + trainY[i]] += v[a];
    }
  });
  for (let a = 0; a < d; a++) A[a * D + a] += lambda;
  // Cholesky solve A W = B
  const L = new Float64Array(D * D);
  for (let i = 0; i < D; i++) for (let j = 0; j <= i; j++) {
    let sum = A[i * D + j];
    for (let k = 0; k < j; k++) sum -= L[i * D + k] * L[j * D + k];
    L[i * D + j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / L[j * D + j];
  }
  const W = new Float64Array(D * classes);
  for (let c = 0; c < classes; c++) {
    const y = new Float64Array(D);
    for (let i = 0; i < D; i++) { let s = B[i * classes + c]; for (let k = 0; k < i; k++) s -= L[i * D + k] * y[k]; y[i] = s / L[i * D + i]; }
    for (let i = D - 1; i >= 0; i--) { let s = y[i]; for (let k = i + 1; k < D; k++) s -= L[k * D + i] * W[k * classes + c]; W[i * classes + c] = s / L[i * D + i]; }
  }
  let right = 0;
  testX.forEach((x, i) => {
    const v = z(x);
    let best = 0, bestScore = -Infinity;
    for (let c = 0; c < classes; c++) { let s = 0; for (let a = 0; a < D; a++) s += v[a] * W[a * classes + c]; if (s > bestScore) { bestScore = s; best = c; } }
    if (best === testY[i]) right++;
  });
  return right / testX.length;
}

async function probe(o) {
  const p = loadPretrained(o.name);
  const hidden = p.modelOptions.hiddenSize;
  const column = 1;
  const train = new core.Rng(base.seed).shuffle(readPos(path.join(shared, 'ner/conll2003/train.txt'), column)).slice(0, o.posTrain ?? 1000);
  const valid = readPos(path.join(shared, 'ner/conll2003/valid.txt'), column).slice(0, 1000);
  const names = [...new Set(train.flatMap((s) => s.tags).concat(valid.flatMap((s) => s.tags)))].sort();
  const enc = (s) => { const { example, wordIds } = encodeTaggedWords(p.tokenizer, s.tokens, undefined, 64); return { example, wordIds, tags: s.tags.map((t) => names.indexOf(t)) }; };
  const posTrain = train.map(enc);
  const posDev = valid.map(enc);
  const splits = sentimentSplits(dataDir, base.seed);
  const { encodeText } = require('../dist/pipeline/task-encode');
  const sentTrain = splits.train.slice(0, o.sentTrain ?? 2400).map((r) => ({ example: encodeText(p.tokenizer, r.text, undefined, 64), y: Number(r.label) }));
  const sentDev = splits.validation.map((r) => ({ example: encodeText(p.tokenizer, r.text, undefined, 64), y: Number(r.label) }));
  const result = {};
  for (const arm of ['pretrained', 'scratch']) {
    const backbone = await makeBackbone(arm, p, o);
    const tokenFeatures = (items) => {
      const layers = hiddenStatesOf(backbone, items.map((i) => i.example));
      return layers.map((perExample) => {
        const X = [], Y = [];
        perExample.forEach((flat, e) => {
          const seen = new Set();
          items[e].wordIds.forEach((w, t) => { if (w === null || seen.has(w)) return; seen.add(w); X.push(flat.subarray(t * hidden, (t + 1) * hidden)); Y.push(items[e].tags[w]); });
        });
        return { X, Y };
      });
    };
    const meanFeatures = (items) => hiddenStatesOf(backbone, items.map((i) => i.example)).map((perExample) => ({
      X: perExample.map((flat) => { const n = flat.length / hidden; const m = new Float32Array(hidden); for (let t = 0; t < n; t++) for (let j = 0; j < hidden; j++) m[j] += flat[t * hidden + j] / n; return m; }),
      Y: items.map((i) => i.y),
    }));
    const pt = tokenFeatures(posTrain), pd = tokenFeatures(posDev), st = meanFeatures(sentTrain), sd = meanFeatures(sentDev);
    const rows = [];
    for (let l = 0; l < pt.length; l++) {
      const row = { layer: l };
      for (const n of o.posSizes ?? [100, 1000]) {
        const k = pt[l].X.length * 0 + posTrain.slice(0, n).reduce((s, e) => s + new Set(e.wordIds.filter((w) => w !== null)).size, 0);
        row[`pos${n}`] = +ridgeProbe(pt[l].X.slice(0, k), pt[l].Y.slice(0, k), pd[l].X, pd[l].Y, names.length, o.lambda ?? 1).toFixed(4);
      }
      for (const n of o.sentSizes ?? [100, 300, 2400]) row[`sent${n}`] = +ridgeProbe(st[l].X.slice(0, n), st[l].Y.slice(0, n), sd[l].X, sd[l].Y, 2, o.lambda ?? 1).toFixed(4);
      rows.push(row);
      log(`${o.name} ${arm} ${JSON.stringify(row)}`);
    }
    result[arm] = rows;
    backbone.dispose();
  }
  fs.appendFileSync(path.join(runDir(o.name.split('@')[0]), 'probe.jsonl'), JSON.stringify({ options: o, result }) + '\n');
}

/**
 * Copies a checkpoint of a run into the repository as the demo's shipped checkpoint: the HF files
 * (architectures added as the current trainer writes them) and the run's loss curve up to that step.
 */
function ship(o) {
  const [name, step] = o.name.split('@');
  const from = path.join(runDir(name), `checkpoint-${step}`);
  const to = path.resolve(repoRoot, o.dir);
  fs.mkdirSync(to, { recursive: true });
  const config = JSON.parse(fs.readFileSync(path.join(from, 'config.json'), 'utf8'));
  // The run's own `architectures` wins: a run with MLM + NSP heads is BertForPreTraining, one without HF heads BertModel.
  fs.writeFileSync(path.join(to, 'config.json'), JSON.stringify({ architectures: ['BertForPreTraining'], ...config }, null, 2) + '\n');
  for (const file of ['model.safetensors', 'tokenizer.json']) fs.copyFileSync(path.join(from, file), path.join(to, file));
  const rows = fs.readFileSync(path.join(runDir(name), 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'train' && r.step <= Number(step) && (r.step % 50 === 0 || r.step === 1));
  // Columns: the step, the loss and every metric the run logged (MLM + NSP: mlm_loss, mlm_maskedAccuracy, nsp_loss, nsp_accuracy).
  const columns = ['step', 'loss', ...[...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => !['type', 'step', 'epoch', 'loss', 'learningRate', 'tokensPerSecond', 'elapsedMs', 'gradNorm'].includes(k))];
  fs.writeFileSync(path.join(to, 'loss-curve.tsv'), [columns.join('\t'), ...rows.map((r) => columns.map((c) => r[c]).map((v) => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : v)).join('\t'))].join('\n') + '\n');
  log(`shipped ${from} → ${to} (${rows.length} loss-curve rows)`);
}

/**
 * Cosine similarity of word-embedding rows: antonym pairs against random pairs, and nearest neighbours.
 * `dir` is a checkpoint folder (default: the shipped one).
 */
function neighbours(o) {
  const dir = path.resolve(repoRoot, o.dir ?? 'data/pretrained/bert-tiny-books-reviews');
  const tokenizer = loadTokenizer(dir);
  const embeddings = readBackboneTensors(dir, o.prefix ?? 'bert').get(o.tensor ?? 'embeddings.word_embeddings.weight');
  const [vocab, hidden] = embeddings.shape;
  const values = embeddings.dataSync();
  const row = (i) => values.subarray(i * hidden, (i + 1) * hidden);
  const cosine = (a, b) => {
    let dot = 0, na = 0, nb = 0;
    for (let k = 0; k < hidden; k++) { dot += a[k] * b[k]; na += a[k] ** 2; nb += b[k] ** 2; }
    return dot / Math.sqrt(na * nb);
  };
  const id = (word) => {
    const found = tokenizer.tokenToId(word);
    if (found === undefined || found === null) throw new Error(`"${word}" is not one token of this vocabulary`);
    return found;
  };
  for (const [a, b] of o.pairs ?? [['good', 'bad'], ['best', 'worst'], ['good', 'great'], ['excellent', 'poor']]) log(`cos(${a}, ${b}) = ${cosine(row(id(a)), row(id(b))).toFixed(3)}`);
  // Polarity separation: mean cos within the positive words and within the negative ones, minus mean cos across.
  const known = (words) => words.filter((w) => tokenizer.tokenToId(w) !== undefined && tokenizer.tokenToId(w) !== null);
  const positive = known(o.positive ?? ['good', 'great', 'excellent', 'best', 'wonderful', 'love', 'loved', 'amazing', 'perfect', 'beautiful', 'brilliant', 'fun', 'enjoyed', 'favorite', 'nice', 'fine']);
  const negative = known(o.negative ?? ['bad', 'worst', 'terrible', 'awful', 'boring', 'waste', 'poor', 'stupid', 'horrible', 'worse', 'hate', 'dull', 'lame', 'disappointing', 'mess', 'fails']);
  const meanCos = (xs, ys, same) => { let s = 0, n = 0; for (const x of xs) for (const y of ys) if (!same || x !== y) { s += cosine(row(id(x)), row(id(y))); n++; } return s / n; };
  const within = (meanCos(positive, positive, true) + meanCos(negative, negative, true)) / 2;
  const across = meanCos(positive, negative, false);
  log(`polarity separation (${positive.length} positive, ${negative.length} negative words): within ${within.toFixed(3)} − across ${across.toFixed(3)} = ${(within - across).toFixed(3)}`);
  const rng = new core.Rng(base.seed);
  let sum = 0;
  const draws = 2000;
  for (let k = 0; k < draws; k++) {
    const i = 100 + rng.int(vocab - 100);
    const j = 100 + ((i - 100 + 1 + rng.int(vocab - 101)) % (vocab - 100));
    sum += cosine(row(i), row(j));
  }
  log(`mean cos over ${draws} random pairs of ids ≥ 100: ${(sum / draws).toFixed(3)}`);
  for (const word of o.words ?? ['good', 'bad', 'great']) {
    const w = id(word);
    const ranked = [...Array(vocab).keys()].filter((i) => i !== w).map((i) => [cosine(row(w), row(i)), i]).sort((x, y) => y[0] - x[0]);
    log(`${word} → ${ranked.slice(0, 8).map(([c, i]) => `${tokenizer.idToToken(i)} ${c.toFixed(2)}`).join(', ')}`);
  }
}

/**
 * Study-only objective "electra-detached": ELECTRA whose generator learns only in its own head — its masked-LM
 * gradient stops at the backbone's output and at the tied embeddings — so only the discriminator's loss shapes the
 * backbone (item 9 of the guide: the tied generator's masked-LM loss keeps antonyms together in the embeddings).
 */
function registerStudyObjectives(registry) {
  const tf = require('@tensorflow/tfjs-core');
  const { electraPlugin, ReplacedTokenDetection, ELECTRA_PARAMETER_NAMES: N } = require('@pretrain/objective-electra');
  const detached = (t) => tf.tensor(t.dataSync(), t.shape, t.dtype);
  class DetachedGenerator extends ReplacedTokenDetection {
    init(context) {
      super.init(context);
      this.studyBackbone = context.backbone;
    }
    generatorLogits(sequenceOutput, positions) {
      const p = this.parameters;
      const head = { denseWeight: p.get(N.generatorDenseWeight), denseBias: p.get(N.generatorDenseBias), layerNormWeight: p.get(N.generatorLayerNormWeight), layerNormBias: p.get(N.generatorLayerNormBias), bias: p.get(N.generatorBias) };
      const info = this.studyBackbone.info;
      return core.tiedLmHeadLogits(detached(sequenceOutput), positions, head, detached(this.studyBackbone.inputEmbeddings()), (x) => core.activate(x, info.hiddenAct), info.layerNormEps);
    }
  }
  registry.register({ ...electraPlugin, name: 'electra-detached', description: 'study only: ELECTRA with the generator gradient stopped at the backbone', create: (options) => new DetachedGenerator(options) });
}

(async () => {
  const [command, json] = process.argv.slice(2);
  registerBuiltins(core.defaultRegistry);
  registerStudyObjectives(core.defaultRegistry);
  await core.initBackend({ logger: () => {} });
  const o = JSON.parse(json ?? '{}');
  if (command === 'pretrain') await pretrain(o);
  else if (command === 'finetune') await finetune(o);
  else if (command === 'probe') await probe(o);
  else if (command === 'ship') ship(o);
  else if (command === 'neighbours') neighbours(o);
  else if (command === 'both') {
    await pretrain(o);
    await finetune({ name: o.name, ...(o.finetune ?? {}) });
  } else throw new Error('usage: transfer-lab.js pretrain|finetune|both|probe|ship|neighbours json');
})().catch((error) => {
  console.error(`transfer-lab: ${error.stack}`);
  process.exit(1);
});
