/**
 * Every task through the built binary on small real samples (data/tasks, see data/README.md):
 * SST-2 (one text), MRPC (pairs), STS-B (regression), CoNLL-2003 NER and part-of-speech (tagging),
 * SQuAD v1.1 (question answering). Each fine-tunes a few steps from random init, is evaluated on the
 * reloaded checkpoint (which must reproduce the in-memory validation metrics of the run), and predicts;
 * the metrics `evaluate` writes are recomputed here by hand from `predict`'s output on the same rows.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DATA_DIR, runBin, tempDir, trainTokenizerWithBin, writeJson } from './test-utils/run-bin';
import { loadAddon } from '@pretrain/backend-native';

const TASKS_DIR = path.join(DATA_DIR, 'tasks');
const TINY_BERT = { hiddenSize: 32, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 64 };
const TRAINER = { maxSteps: 4, batchSize: 8, maxLength: 48, learningRate: 1e-3, logEverySteps: 1, evalEverySteps: 2 };

let work: string;
let tokenizerFile: string;

beforeAll(() => {
  work = tempDir('tasks');
  tokenizerFile = trainTokenizerWithBin(work, path.join(DATA_DIR, 'gutenberg', 'pg11.txt'), 600);
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

function ok(result: { status: number | null; stdout: string; stderr: string }): string {
  if (result.status !== 0) throw new Error(`exit ${result.status}\n${result.stderr}`);
  return result.stdout;
}

interface TaskRun {
  dir: string;
  config: string;
  checkpoint: string;
  finetuneOut: string;
}

/** Writes the config next to copies of nothing: data paths point into the repo's data/tasks. */
function finetune(name: string, config: Record<string, unknown>): TaskRun {
  const dir = path.join(work, name);
  const file = writeJson(path.join(dir, `${name}.json`), { name, model: { name: 'bert', options: TINY_BERT }, trainer: TRAINER, ...config });
  const out = path.join(dir, 'run');
  const finetuneOut = ok(runBin(['finetune', '-c', file, '-t', tokenizerFile, '-o', out]));
  return { dir, config: file, checkpoint: path.join(out, 'checkpoint'), finetuneOut };
}

