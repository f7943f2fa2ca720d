#!/usr/bin/env node
/**
 * The real-data fine-tuning benchmark through the `pretrain` CLI (build it first: npx nx run @pretrain/cli:build):
 * for each task, `pretrain finetune` with the config in cli/<task>.yaml on the first --train-limit training rows
 * (shuffled, seed 42: the CLI's data.limit), then `pretrain evaluate` on the first --eval-limit rows of the
 * evaluation file (SST-2 / STS-B dev, CoNLL-2003 valid sentences, SQuAD questions of shard part01), written to
 * <out>/data. Prints a markdown table and writes <out>/results.json.
 *
 *   node tools/finetune-bench/cli.js [--tasks sst2,conll,stsb,squad] [--train-limit 1000] [--eval-limit 500]
 *     [--epochs 1] [--lr 1e-3] [--from data/pretrained/bert-tiny-books-reviews] [--data ../shared/data] [--out runs/finetune-bench-cli]
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'packages/cli/dist/bin.js');

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`expected --name value, got "${argv.slice(i).join(' ')}"`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  const known = ['tasks', 'train-limit', 'eval-limit', 'epochs', 'lr', 'from', 'data', 'out'];
  const unknown = Object.keys(out).filter((k) => !known.includes(k));
  if (unknown.length) throw new Error(`unknown option --${unknown[0]} (known: ${known.map((k) => `--${k}`).join(' ')})`);
  return out;
}

const args = parseArgs(process.argv.slice(2));
const data = path.resolve(args.data ?? path.join(root, '../shared/data'));
const out = path.resolve(args.out ?? path.join(root, 'runs/finetune-bench-cli'));
const from = path.resolve(args.from ?? path.join(root, 'data/pretrained/bert-tiny-books-reviews'));
const trainLimit = Number(args['train-limit'] ?? 1000);
const evalLimit = Number(args['eval-limit'] ?? 500);
const epochs = Number(args.epochs ?? 1);
const tasks = (args.tasks ?? 'sst2,conll,stsb,squad').split(',');
/** Overrides every task's learning rate (the configs': 1e-4 for SST-2 / STS-B, 2e-4 for CoNLL / SQuAD). */
const learningRate = args.lr;

/** The first `limit` rows of a header-first TSV. */
function headTsv(file, limit, to) {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  fs.writeFileSync(to, lines.slice(0, limit + 1).join('\n') + '\n');
  return Math.min(limit, lines.length - 1);
}

/** The first `limit` sentences of a CoNLL file (blank-line separated; -DOCSTART- lines kept). */
function headConll(file, limit, to) {
  const blocks = fs.readFileSync(file, 'utf8').split(/\n\s*\n/).filter((b) => b.trim().length > 0);
  const kept = [];
  let sentences = 0;
  for (const block of blocks) {
    if (sentences >= limit) break;
    kept.push(block);
    if (!block.startsWith('-DOCSTART-')) sentences++;
  }
  fs.writeFileSync(to, kept.join('\n\n') + '\n');
  return sentences;
}

/** The first `limit` questions of a SQuAD v1.1 file, articles and paragraphs kept around them. */
function headSquad(file, limit, to) {
  const squad = JSON.parse(fs.readFileSync(file, 'utf8'));
  let left = limit;
  const articles = [];
  for (const article of squad.data) {
    if (left <= 0) break;
    const paragraphs = [];
    for (const paragraph of article.paragraphs) {
      if (left <= 0) break;
      const qas = paragraph.qas.slice(0, left);
      left -= qas.length;
      paragraphs.push({ ...paragraph, qas });
    }
    articles.push({ ...article, paragraphs });
  }
  fs.writeFileSync(to, JSON.stringify({ version: squad.version, data: articles }));
  return limit - left;
}

const TASKS = {
  sst2: { train: 'sentiment/sst2/train.tsv', eval: ['sentiment/sst2/dev.tsv', headTsv, 'sst2-dev.tsv'], headline: (m) => `accuracy ${m.accuracy.toFixed(4)}, F1 ${m.f1.toFixed(4)}` },
  stsb: { train: 'pairs/STS-B/train.tsv', eval: ['pairs/STS-B/dev.tsv', headTsv, 'stsb-dev.tsv'], headline: (m) => `Pearson ${m.pearson.toFixed(4)}, Spearman ${m.spearman.toFixed(4)}` },
  conll: { train: 'ner/conll2003/train.txt', eval: ['ner/conll2003/valid.txt', headConll, 'conll-valid.txt'], headline: (m) => `entity F1 ${m.entity_f1.toFixed(4)} (token accuracy ${m.token_accuracy.toFixed(4)})` },
  squad: { train: 'qa/squad-v1.1/train-v1.1.reconstructed.part00.json', eval: ['qa/squad-v1.1/train-v1.1.reconstructed.part01.json', headSquad, 'squad-part01.json'], headline: (m) => `EM ${m.exact_match.toFixed(2)}, F1 ${m.f1.toFixed(2)}` },
};

function pretrain(argv) {
  process.stderr.write(`[finetune-bench cli] pretrain ${argv.join(' ')}\n`);
  const result = spawnSync(process.execPath, [bin, ...argv], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`pretrain ${argv[0]} failed (exit ${result.status})`);
  return result.stdout;
}

function main() {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: build the CLI first (npx nx run @pretrain/cli:build)`);
  fs.mkdirSync(path.join(out, 'data'), { recursive: true });
  const results = {};
  for (const task of tasks) {
    const spec = TASKS[task];
    if (!spec) throw new Error(`unknown task "${task}" (known: ${Object.keys(TASKS).join(', ')})`);
    const [evalFile, head, name] = spec.eval;
    const validation = path.join(out, 'data', name);
    const evalRows = head(path.join(data, evalFile), evalLimit, validation);
    const config = path.join(__dirname, 'cli', `${task}.yaml`);
    const paths = ['--set', `data.train.path=${path.join(data, spec.train)}`, '--set', `data.validation.path=${validation}`];
    const started = Date.now();
    const trained = pretrain(['finetune', '-c', config, '--from', from, '-o', path.join(out, task), ...paths, '--set', `data.limit=${trainLimit}`, '--set', `trainer.epochs=${epochs}`, ...(learningRate !== undefined ? ['--set', `trainer.learningRate=${learningRate}`] : [])]);
    const steps = Number(/fine-tuning: (\d+) steps/.exec(trained)?.[1]);
    const report = path.join(out, task, 'eval-validation.json');
    pretrain(['evaluate', '-c', config, '--checkpoint', path.join(out, task, 'checkpoint'), '--split', 'validation', ...paths, '--output', report]);
    const { metrics, examples } = JSON.parse(fs.readFileSync(report, 'utf8'));
    results[task] = { train: trainLimit, eval: evalRows, evalExamples: examples, steps, metrics, minutes: (Date.now() - started) / 60000 };
    fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify({ args, from, results }, null, 2));
  }
  const rows = Object.entries(results).map(([task, r]) => `| ${task} | ${r.train} | ${r.eval} | ${r.steps} | ${TASKS[task].headline(r.metrics)} | ${r.minutes.toFixed(1)} |`);
  process.stdout.write(['| task | train examples (limit) | eval rows | steps | result | minutes |', '|---|---|---|---|---|---|', ...rows].join('\n') + '\n');
}

try {
  main();
} catch (error) {
  process.stderr.write(`error: ${error.message}\n`);
  process.exit(1);
}
