import * as path from 'path';
import { ConfigError, PretrainError, TokenizerPlugin, defaultRegistry, exampleBuilderIssue, initBackend, objectiveRefSchema, parseWithPath, pluginRefSchema, z } from '@pretrain/core';
import { exportTokenCache } from '@pretrain/corpus';
import { loadTokenizer } from '@pretrain/tokenizer';
import { registerBuiltins } from '../builtins';
import { Command, CommandContext, UsageError, numberOption, requireString, stringOption } from '../command';
import { applyOverrides, readConfigFile } from '../config-file';
import { exportExamples } from '../pipeline/example-export';
import { backendOptionsOf } from '../pipeline/experiment';
import { exportHfFolder } from '../pipeline/hf-folder';
import { print } from './shared';

const FORMATS = ['nanogpt', 'jsonl'] as const;

interface ExportConfig {
  raw: Record<string, unknown>;
  baseDir: string;
  file?: string;
}

function readExportConfig(context: CommandContext): ExportConfig {
  const configPath = stringOption(context.options, 'config');
  const raw = applyOverrides(configPath ? readConfigFile(path.resolve(context.io.cwd, configPath)) : {}, (context.options.set as string[] | undefined) ?? []);
  return { raw, baseDir: configPath ? path.dirname(path.resolve(context.io.cwd, configPath)) : context.io.cwd, file: configPath };
}

/** --tokenizer FILE, else the config's tokenizer plugin, else none. */
async function exportTokenizer(context: CommandContext, config: ExportConfig): Promise<TokenizerPlugin | undefined> {
  const file = stringOption(context.options, 'tokenizer');
  if (file) return loadTokenizer(path.resolve(context.io.cwd, file));
  if (!config.raw.tokenizer) return undefined;
  const ref = parseWithPath(pluginRefSchema, config.raw.tokenizer, 'tokenizer', config.file);
  const definition = await defaultRegistry.resolve('tokenizer', ref.name, { fromDir: config.baseDir, configPath: 'tokenizer.name' });
  return definition.create(parseWithPath(definition.options as z.ZodType<unknown>, ref.options, 'tokenizer.options', config.file), { baseDir: config.baseDir, seed: 0 });
}

/** The config's objectives, created with their options: the one with an example builder packs the examples. */
async function exampleBuilderOf(config: ExportConfig) {
  const refs = parseWithPath(z.array(objectiveRefSchema).min(1), config.raw.objectives, 'objectives', config.file);
  const objectives = [];
  for (const [i, ref] of refs.entries()) {
    const definition = await defaultRegistry.resolve('objective', ref.name, { fromDir: config.baseDir, configPath: `objectives[${i}].name` });
    objectives.push(await definition.create(parseWithPath(definition.options as z.ZodType<unknown>, ref.options, `objectives[${i}].options`, config.file), { baseDir: config.baseDir, seed: 0 }));
  }
  const builders = objectives.filter((o) => o.exampleBuilder);
  const issue = exampleBuilderIssue(objectives.map((o) => o.name), builders.map((b) => b.name));
  if (issue) throw new ConfigError([`objectives: ${issue}`], config.file);
  return { builder: builders[0].exampleBuilder!, names: objectives.map((o) => o.name) };
}

function validationFractionOf(context: CommandContext, config: ExportConfig): number {
  const given = numberOption(context.options, 'validation-fraction');
  const fromConfig = (config.raw.corpus as { options?: { validationFraction?: unknown } } | undefined)?.options?.validationFraction;
  return given ?? (typeof fromConfig === 'number' ? fromConfig : 0);
}

interface ExportTarget {
  cacheDir: string;
  outDir: string;
  force: boolean;
  validationFraction: number;
}

async function exportNanoGpt(context: CommandContext, target: ExportTarget, tokenizer: TokenizerPlugin | undefined): Promise<void> {
  const header = await exportTokenCache(target.cacheDir, target.outDir, { validationFraction: target.validationFraction, tokenizerHash: tokenizer?.hash(), force: target.force });
  for (const [split, entry] of Object.entries(header.splits)) print(context, `${split}: ${entry.documents} documents, ${entry.tokens} tokens → ${path.join(target.outDir, entry.file)} (${header.dtype})`);
  print(context, `written: ${target.outDir} (tokenizer ${header.tokenizerHash})`);
}

