/**
 * HF model folders in and out. Out: a run checkpoint as the folder `from_pretrained(dir)` and
 * `AutoTokenizer.from_pretrained(dir)` load with no arguments. In: a BERT or GPT-2 folder as HF
 * writes it (single or sharded safetensors, tied or untied heads) as the backbone to fine-tune.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BackbonePlugin, PluginRef, PretrainError, TokenizerPlugin, checkpointWeightFiles, defaultRegistry, initBackend, readSafetensorsHeader, writeFileAtomic, writeFolderAtomic, type LoadReport } from '@pretrain/core';
import { BERT_OPTION_KEYS } from '@pretrain/model-bert';
import { GPT2_OPTION_KEYS } from '@pretrain/model-gpt';
import { loadTokenizer } from '@pretrain/tokenizer';
import { registerBuiltins } from '../builtins';
import { cliBackendChoice } from './backend';
import { readCheckpointConfig } from './checkpoint';

/** Written into an export: which tokenizer (hash) the model was trained with, to match token exports. */
export const EXPORT_INFO_FILE = 'pretrain_export.json';

/** model_type → our model plugin and its camelCase option ↔ HF key table. */
const MODEL_TYPES: Record<string, { plugin: string; keys: Record<string, string> }> = {
  bert: { plugin: 'bert', keys: BERT_OPTION_KEYS },
  gpt2: { plugin: 'gpt2', keys: GPT2_OPTION_KEYS },
};

interface TokenizerJson {
  model: { type: string; vocab: Record<string, number> | [string, number][]; merges?: (string | [string, string])[] };
  normalizer?: { type?: string; lowercase?: boolean; normalizers?: { type?: string; lowercase?: boolean }[] } | null;
  pre_tokenizer?: { type?: string; add_prefix_space?: boolean; pretokenizers?: { type?: string; add_prefix_space?: boolean }[] } | null;
}

/** Tokens in id order (the model's vocab plus added special tokens). */
function tokensById(tokenizer: TokenizerPlugin): string[] {
  return Array.from({ length: tokenizer.getVocabSize() }, (_, id) => {
    const token = tokenizer.idToToken(id);
    if (token === undefined) throw new PretrainError(`the tokenizer has no token for id ${id} (ids must be contiguous for vocab files)`);
    return token;
  });
}

function lowercases(json: TokenizerJson): boolean {
  const n = json.normalizer;
  return n?.lowercase === true || (n?.normalizers ?? []).some((m) => m.lowercase === true || m.type === 'Lowercase');
}

function addsPrefixSpace(json: TokenizerJson): boolean {
  const p = json.pre_tokenizer;
  return p?.add_prefix_space === true || (p?.pretokenizers ?? []).some((m) => m.add_prefix_space === true);
}

/**
 * tokenizer_config.json, special_tokens_map.json and the slow tokenizer's vocabulary files, as
 * transformers writes them for BertTokenizer (vocab.txt) and GPT2Tokenizer (vocab.json + merges.txt).
 */
export function hfTokenizerFiles(tokenizer: TokenizerPlugin, modelMaxLength: number): Record<string, string> {
  const json = JSON.parse(tokenizer.toJSON()) as TokenizerJson;
  const special = tokenizer.specialTokenIds();
  const name = (id: number | undefined) => (id === undefined ? undefined : tokenizer.idToToken(id));
  const tokens = tokensById(tokenizer);
  if (json.model.type === 'WordPiece') {
    const map = { unk_token: name(special.unk), sep_token: name(special.sep), pad_token: name(special.pad), cls_token: name(special.cls), mask_token: name(special.mask) };
    const config = { tokenizer_class: 'BertTokenizer', do_lower_case: lowercases(json), model_max_length: modelMaxLength, clean_up_tokenization_spaces: true, ...map };
    return { 'tokenizer_config.json': jsonText(config), 'special_tokens_map.json': jsonText(definedOnly(map)), 'vocab.txt': `${tokens.join('\n')}\n` };
  }
  if (json.model.type === 'BPE') {
    const end = name(special.eos) ?? name(special.bos);
    const map = { bos_token: name(special.bos) ?? end, eos_token: end, unk_token: name(special.unk) ?? end, pad_token: name(special.pad) };
    const config = { tokenizer_class: 'GPT2Tokenizer', model_max_length: modelMaxLength, add_prefix_space: addsPrefixSpace(json), clean_up_tokenization_spaces: false, ...definedOnly(map) };
    const merges = (json.model.merges ?? []).map((m) => (Array.isArray(m) ? m.join(' ') : m));
    const vocab = Object.fromEntries(tokens.map((t, id) => [t, id]));
    return { 'tokenizer_config.json': jsonText(config), 'special_tokens_map.json': jsonText(definedOnly(map)), 'vocab.json': jsonText(vocab), 'merges.txt': `#version: 0.2\n${merges.join('\n')}\n` };
  }
  throw new PretrainError(`tokenizer.json: model type "${json.model.type}" has no HF slow-tokenizer files here (WordPiece and BPE do)`, { path: 'model.type' });
}

