import * as fs from 'fs';
import * as path from 'path';
import { PretrainError, parseWithPath } from '@pretrain/core';
import { accuracy } from '@pretrain/heads';
import { CONFIG_OPTIONS, Command, numberOption, requireString, stringOption } from '../command';
import { applyOverrides, readConfigFile } from '../config-file';
import { encodeForClassification, labeledExamples } from '../pipeline/batches';
import { loadLabeledSplits } from '../pipeline/labeled';
import { sampleTokens } from '../pipeline/generate';
import { restoreCheckpoint } from '../pipeline/restore';
import { dataSchema } from '../pipeline/settings';
import { predictLabels } from '../pipeline/train';
import { formatTable, print } from './shared';

const CHECKPOINT_OPTION = {
  checkpoint: { type: 'string' as const, valueName: 'DIR', description: 'checkpoint folder written by pretrain / finetune' },
};

export const evaluateCommand: Command = {
  path: ['evaluate'],
  summary: 'evaluate a fine-tuned checkpoint on labeled data (accuracy)',
  details: `
Reads the config's data section and evaluates on data.test (else data.validation).
Example: pretrain evaluate --checkpoint runs/sentiment/checkpoint -c sentiment.yaml`,
  options: { ...CHECKPOINT_OPTION, config: CONFIG_OPTIONS.config, set: CONFIG_OPTIONS.set },
  async run(context) {
    const dir = path.resolve(context.io.cwd, requireString(context.options, 'checkpoint', 'evaluate'));
    const configPath = requireString(context.options, 'config', 'evaluate');
    const raw = applyOverrides(readConfigFile(path.resolve(context.io.cwd, configPath)), (context.options.set as string[] | undefined) ?? []);
    const data = parseWithPath(dataSchema, raw.data ?? {}, 'data', configPath);
    const restored = await restoreCheckpoint(dir, { withHead: true, log: context.log });
    const labels = restored.refs.labels ?? data.labels;
    if (!labels) throw new PretrainError(`Checkpoint ${dir} records no label names; set data.labels`);
    const splits = loadLabeledSplits({ ...data, labels }, path.dirname(path.resolve(context.io.cwd, configPath)), typeof raw.seed === 'number' ? raw.seed : 42, { needTrain: false });
    const rows = splits.test ?? splits.validation;
    if (rows.length === 0) throw new PretrainError('Nothing to evaluate: the config has no data.test or data.validation rows', { path: 'data.test' });
    const examples = labeledExamples(restored.tokenizer, rows, labels, restored.backbone.info.maxPositions);
    const { predictions } = await predictLabels(restored.trainer!, examples);
    const acc = accuracy(predictions, Int32Array.from(examples.map((e) => e.labels!.labels)));
    print(context, formatTable(['split', 'examples', 'accuracy'], [[splits.test ? 'test' : 'validation', rows.length, acc]]));
  },
};

export const predictCommand: Command = {
  path: ['predict'],
  summary: 'label texts with a fine-tuned checkpoint (JSON lines on stdout)',
  details: `
Texts come from --text (repeatable) or --input FILE (one text per line).
Example: pretrain predict --checkpoint runs/sentiment/checkpoint --text "What a great phone"`,
  options: {
    ...CHECKPOINT_OPTION,
    text: { type: 'string', multiple: true, valueName: 'TEXT', description: 'a text to label (repeatable)' },
    input: { type: 'string', valueName: 'FILE', description: 'a file with one text per line' },
  },
  async run(context) {
    const dir = path.resolve(context.io.cwd, requireString(context.options, 'checkpoint', 'predict'));
    const texts = [...((context.options.text as string[] | undefined) ?? [])];
    const input = stringOption(context.options, 'input');
    if (input) {
      const file = path.resolve(context.io.cwd, input);
      if (!fs.existsSync(file)) throw new PretrainError(`Input file ${file} does not exist`, { file });
      texts.push(...fs.readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim()));
    }
    if (texts.length === 0) throw new PretrainError('predict: give texts with --text or --input FILE');
    const restored = await restoreCheckpoint(dir, { withHead: true, log: context.log });
    const labels = restored.refs.labels ?? [];
    const examples = texts.map((text) => encodeForClassification(restored.tokenizer, text, restored.backbone.info.maxPositions));
    const { predictions, probabilities } = await predictLabels(restored.trainer!, examples);
    texts.forEach((text, i) => {
      const scores = Object.fromEntries(Array.from(probabilities[i], (p, j) => [labels[j] ?? String(j), Number(p.toFixed(4))]));
      print(context, JSON.stringify({ text, label: labels[predictions[i]] ?? String(predictions[i]), scores }));
    });
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
      print(context, `--- sample ${i + 1}\n${prompt}${restored.tokenizer.decode(ids)}`);
    }
  },
};