async function exportJsonLines(context: CommandContext, config: ExportConfig, target: ExportTarget, tokenizer: TokenizerPlugin | undefined): Promise<void> {
  if (!tokenizer) throw new PretrainError('corpus export --format jsonl needs the tokenizer (its special tokens go into the examples): pass --tokenizer FILE or -c with a tokenizer section');
  if (!config.raw.objectives) throw new ConfigError(['objectives: required for --format jsonl (the objectives whose builder packs the examples, e.g. [{ name: mlm }, { name: nsp }])'], config.file);
  await initBackend({ logger: context.log, ...backendOptionsOf(config.raw, config.file) });
  const { builder, names } = await exampleBuilderOf(config);
  const trainer = (config.raw.trainer ?? {}) as { maxLength?: unknown };
  const maxLength = typeof trainer.maxLength === 'number' ? trainer.maxLength : 128;
  const seed = typeof config.raw.seed === 'number' ? config.raw.seed : 42;
  const header = await exportExamples({ ...target, tokenizer, builder, objectives: names, maxLength, seed });
  for (const [split, entry] of Object.entries(header.splits)) print(context, `${split}: ${entry.examples} examples, ${entry.tokens} tokens → ${path.join(target.outDir, entry.file)}`);
  print(context, `written: ${target.outDir} (objectives ${names.join(' + ')}, maxLength ${maxLength}, tokenizer ${header.tokenizerHash})`);
}

export const corpusExportCommand: Command = {
  path: ['corpus', 'export'],
  summary: 'export a token cache for PyTorch: nanoGPT token files or HF datasets JSON lines',
  details: `
--format nanogpt: train.bin / val.bin (uint16, or uint32 for vocabularies over 65,536 ids: read with
numpy.memmap), sentence and document boundary files, export.json (dtype, vocab size, tokenizer hash).
--format jsonl: train.jsonl / validation.jsonl, one packed example per line (input_ids, token_type_ids,
attention_mask, special_tokens_mask, next_sentence_label...) made by the config's objectives exactly as
pre-training packs them; load with datasets.load_dataset("json", data_files=...). Needs -c (objectives,
tokenizer) or --tokenizer. The documents split into train/validation like the corpus does
(corpus.options.validationFraction, or --validation-fraction). A non-empty --out needs --force.
Example: pretrain corpus export --token-cache runs/corpus/token-cache --format jsonl -c docs/examples/bert-mini.yaml -o export/data`,
  options: {
    'token-cache': { type: 'string', valueName: 'DIR', description: 'token cache written by `pretrain corpus prepare`' },
    format: { type: 'string', valueName: FORMATS.join('|'), description: 'export format', default: 'nanogpt' },
    out: { type: 'string', short: 'o', valueName: 'DIR', description: 'output folder (must be empty or new, unless --force)' },
    force: { type: 'boolean', description: 'replace a non-empty output folder' },
    config: { type: 'string', short: 'c', valueName: 'FILE', description: 'experiment config: objectives, tokenizer, trainer.maxLength, seed' },
    set: { type: 'string', multiple: true, valueName: 'KEY=VALUE', description: 'override one config value (repeatable)' },
    tokenizer: { type: 'string', short: 't', valueName: 'FILE', description: 'tokenizer.json or vocab.txt, or a folder holding one; the cache must have been built with it' },
    'validation-fraction': { type: 'string', valueName: 'F', description: 'share of documents exported as validation (default: the config corpus, else 0)' },
  },
  async run(context) {
    const format = stringOption(context.options, 'format') as (typeof FORMATS)[number];
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${format}"`);
    const cacheDir = path.resolve(context.io.cwd, requireString(context.options, 'token-cache', 'corpus export'));
    const outDir = path.resolve(context.io.cwd, requireString(context.options, 'out', 'corpus export'));
    registerBuiltins(defaultRegistry);
    const config = readExportConfig(context);
    const tokenizer = await exportTokenizer(context, config);
    const target = { cacheDir, outDir, force: context.options.force === true, validationFraction: validationFractionOf(context, config) };
    if (format === 'nanogpt') await exportNanoGpt(context, target, tokenizer);
    else await exportJsonLines(context, config, target, tokenizer);
  },
};

export const exportCommand: Command = {
  path: ['export'],
  summary: 'export a run checkpoint as a self-contained HF folder (from_pretrained(dir) with no arguments)',
  details: `
Writes config.json (with "architectures"), model.safetensors, tokenizer.json, tokenizer_config.json,
special_tokens_map.json, and vocab.txt (WordPiece) or vocab.json + merges.txt (BPE); for GPT-2 LM models
also generation_config.json; pretrain_export.json records the tokenizer hash. Optimizer state and
trainer_state.json stay behind. A non-empty --out needs --force.
Example: pretrain export --checkpoint runs/bert/checkpoint -o export/bert-model`,
  options: {
    checkpoint: { type: 'string', valueName: 'DIR', description: 'checkpoint folder written by pretrain / finetune (checkpoint/, best/ or checkpoint-N/)' },
    out: { type: 'string', short: 'o', valueName: 'DIR', description: 'output folder (must be empty or new, unless --force)' },
    force: { type: 'boolean', description: 'replace a non-empty output folder' },
  },
  async run(context) {
    const checkpoint = path.resolve(context.io.cwd, requireString(context.options, 'checkpoint', 'export'));
    const out = path.resolve(context.io.cwd, requireString(context.options, 'out', 'export'));
    const result = await exportHfFolder(checkpoint, out, { force: context.options.force === true });
    if (result.warning) context.log(`warning: ${result.warning}`);
    print(context, `${result.architecture} exported to ${result.dir}: ${result.files.join(', ')}`);
  },
};