function definedOnly(map: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).filter((e): e is [string, string] => e[1] !== undefined));
}

function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Why a config.json cannot be exported as an HF model (an error), or the note of a checkpoint marked
 * as something HF cannot compute (exported as it is: transformers refuses its model_type).
 */
function exportCheck(config: Record<string, unknown>, file: string): { error?: string; warning?: string } {
  const type = String(config.model_type);
  const marked = typeof config.pretrain_note === 'string' && MODEL_TYPES[String(config.pretrain_model_type)] !== undefined;
  if (!MODEL_TYPES[type] && !marked) return { error: `${file}: model_type "${type}" is not one pretrain exports (${Object.keys(MODEL_TYPES).join(', ')})` };
  if (!Array.isArray(config.architectures) || config.architectures.length === 0) {
    return { error: `${file}: no "architectures" (the checkpoint predates them); load it with pretrain and save it again, e.g. by fine-tuning or pre-training 0 more steps` };
  }
  return marked ? { warning: `${file}: ${String(config.pretrain_note)}` } : {};
}

export interface HfExportResult {
  dir: string;
  files: string[];
  architecture: string;
  tokenizerHash: string;
  /** Set when the checkpoint is marked as something HF cannot compute (exported anyway, HF refuses it). */
  warning?: string;
}

/** Every text file of an exported folder, by name (the weights are copied as they are). */
function hfFolderTextFiles(config: Record<string, unknown>, tokenizer: TokenizerPlugin, architecture: string): Record<string, string> {
  const maxLength = Number(config.max_position_embeddings ?? config.n_positions ?? 512);
  const files: Record<string, string> = { 'config.json': jsonText(config), 'tokenizer.json': tokenizer.toJSON(), ...hfTokenizerFiles(tokenizer, maxLength) };
  if (config.model_type === 'gpt2' && architecture === 'GPT2LMHeadModel') {
    files['generation_config.json'] = jsonText({ _from_model_config: true, bos_token_id: config.bos_token_id, eos_token_id: config.eos_token_id });
  }
  files[EXPORT_INFO_FILE] = jsonText({ format: 'pretrain-hf-export', version: 1, tokenizerHash: tokenizer.hash(), architecture });
  return files;
}

/** A tokenizer with ids the embedding matrix does not have is not this model's tokenizer. */
function checkVocabulary(config: Record<string, unknown>, file: string, tokenizer: TokenizerPlugin): void {
  if (tokenizer.getVocabSize() > Number(config.vocab_size)) {
    throw new PretrainError(`${file}: vocab_size ${String(config.vocab_size)} is smaller than the tokenizer's ${tokenizer.getVocabSize()} tokens: not the tokenizer this model was trained with`, { file, path: 'vocab_size' });
  }
}

/**
 * Copies a run checkpoint (`checkpoint/`, `best/` or `checkpoint-N/`) into `outDir` as a
 * self-contained HF folder: config.json, model.safetensors, tokenizer.json and the tokenizer files
 * AutoTokenizer reads, plus generation_config.json for GPT-2 LM heads. Trainer state and optimizer
 * moments stay behind. All or nothing; a non-empty `outDir` needs `force`.
 */