function jsonLines(stdout: string): Record<string, any>[] {
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

/** evaluate on a split; returns the metrics JSON it wrote. */
function evaluate(run: TaskRun, split: string): Record<string, any> {
  const output = path.join(run.dir, `eval-${split}.json`);
  ok(runBin(['evaluate', '-c', run.config, '--checkpoint', run.checkpoint, '--split', split, '--output', output]));
  return JSON.parse(fs.readFileSync(output, 'utf8'));
}

/** The final in-memory validation metrics the finetune run printed. */
function finetuneMetrics(stdout: string): Record<string, number> {
  const line = /validation metrics: (\{.*\})/.exec(stdout);
  expect(line).not.toBeNull();
  return JSON.parse(line![1]);
}

function checkpointConfig(run: TaskRun): Record<string, any> {
  return JSON.parse(fs.readFileSync(path.join(run.checkpoint, 'config.json'), 'utf8'));
}

function expectSameMetrics(reloaded: Record<string, number>, inMemory: Record<string, number>): void {
  for (const [key, value] of Object.entries(reloaded)) expect(inMemory[key]).toBeCloseTo(value, 4);
}

function pearson(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  x.forEach((v, i) => {
    sxy += (v - mx) * (y[i] - my);
    sxx += (v - mx) ** 2;
    syy += (y[i] - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

function tsvRows(file: string): string[][] {
  return fs
    .readFileSync(file, 'utf8')
    .replace(/^\uFEFF/, '')
    .split('\n')
    .filter(Boolean)
    .slice(1)
    .map((l) => l.split('\t'));
}

describe('sequence classification on a GPT-2 backbone: SST-2 through HF GPT2ForSequenceClassification', () => {
  it('fine-tunes a GPT-2 with the last-token classifier by default, saves score.weight and pad_token_id, and evaluate reproduces the run', () => {
    const bpe = path.join(work, 'bpe');
    const result = runBin(['tokenizer', 'train', '--input', path.join(DATA_DIR, 'gutenberg', 'pg11.txt'), '--type', 'bpe', '--vocab-size', '600', '-o', bpe]);
    if (result.status !== 0) throw new Error(result.stderr);
    const tokenizerJson = JSON.parse(fs.readFileSync(path.join(bpe, 'tokenizer.json'), 'utf8'));
    const endOfText = tokenizerJson.added_tokens.find((t: { content: string }) => t.content === '<|endoftext|>').id;
    const dir = path.join(work, 'gpt-sst2');
    const data = { train: { path: path.join(TASKS_DIR, 'sst2-train-48.tsv'), text: 'sentence', label: 'label' }, validation: { path: path.join(TASKS_DIR, 'sst2-dev-24.tsv'), text: 'sentence', label: 'label' }, labels: ['0', '1'] };
    const config = writeJson(path.join(dir, 'gpt.json'), { name: 'gpt-sst2', model: { name: 'gpt2', options: { nEmbd: 32, nLayer: 1, nHead: 2, nPositions: 64 } }, head: { name: 'sequence-classification' }, trainer: TRAINER, data });
    const out = ok(runBin(['finetune', '-c', config, '-t', path.join(bpe, 'tokenizer.json'), '-o', path.join(dir, 'run')]));
    const run: TaskRun = { dir, config, checkpoint: path.join(dir, 'run', 'checkpoint'), finetuneOut: out };
    const saved = checkpointConfig(run);
    expect(saved.architectures).toEqual(['GPT2ForSequenceClassification']);
    expect(saved.model_type).toBe('gpt2');
    // HF finds each row's last token by pad_token_id; the tokenizer has no pad token, so batches pad with <|endoftext|>.
    expect(saved.pad_token_id).toBe(endOfText);
    expect(saved.id2label).toEqual({ '0': '0', '1': '1' });
    const names = Object.keys(JSON.parse(fs.readFileSync(path.join(run.checkpoint, 'model.safetensors')).subarray(8, 8 + Number(fs.readFileSync(path.join(run.checkpoint, 'model.safetensors')).readBigUInt64LE(0))).toString('utf8'))).filter((n) => n !== '__metadata__');
    expect(names.filter((n) => !n.startsWith('transformer.')).sort()).toEqual(['score.weight']);
    const reloaded = evaluate(run, 'validation');
    expectSameMetrics(reloaded.metrics, finetuneMetrics(run.finetuneOut));
  });
});

describe('sequence classification: SST-2 (one text, header row)', () => {
  let run: TaskRun;
  it('fine-tunes with validation during training and saves BertForSequenceClassification with the run label list', () => {
    run = finetune('sst2', {
      head: { name: 'sequence-classification' },
      data: { train: { path: path.join(TASKS_DIR, 'sst2-train-48.tsv'), text: 'sentence', label: 'label' }, validation: { path: path.join(TASKS_DIR, 'sst2-dev-24.tsv'), text: 'sentence', label: 'label' }, labels: ['0', '1'] },
    });
    expect(run.finetuneOut).toContain('labels: 0="0" 1="1" (from data.labels)');
    expect(run.finetuneOut).toMatch(/validation accuracy [01]\.\d{4} \(24 examples\)/);
    const config = checkpointConfig(run);
    expect(config.architectures).toEqual(['BertForSequenceClassification']);
    expect(config.id2label).toEqual({ 0: '0', 1: '1' });
    const metrics = fs.readFileSync(path.join(run.dir, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.filter((m) => m.type === 'eval').map((m) => m.step)).toEqual([2, 4]);
    expect(metrics.find((m) => m.type === 'eval')).toHaveProperty('matthews');
    const report = JSON.parse(fs.readFileSync(path.join(run.dir, 'run', 'report.json'), 'utf8'));
    const validation = report.charts.find((c: { id: string }) => c.id === 'validation');
    expect(validation.series.map((s: { label: string }) => s.label)).toEqual(['accuracy', 'f1', 'matthews']);
    expect(validation.series[0].points.map((p: { x: number }) => p.x)).toEqual([2, 4]);
    expect(report.charts[0].series.map((s: { label: string }) => s.label)).toEqual(['train', 'eval']);
  });

  it('evaluate on the reloaded checkpoint reproduces the run and matches accuracy/F1 recomputed from predict', () => {
    const reloaded = evaluate(run, 'validation');
    expect(reloaded.examples).toBe(24);
    expect(Object.keys(reloaded.metrics)).toEqual(['accuracy', 'f1', 'matthews']);
    expectSameMetrics(reloaded.metrics, finetuneMetrics(run.finetuneOut));
    const predicted = jsonLines(ok(runBin(['predict', '--checkpoint', run.checkpoint, '-c', run.config, '--split', 'validation'])));
    const gold = tsvRows(path.join(TASKS_DIR, 'sst2-dev-24.tsv')).map((r) => r[1]);
    expect(predicted).toHaveLength(24);
    const right = predicted.filter((p, i) => p.label === gold[i]).length;
    expect(reloaded.metrics.accuracy).toBeCloseTo(right / 24, 10);
    const tp = predicted.filter((p, i) => p.label === '1' && gold[i] === '1').length;
    const fp = predicted.filter((p, i) => p.label === '1' && gold[i] === '0').length;
    const fn = predicted.filter((p, i) => p.label === '0' && gold[i] === '1').length;
    expect(reloaded.metrics.f1).toBeCloseTo(2 * tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn), 10);
    for (const p of predicted) expect(p.scores['0'] + p.scores['1']).toBeCloseTo(1, 3);
  });

  it('early stopping through the CLI: the trainer gets the validation data and stops on metricForBest', () => {
    const data = { train: { path: path.join(TASKS_DIR, 'sst2-train-48.tsv'), text: 'sentence', label: 'label' }, validation: { path: path.join(TASKS_DIR, 'sst2-dev-24.tsv'), text: 'sentence', label: 'label' } };
    // An improvement must exceed 0.5 MCC: after the first evaluation (step 1) none does, so patience 2 stops at step 3.
    const stopped = finetune('sst2-early', { head: { name: 'sequence-classification' }, data, trainer: { ...TRAINER, maxSteps: 30, evalEverySteps: 1, metricForBest: 'matthews', earlyStoppingPatience: 2, earlyStoppingThreshold: 0.5 } });
    expect(stopped.finetuneOut).toContain('fine-tuning: 3 steps on 48 examples');
    expect(stopped.finetuneOut).toContain('(stopped: early stopping: matthews did not improve for 2 evaluations)');
    expect(fs.existsSync(path.join(stopped.dir, 'run', 'best', 'model.safetensors'))).toBe(true);
  });

  it('a header row read as data is refused, naming file and line', () => {
    const result = runBin(['finetune', '-c', writeJson(path.join(run.dir, 'noheader.json'), { model: { name: 'bert', options: TINY_BERT }, head: { name: 'sequence-classification' }, trainer: TRAINER, data: { train: { path: path.join(TASKS_DIR, 'sst2-train-48.tsv'), text: 0, label: 1 }, labels: ['0', '1'] } }), '-t', tokenizerFile, '-o', path.join(run.dir, 'bad')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${path.join(TASKS_DIR, 'sst2-train-48.tsv')}:1: label "label" (data.train) is not one of the 2 labels from data.labels (0, 1) (is line 1 a header row? set header: true on the file)`);
  });
});

describe('sequence classification: MRPC (sentence pairs)', () => {
  it('fine-tunes on pairs, evaluates and predicts pairs; labels come from the data and numLabels must match', () => {
    const train = { path: path.join(TASKS_DIR, 'mrpc-train-48.tsv'), text: '#1 String', textPair: '#2 String', label: 'Quality' };
    const validation = { ...train, path: path.join(TASKS_DIR, 'mrpc-dev-24.tsv') };
    const wrong = runBin(['finetune', '-c', writeJson(path.join(work, 'mrpc-bad', 'c.json'), { model: { name: 'bert', options: TINY_BERT }, head: { name: 'sequence-classification', options: { numLabels: 3 } }, trainer: TRAINER, data: { train, validation } }), '-t', tokenizerFile, '-o', path.join(work, 'mrpc-bad', 'run')]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('head.options.numLabels: the data has 2 labels ("0", "1") but head.options.numLabels is 3');
    const run = finetune('mrpc', { head: { name: 'sequence-classification', options: { numLabels: 2 } }, data: { train, validation } });
    expect(run.finetuneOut).toContain('labels: 0="0" 1="1" (sorted distinct values of the data');
    const reloaded = evaluate(run, 'validation');
    expectSameMetrics(reloaded.metrics, finetuneMetrics(run.finetuneOut));
    const predicted = jsonLines(ok(runBin(['predict', '--checkpoint', run.checkpoint, '--text', 'The cat sat.', '--pair', 'A cat was sitting.'])));
    expect(predicted).toEqual([{ text: 'The cat sat.', textPair: 'A cat was sitting.', label: expect.stringMatching(/^[01]$/), scores: { 0: expect.any(Number), 1: expect.any(Number) } }]);
    const input = path.join(run.dir, 'pairs.jsonl');
    fs.writeFileSync(input, `${JSON.stringify({ text: 'The cat sat.', textPair: 'A cat was sitting.' })}\n${JSON.stringify({ text: 'Rain today.', textPair: 'It is sunny.' })}\n`);
    const fromFile = jsonLines(ok(runBin(['predict', '--checkpoint', run.checkpoint, '--input', input])));
    expect(fromFile.map((p) => p.textPair)).toEqual(['A cat was sitting.', 'It is sunny.']);
    expect(fromFile[0]).toEqual(predicted[0]);
  });
});

describe('regression: STS-B (pairs, float scores)', () => {
  it('fine-tunes, evaluates Pearson/Spearman (recomputed by hand from predict) and predicts scores', () => {
    const spec = (file: string) => ({ path: path.join(TASKS_DIR, file), text: 'sentence1', textPair: 'sentence2', label: 'score' });
    const run = finetune('stsb', { head: { name: 'regression' }, data: { train: spec('stsb-train-48.tsv'), validation: spec('stsb-dev-24.tsv') }, trainer: { ...TRAINER, metricForBest: 'pearson' } });
    const config = checkpointConfig(run);
    expect(config.architectures).toEqual(['BertForSequenceClassification']);
    expect(config.problem_type).toBe('regression');
    expect(run.finetuneOut).toMatch(/best model \(pearson\): /);
    const reloaded = evaluate(run, 'validation');
    expect(Object.keys(reloaded.metrics)).toEqual(['pearson', 'spearman', 'mse']);
    expectSameMetrics(reloaded.metrics, finetuneMetrics(run.finetuneOut));
    const predicted = jsonLines(ok(runBin(['predict', '--checkpoint', run.checkpoint, '-c', run.config, '--split', 'validation'])));
    const gold = tsvRows(path.join(TASKS_DIR, 'stsb-dev-24.tsv')).map((r) => Number(r[9]));
    const scores = predicted.map((p) => p.score as number);
    expect(reloaded.metrics.pearson).toBeCloseTo(pearson(scores, gold), 3);
    expect(reloaded.metrics.mse).toBeCloseTo(scores.reduce((a, s, i) => a + (s - gold[i]) ** 2, 0) / 24, 3);
  });

  it('a metricForBest the task does not report is a config error with a suggestion', () => {
    const spec = { path: path.join(TASKS_DIR, 'stsb-train-48.tsv'), text: 'sentence1', textPair: 'sentence2', label: 'score' };
    const result = runBin(['finetune', '-c', writeJson(path.join(work, 'stsb-bad', 'c.json'), { model: { name: 'bert', options: TINY_BERT }, head: { name: 'regression' }, trainer: { ...TRAINER, metricForBest: 'pearsn' }, data: { train: spec } }), '-t', tokenizerFile, '-o', path.join(work, 'stsb-bad', 'run')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('trainer.metricForBest: "pearsn" is not reported for sequence-regression (loss, pearson, spearman, mse); did you mean "pearson"?');
  });
});

/** CoNLL columns as word → tag lists per sentence (blank lines between sentences, -DOCSTART- skipped). */
function conllSentences(file: string, column: number): { words: string[]; tags: string[] }[] {
  const out: { words: string[]; tags: string[] }[] = [];
  let current = { words: [] as string[], tags: [] as string[] };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('-DOCSTART-')) {
      if (current.words.length) out.push(current);
      current = { words: [], tags: [] };
      continue;
    }
    const fields = line.split(' ');
    current.words.push(fields[0]);
    current.tags.push(fields[column]);
  }
  if (current.words.length) out.push(current);
  return out;
}

describe('token classification: CoNLL-2003 NER and part-of-speech', () => {
  it('NER: IOB2 tags, BertForTokenClassification with id2label/label2id, seqeval metrics, tags per word', () => {
    const spec = (file: string) => ({ path: path.join(TASKS_DIR, file), tagColumn: 3 });
    const run = finetune('ner', { head: { name: 'token-classification' }, data: { train: spec('conll2003-train-48.txt'), validation: spec('conll2003-dev-24.txt') } });
    expect(run.finetuneOut).toMatch(/labels: 0="O" 1="B-LOC" 2="I-LOC" 3="B-MISC"/);
    const config = checkpointConfig(run);
    expect(config.architectures).toEqual(['BertForTokenClassification']);
    expect(config.id2label['0']).toBe('O');
    expect(config.label2id['B-LOC']).toBe(1);
    const reloaded = evaluate(run, 'validation');
    expect(Object.keys(reloaded.metrics)).toEqual(['token_accuracy', 'entity_precision', 'entity_recall', 'entity_f1']);
    expectSameMetrics(reloaded.metrics, finetuneMetrics(run.finetuneOut));
    const predicted = jsonLines(ok(runBin(['predict', '--checkpoint', run.checkpoint, '-c', run.config, '--split', 'validation'])));
    const gold = conllSentences(path.join(TASKS_DIR, 'conll2003-dev-24.txt'), 3);
    expect(predicted.map((p) => p.words)).toEqual(gold.map((g) => g.words));
    let right = 0;
    let total = 0;
    predicted.forEach((p, s) => p.tags.forEach((tag: string, w: number) => ((total += 1), (right += tag === gold[s].tags[w] ? 1 : 0))));
    expect(reloaded.metrics.token_accuracy).toBeCloseTo(right / total, 10);
  });

  it('part-of-speech: a plain tag column is kept as written (no IOB), token accuracy only; predict tags words of --text', () => {
    const spec = (file: string) => ({ path: path.join(TASKS_DIR, file), tagColumn: 1 });
    const run = finetune('pos', { head: { name: 'token-classification' }, data: { train: spec('conll2003-train-48.txt'), validation: spec('conll2003-dev-24.txt') } });
    expect(run.finetuneOut).toContain('"NNP"');
    const reloaded = evaluate(run, 'validation');
    expect(Object.keys(reloaded.metrics)).toEqual(['token_accuracy']);
    expectSameMetrics(reloaded.metrics, finetuneMetrics(run.finetuneOut));
    const [line] = jsonLines(ok(runBin(['predict', '--checkpoint', run.checkpoint, '--text', 'Germany beat England .'])));
    expect(line.words).toEqual(['Germany', 'beat', 'England', '.']);
    expect(line.tags).toHaveLength(4);
    expect(Object.values(checkpointConfig(run).id2label)).toContain(line.tags[0]);
  });
});

describe('question answering: SQuAD v1.1', () => {
  it('fine-tunes on every window, evaluates EM/F1 (recomputed from predict) and predicts spans with offsets', () => {
    const run = finetune('squad', {
      head: { name: 'question-answering' },
      data: { train: { path: path.join(TASKS_DIR, 'squad-train-24.json') }, validation: { path: path.join(TASKS_DIR, 'squad-dev-12.json') }, stride: 8 },
      trainer: { ...TRAINER, maxLength: 64 },
    });
    expect(run.finetuneOut).toMatch(/24 training questions|fine-tuning: 4 steps on 24 questions/);
    expect(checkpointConfig(run).architectures).toEqual(['BertForQuestionAnswering']);
    const reloaded = evaluate(run, 'validation');
    expect(Object.keys(reloaded.metrics)).toEqual(['exact_match', 'f1']);
    expectSameMetrics(reloaded.metrics, finetuneMetrics(run.finetuneOut));
    const predicted = jsonLines(ok(runBin(['predict', '--checkpoint', run.checkpoint, '-c', run.config, '--split', 'validation'])));
    const squad = JSON.parse(fs.readFileSync(path.join(TASKS_DIR, 'squad-dev-12.json'), 'utf8'));
    const questions = squad.data[0].paragraphs.flatMap((p: any) => p.qas.map((q: any) => ({ context: p.context, answers: q.answers.map((a: any) => a.text), id: q.id })));
    expect(predicted.map((p) => p.id)).toEqual(questions.map((q: any) => q.id));
    const normalize = (s: string) => s.toLowerCase().replace(/[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g, '').replace(/\b(a|an|the)\b/g, ' ').split(/\s+/).filter(Boolean).join(' ');
    let exact = 0;
    predicted.forEach((p, i) => {
      expect(questions[i].context.slice(p.answer.start, p.answer.end)).toBe(p.answer.text);
      expect(p.nBest[0]).toEqual(p.answer);
      if (questions[i].answers.some((a: string) => normalize(a) === normalize(p.answer.text))) exact++;
    });
    expect(reloaded.metrics.exact_match).toBeCloseTo((100 * exact) / questions.length, 10);
    const single = jsonLines(ok(runBin(['predict', '--checkpoint', run.checkpoint, '--text', 'Where is the cat?', '--context', 'The cat is on the mat in the kitchen.'])));
    expect(single[0].answer.text).toBe('The cat is on the mat in the kitchen.'.slice(single[0].answer.start, single[0].answer.end));
  });
});

describe('CSV through the corpus parser', () => {
  it('quoted commas and multi-line fields read as one row each; a malformed row names file and line', () => {
    const dir = path.join(work, 'csv');
    fs.mkdirSync(dir, { recursive: true });
    const rows = tsvRows(path.join(TASKS_DIR, 'sst2-train-48.tsv')).slice(0, 16);
    const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const csv = ['text,label', ...rows.map(([text, label], i) => `${quote(i % 4 === 0 ? `${text.trim()}, really,\nsecond line` : text.trim())},${label}`)].join('\n');
    fs.writeFileSync(path.join(dir, 'train.csv'), csv);
    const config = writeJson(path.join(dir, 'csv.json'), { model: { name: 'bert', options: TINY_BERT }, head: { name: 'sequence-classification' }, trainer: { ...TRAINER, maxSteps: 1, evalEverySteps: undefined }, data: { train: { path: 'train.csv', text: 'text', label: 'label' } } });
    const result = runBin(['finetune', '-c', config, '-t', tokenizerFile, '-o', path.join(dir, 'run')]);
    expect(result.stderr).not.toContain('error:');
    expect(result.stderr).toMatch(/sequence-classification: 13 training examples, 3 validation/);
    fs.writeFileSync(path.join(dir, 'train.csv'), `${csv}\n"an unclosed quote,1\n`);
    const bad = runBin(['finetune', '-c', config, '-t', tokenizerFile, '-o', path.join(dir, 'bad')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(new RegExp(`${path.join(dir, 'train.csv').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: cannot parse CSV`));
  });
});

describe('config errors', () => {
  it('every section is reported at once, unknown keys with "did you mean"', () => {
    const config = writeJson(path.join(work, 'typos', 'c.json'), {
      model: { name: 'bert', options: { ...TINY_BERT, hiddenSise: 32 } },
      head: { name: 'sequence-classification', options: { numLabel: 2 } },
      trainer: { ...TRAINER, learningrate: 1e-3 },
      data: { train: { path: 'x.tsv', lable: 'label' }, limt: 3 },
    });
    const result = runBin(['finetune', '-c', config, '-t', tokenizerFile, '-o', path.join(work, 'typos', 'run')]);
    expect(result.status).toBe(1);
    for (const line of [
      'trainer: unknown option "learningrate"; did you mean "learningRate" for "learningrate"?',
      'data: unknown option "limt"; did you mean "limit" for "limt"?',
      'data.train: unknown option "lable"; did you mean "label" for "lable"?',
      'model.options: unknown option "hiddenSise"; did you mean "hiddenSize" for "hiddenSise"?',
      'head.options: unknown option "numLabel"; did you mean "numLabels" for "numLabel"?',
    ]) {
      expect(result.stderr).toContain(line);
    }
  });

  it('the backend section: checked with the config, used by the run, overridden by PRETRAIN_BACKEND', () => {
    const dir = path.join(work, 'backend');
    const data = { train: { path: path.join(TASKS_DIR, 'sst2-train-48.tsv'), text: 'sentence', label: 'label' } };
    const base = { model: { name: 'bert', options: TINY_BERT }, head: { name: 'sequence-classification' }, trainer: { ...TRAINER, maxSteps: 1 }, data };
    const bad = runBin(['finetune', '-c', writeJson(path.join(dir, 'bad.json'), { ...base, backend: { name: 'gpu', thread: 2 } }), '-t', tokenizerFile, '-o', path.join(dir, 'bad')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('backend.name: Invalid option: expected one of "wasm"|"cpu"|"tensorflow"|"native"');
    expect(bad.stderr).toContain('backend: unknown option "thread"; did you mean "threads" for "thread"?');
    const config = writeJson(path.join(dir, 'cpu.json'), { ...base, backend: { name: 'cpu' } });
    const fromConfig = runBin(['finetune', '-c', config, '-t', tokenizerFile, '-o', path.join(dir, 'run')], { env: { PRETRAIN_BACKEND: '' } });
    expect(fromConfig.status).toBe(0);
    expect(fromConfig.stderr).toContain('[pretrain] backend: cpu');
    const overridden = runBin(['corpus', 'prepare', '-c', config, '--input', path.join(DATA_DIR, 'gutenberg', 'pg11.txt'), '-t', tokenizerFile, '-o', path.join(dir, 'corpus')], { env: { PRETRAIN_BACKEND: 'wasm' } });
    expect(overridden.status).toBe(0);
    expect(overridden.stderr).toContain('[pretrain] backend: wasm');
    // Threads: both cores (at most 2) unless the config or PRETRAIN_THREADS says otherwise; the first line says which.
    const cores = Math.min(2, os.availableParallelism());
    const prepare = (configFile: string, out: string) => runBin(['corpus', 'prepare', '-c', configFile, '--input', path.join(DATA_DIR, 'gutenberg', 'pg11.txt'), '-t', tokenizerFile, '-o', path.join(dir, out)], { env: { PRETRAIN_BACKEND: 'wasm', PRETRAIN_THREADS: '' } });
    const byDefault = prepare(writeJson(path.join(dir, 'wasm.json'), base), 'default-threads');
    expect(byDefault.stderr).toContain(`[pretrain] backend: wasm (${cores} thread${cores === 1 ? '' : 's'};`);
    const one = prepare(writeJson(path.join(dir, 'one.json'), { ...base, backend: { threads: 1 } }), 'one-thread');
    expect(one.stderr).toContain('[pretrain] backend: wasm (1 thread;');
    // The fastest path by default: backend "native" where @pretrain/backend-native's binary loads, else wasm saying why not.
    const fastest = runBin(['finetune', '-c', writeJson(path.join(dir, 'fastest.json'), base), '-t', tokenizerFile, '-o', path.join(dir, 'fastest')], { env: { PRETRAIN_BACKEND: '', PRETRAIN_THREADS: '' } });
    expect(fastest.stderr).not.toContain('error:');
    expect(fastest.status).toBe(0);
    if ('missing' in loadAddon()) expect(fastest.stderr).toMatch(/\[pretrain\] backend: wasm \(.*native kernels unavailable: /);
    else expect(fastest.stderr).toContain(`[pretrain] backend: native (${cores} thread${cores === 1 ? '' : 's'}; OpenBLAS`);
  });

  it("the run folder's config.json re-runs as it is (data paths made absolute)", () => {
    const dir = path.join(work, 'rerun');
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(TASKS_DIR, 'sst2-train-48.tsv'), path.join(dir, 'train.tsv'));
    const config = writeJson(path.join(dir, 'c.json'), { model: { name: 'bert', options: TINY_BERT }, head: { name: 'sequence-classification' }, trainer: { ...TRAINER, maxSteps: 1 }, data: { train: { path: 'train.tsv', text: 'sentence', label: 'label' } } });
    ok(runBin(['finetune', '-c', config, '-t', tokenizerFile, '-o', path.join(dir, 'run')]));
    const again = runBin(['finetune', '-c', path.join(dir, 'run', 'config.json'), '-t', tokenizerFile, '-o', path.join(dir, 'again')], { cwd: work });
    expect(again.stderr).not.toContain('error:');
    expect(again.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'run', 'config.json'), 'utf8')).data.train.path).toBe(path.join(dir, 'train.tsv'));
    expect(fs.existsSync(path.join(dir, 'again', 'metrics.jsonl'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'again', 'checkpoint', 'model.safetensors'))).toBe(true);
  });
});
