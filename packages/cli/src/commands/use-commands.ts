import * as fs from 'fs';
import * as path from 'path';
import { PretrainError, TaskKind, parseWithPath, writeJsonAtomic } from '@pretrain/core';
import { CONFIG_OPTIONS, Command, CommandContext, UsageError, numberOption, requireString, stringOption } from '../command';
import { applyOverrides, readConfigFile } from '../config-file';
import { sampleText, sampleTokens } from '../pipeline/generate';
import { RestoredModel, restoreCheckpoint } from '../pipeline/restore';
import { DataSettings, dataSchema } from '../pipeline/settings';
import { SplitName, TaskSplits, decideLabels, loadTaskSplits } from '../pipeline/task-data';
import { defaultStride } from '../pipeline/task-encode';
import { TaskSettings, prepareRows } from '../pipeline/task-run';
import { formatTable, print } from './shared';

const CHECKPOINT_OPTION = {
  checkpoint: { type: 'string' as const, valueName: 'DIR', description: 'checkpoint folder written by pretrain / finetune' },
};

/** A restored fine-tuned checkpoint with its task settings (saved by finetune; older checkpoints: defaults). */
async function restoreTask(dir: string, context: CommandContext): Promise<{ restored: RestoredModel; settings: TaskSettings }> {
  const restored = await restoreCheckpoint(dir, { withHead: true, log: context.log });
  const task = restored.head!.task;
  const saved = restored.refs.task;
  const settings: TaskSettings = {
    task,
    labels: restored.refs.labels,
    maxLength: Math.min(saved?.maxLength ?? restored.backbone.info.maxPositions, restored.backbone.info.maxPositions),
    ...(task === 'question-answering' ? { stride: saved?.stride ?? defaultStride(saved?.maxLength ?? restored.backbone.info.maxPositions), nBest: saved?.nBest ?? 20, maxAnswerLength: saved?.maxAnswerLength ?? 30 } : {}),
  };
  return { restored, settings };
}

/** The config's data section (paths relative to the config file) and seed. */
function readDataConfig(context: CommandContext, command: string): { data: DataSettings; baseDir: string; seed: number; file: string } {
  const configPath = requireString(context.options, 'config', command);
  const file = path.resolve(context.io.cwd, configPath);
  const raw = applyOverrides(readConfigFile(file), (context.options.set as string[] | undefined) ?? []);
  const data = parseWithPath(dataSchema, raw.data ?? {}, 'data', configPath);
  return { data, baseDir: path.dirname(file), seed: typeof raw.seed === 'number' ? raw.seed : 42, file: configPath };
}

const SPLIT_OPTION = {
  split: { type: 'string' as const, valueName: 'test|validation|train', description: 'which data split of the config to use (default: test, else validation)' },
};

function chooseSplit(context: CommandContext, splits: TaskSplits<unknown>): { name: SplitName; rows: unknown[] } {
  const wanted = stringOption(context.options, 'split');
  if (wanted !== undefined && !['train', 'validation', 'test'].includes(wanted)) throw new UsageError(`--split must be train, validation or test, got "${wanted}"`);
  const name = (wanted ?? (splits.test ? 'test' : 'validation')) as SplitName;
  const rows = name === 'test' ? splits.test : splits[name];
  if (!rows || rows.length === 0) throw new PretrainError(`Nothing to evaluate: the config has no data.${name} rows`, { path: `data.${name}` });
  return { name, rows };
}