export async function exportHfFolder(checkpointDir: string, outDir: string, options: { force?: boolean } = {}): Promise<HfExportResult> {
  const config = readCheckpointConfig(checkpointDir);
  const configFile = path.join(checkpointDir, 'config.json');
  const { error, warning } = exportCheck(config, configFile);
  if (error) throw new PretrainError(error, { file: configFile });
  const weights = checkpointWeightFiles(checkpointDir);
  for (const file of weights) readSafetensorsHeader(file);
  const tokenizer = loadTokenizer(checkpointDir);
  checkVocabulary(config, configFile, tokenizer);
  const architecture = String((config.architectures as string[] | undefined)?.[0]);
  const files = hfFolderTextFiles(config, tokenizer, architecture);
  const copied = weights.map((file) => path.basename(file));
  if (fs.existsSync(path.join(checkpointDir, 'model.safetensors.index.json')) && weights.length > 1) copied.push('model.safetensors.index.json');
  const dir = await writeFolderAtomic(
    outDir,
    (temp) => {
      for (const name of copied) fs.copyFileSync(path.join(checkpointDir, name), path.join(temp, name));
      for (const [name, text] of Object.entries(files)) writeFileAtomic(path.join(temp, name), text);
    },
    { force: options.force },
  );
  return { dir, files: [...copied, ...Object.keys(files)].sort(), architecture, tokenizerHash: tokenizer.hash(), warning };
}

/** Plugin options that rebuild the architecture of an HF config (for the saved plugin refs). */
function optionsFromConfig(config: Record<string, unknown>, keys: Record<string, string>): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [camel, snake] of Object.entries(keys)) if (config[snake] !== undefined && config[snake] !== null) options[camel] = config[snake];
  return options;
}

export interface HfBackbone {
  backbone: BackbonePlugin;
  tokenizer: TokenizerPlugin;
  /** How to rebuild the architecture without this folder (saved with the fine-tuned checkpoint). */
  modelRef: PluginRef;
}

/**
 * The backbone of an HF BERT / GPT-2 folder trained anywhere (run_mlm.py, run_clm.py, our export),
 * with its tokenizer.json (or the given tokenizer). Head tensors (MLM/NSP/LM heads, tied or not) are not needed to fine-tune
 * and are reported in one line; a missing pooler (BertForMaskedLM has none) starts from a fresh init,
 * as HF's from_pretrained does.
 */
export async function loadHfBackbone(dir: string, options: { seed?: number; log(line: string): void; tokenizer?: TokenizerPlugin }): Promise<HfBackbone> {
  const config = readCheckpointConfig(dir);
  const file = path.join(dir, 'config.json');
  const type = MODEL_TYPES[String(config.model_type)];
  if (!type) {
    const why = typeof config.pretrain_note === 'string' ? ` (${config.pretrain_note})` : '';
    throw new PretrainError(`${file}: model_type "${String(config.model_type)}" is not one pretrain fine-tunes from (${Object.keys(MODEL_TYPES).join(', ')})${why}`, { file, path: 'model_type' });
  }
  checkpointWeightFiles(dir);
  const tokenizerFile = path.join(dir, 'tokenizer.json');
  if (!options.tokenizer && !fs.existsSync(tokenizerFile)) throw new PretrainError(`${tokenizerFile}: not found; HF folders saved with a fast tokenizer have one (or pass --tokenizer FILE)`, { file: tokenizerFile });
  registerBuiltins(defaultRegistry);
  await initBackend({ logger: options.log, ...cliBackendChoice() });
  const definition = await defaultRegistry.resolve('model', type.plugin, { fromDir: dir });
  const backbone = (await definition.create(definition.options.parse({ pretrained: dir }), { baseDir: dir, seed: options.seed ?? 0 })) as BackbonePlugin & { loadReport?: LoadReport };
  checkLoadReport(dir, backbone.loadReport ?? { missing: [], unexpected: [] }, options.log);
  const tokenizer = options.tokenizer ?? loadTokenizer(tokenizerFile);
  checkVocabulary(config, file, tokenizer);
  return { backbone, tokenizer, modelRef: { name: type.plugin, options: optionsFromConfig(config, type.keys) } };
}

const POOLER = /(^|\.)pooler\./;

/** Missing backbone tensors are an error, except BERT's pooler (HF *ForMaskedLM has none; HF initialises it fresh too). */
export function checkLoadReport(dir: string, report: LoadReport, log: (line: string) => void): void {
  const pooler = report.missing.filter((name) => POOLER.test(name));
  const missing = report.missing.filter((name) => !POOLER.test(name));
  if (missing.length > 0) throw new PretrainError(`${dir}: the weights lack ${missing.length} backbone tensors (e.g. ${missing.slice(0, 3).join(', ')})`, { file: dir });
  if (pooler.length > 0) log(`note: ${dir} has no pooler (an HF *ForMaskedLM model); it starts from a fresh init, as in HF`);
  if (report.unexpected.length > 0) log(`note: ${report.unexpected.length} head tensors of ${dir} are not used for fine-tuning (e.g. ${report.unexpected.slice(0, 2).join(', ')})`);
}