export const evaluateCommand: Command = {
  path: ['evaluate'],
  summary: "evaluate a fine-tuned checkpoint on labeled data (the task's metrics, as JSON too)",
  details: `
Reads the config's data section and evaluates on data.test (else data.validation; --split chooses).
Metrics by task: accuracy, f1, matthews (classification); pearson, spearman, mse (regression);
token_accuracy and seqeval entity_precision / entity_recall / entity_f1 (tagging; entity scores for
IOB tag sets); exact_match and f1 in percent (SQuAD question answering). Prints a table and writes
{ task, split, examples, metrics } as JSON to --output (default: eval-<split>.json next to the checkpoint folder).
Example: pretrain evaluate --checkpoint runs/sentiment/checkpoint -c sentiment.yaml`,
  options: {
    ...CHECKPOINT_OPTION,
    config: CONFIG_OPTIONS.config,
    set: CONFIG_OPTIONS.set,
    ...SPLIT_OPTION,
    output: { type: 'string', valueName: 'FILE', description: 'where the metrics JSON goes' },
  },
  async run(context) {
    const dir = path.resolve(context.io.cwd, requireString(context.options, 'checkpoint', 'evaluate'));
    const { data, baseDir, seed } = readDataConfig(context, 'evaluate');
    const { restored, settings } = await restoreTask(dir, context);
    const splits = loadTaskSplits(settings.task, data, baseDir, seed, { needTrain: false, log: context.log });
    const { name, rows } = chooseSplit(context, splits);
    if (settings.task === 'sequence-classification' || settings.task === 'token-classification') {
      settings.labels = decideLabels(settings.task, { [name]: rows }, { checkpointLabels: restored.refs.labels, dataLabels: data.labels }).labels;
    }
    const prepared = prepareRows(settings, restored.tokenizer, rows as never, true);
    const predictions = await restored.trainer!.predict(prepared.examples);
    const metrics = prepared.metrics(predictions);
    const names = Object.keys(metrics);
    print(context, formatTable(['split', 'examples', ...names], [[name, prepared.rows, ...names.map((k) => metrics[k])]]));
    const output = path.resolve(context.io.cwd, stringOption(context.options, 'output') ?? path.join(path.dirname(dir), `eval-${name}.json`));
    writeJsonAtomic(output, { task: settings.task, checkpoint: dir, split: name, examples: prepared.rows, metrics });
    print(context, `metrics: ${output}`);
  },
};

/** Rows for predict from --text / --pair / --context or an --input file (lines, or JSON lines with fields). */
function predictRows(context: CommandContext, task: TaskKind): unknown[] {
  const texts = [...((context.options.text as string[] | undefined) ?? [])];
  const pairs = (context.options.pair as string[] | undefined) ?? [];
  const contextText = stringOption(context.options, 'context');
  const input = stringOption(context.options, 'input');
  const records: Record<string, unknown>[] = texts.map((text, i) => ({ text, ...(pairs[i] !== undefined ? { textPair: pairs[i] } : {}) }));
  if (pairs.length > texts.length) throw new UsageError('predict: each --pair goes with a --text (the first text of the pair)');
  if (input) {
    const file = path.resolve(context.io.cwd, input);
    if (!fs.existsSync(file)) throw new PretrainError(`Input file ${file} does not exist`, { file });
    const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      if (!file.endsWith('.jsonl')) return records.push({ text: line });
      try {
        const value = JSON.parse(line);
        if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('expected an object');
        records.push(value as Record<string, unknown>);
      } catch (error) {
        throw new PretrainError(`${file}:${i + 1}: invalid JSON line (${(error as Error).message})`, { file, line: i + 1 });
      }
    });
  }
  if (records.length === 0) throw new UsageError('predict: give texts with --text, --input FILE, or -c CONFIG (its data.test)');
  const str = (record: Record<string, unknown>, key: string, i: number): string => {
    const value = record[key];
    if (typeof value !== 'string') throw new PretrainError(`predict input ${i + 1}: "${key}" must be a string`);
    return value;
  };
  return records.map((record, i) => {
    switch (task) {
      case 'sequence-classification':
      case 'sequence-regression':
        return { text: str(record, 'text', i), ...(record.textPair !== undefined ? { textPair: str(record, 'textPair', i) } : {}) };
      case 'token-classification': {
        const words = Array.isArray(record.words) ? record.words.map(String) : str(record, 'text', i).split(/\s+/).filter(Boolean);
        return { words, tags: [] };
      }
      case 'question-answering': {
        const question = typeof record.question === 'string' ? record.question : str(record, 'text', i);
        const ctx = typeof record.context === 'string' ? record.context : contextText;
        if (ctx === undefined) throw new UsageError('predict: question answering needs a context (--context TEXT, or "context" in each JSON line)');
        return { id: String(record.id ?? i + 1), title: '', question, context: ctx, answers: [] };
      }
    }
  });
}

export const predictCommand: Command = {
  path: ['predict'],
  summary: 'predict with a fine-tuned checkpoint: labels, scores, tags or answer spans (JSON lines on stdout)',
  details: `
Inputs: --text (repeatable; with --pair for sentence pairs; the question with --context for QA),
--input FILE (one text per line, or .jsonl objects: text/textPair, words, question/context),
or -c CONFIG (the rows of its data.test, else data.validation; --split chooses).
Outputs one JSON line per input: { label, scores } (classification), { score } (regression),
{ words, tags, scores } (tagging), { answer: { text, start, end, score, probability }, nBest } (QA).
Example: pretrain predict --checkpoint runs/sentiment/checkpoint --text "What a great phone"`,
  options: {
    ...CHECKPOINT_OPTION,
    text: { type: 'string', multiple: true, valueName: 'TEXT', description: 'a text to label, or a question (repeatable)' },
    pair: { type: 'string', multiple: true, valueName: 'TEXT', description: 'the second text of the pair whose first is the --text at the same position' },
    context: { type: 'string', valueName: 'TEXT', description: 'question answering: the context the --text questions are about' },
    input: { type: 'string', valueName: 'FILE', description: 'a file with one text per line, or JSON lines' },
    config: CONFIG_OPTIONS.config,
    set: CONFIG_OPTIONS.set,
    ...SPLIT_OPTION,
  },
  async run(context) {
    const dir = path.resolve(context.io.cwd, requireString(context.options, 'checkpoint', 'predict'));
    const fromConfig = stringOption(context.options, 'config') !== undefined;
    if (!fromConfig && !context.options.text && !stringOption(context.options, 'input')) throw new UsageError('predict: give texts with --text, --input FILE, or -c CONFIG (its data.test)');
    const { restored, settings } = await restoreTask(dir, context);
    let rows: unknown[];
    if (fromConfig) {
      const { data, baseDir, seed } = readDataConfig(context, 'predict');
      rows = chooseSplit(context, loadTaskSplits(settings.task, data, baseDir, seed, { needTrain: false, log: context.log })).rows;
    } else rows = predictRows(context, settings.task);
    const prepared = prepareRows(settings, restored.tokenizer, rows as never, false);
    const predictions = await restored.trainer!.predict(prepared.examples);
    for (const output of prepared.outputs(predictions)) print(context, JSON.stringify(output));
  },
};

export const generateCommand: Command = {
  path: ['generate'],
  summary: 'sample text from a GPT checkpoint',
  details: `
Example: pretrain generate --checkpoint runs/gpt/checkpoint --prompt "ROMEO:" --max-new-tokens 80`,
  options: {
    ...CHECKPOINT_OPTION,
    prompt: { type: 'string', short: 'p', valueName: 'TEXT', description: 'text to continue', default: '\n' },
    'max-new-tokens': { type: 'string', valueName: 'N', description: 'tokens to generate', default: '60' },
    temperature: { type: 'string', valueName: 'T', description: 'sampling temperature (0 = greedy)', default: '0.8' },
    'top-k': { type: 'string', valueName: 'K', description: 'sample among the K likeliest tokens (0 = all)', default: '40' },
    samples: { type: 'string', short: 'n', valueName: 'N', description: 'number of samples', default: '1' },
    seed: { type: 'string', valueName: 'N', description: 'random seed', default: '42' },
  },
  async run(context) {
    const dir = path.resolve(context.io.cwd, requireString(context.options, 'checkpoint', 'generate'));
    const restored = await restoreCheckpoint(dir, { withHead: false, log: context.log });
    const prompt = stringOption(context.options, 'prompt') ?? '';
    const promptIds = restored.tokenizer.encode(prompt, null, { addSpecialTokens: false }).ids;
    const count = numberOption(context.options, 'samples')!;
    for (let i = 0; i < count; i++) {
      const ids = sampleTokens(restored.backbone, promptIds, {
        maxNewTokens: numberOption(context.options, 'max-new-tokens')!,
        temperature: numberOption(context.options, 'temperature')!,
        topK: numberOption(context.options, 'top-k')!,
        seed: numberOption(context.options, 'seed')! + i,
        eosId: restored.tokenizer.specialTokenIds().eos,
      });
      print(context, `--- sample ${i + 1}\n${prompt}${sampleText(restored.tokenizer, ids)}`);
    }
  },
};

