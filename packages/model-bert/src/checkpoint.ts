/**
 * HF checkpoints in and out: `config.json` + `model.safetensors`, exactly as transformers'
 * `save_pretrained` writes them for BertModel / BertForPreTraining / BertFor... classes.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { PretrainError, readSafetensors, writeJsonAtomic, writeSafetensors, type LoadReport, type ParameterModule } from '@pretrain/core';
import { parseBertConfig } from './config';
import { BERT_BASE_PREFIX, BertModel, renameLegacyKey, stripPrefix, type BertModelOptions } from './model';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';

/**
 * HF names of BertForPreTraining's heads (owned by the MLM / NSP objectives). The decoder weight
 * is tied to `embeddings.word_embeddings.weight` and the decoder bias to `cls.predictions.bias`:
 * HF stores neither, and neither should a head's stateDict.
 */
export const BERT_PRETRAINING_HEAD_NAMES = {
  mlmTransformDenseWeight: 'cls.predictions.transform.dense.weight',
  mlmTransformDenseBias: 'cls.predictions.transform.dense.bias',
  mlmTransformLayerNormWeight: 'cls.predictions.transform.LayerNorm.weight',
  mlmTransformLayerNormBias: 'cls.predictions.transform.LayerNorm.bias',
  mlmBias: 'cls.predictions.bias',
  mlmDecoderWeight: 'cls.predictions.decoder.weight',
  mlmDecoderBias: 'cls.predictions.decoder.bias',
  nspWeight: 'cls.seq_relationship.weight',
  nspBias: 'cls.seq_relationship.bias',
} as const;

/** Head names tied to another tensor: never written, and ignored when a checkpoint has them. */
export const BERT_TIED_HEAD_NAMES: readonly string[] = [BERT_PRETRAINING_HEAD_NAMES.mlmDecoderWeight, BERT_PRETRAINING_HEAD_NAMES.mlmDecoderBias];

/** A module whose config.json additions (architectures, num_labels, ...) are merged on save. */
type HeadModule = ParameterModule & { configJSON?: () => Record<string, unknown> };

export interface SaveOptions {
  /** Head modules saved with the backbone; backbone names then get the `bert.` prefix. */
  heads?: HeadModule[];
  /** Extra config.json keys (override inferred ones such as `architectures`). */
  config?: Record<string, unknown>;
}

export interface LoadOptions extends BertModelOptions {
  /** Head modules (already initialised) that take the checkpoint's non-backbone tensors. */
  heads?: ParameterModule[];
  /** Config keys to override after reading config.json (e.g. dropout probabilities). */
  configOverrides?: Record<string, unknown>;
}

/** Writes `config.json` and `model.safetensors` (atomically) in HF layout. */
export function saveBertPretrained(model: BertModel, dir: string, options: SaveOptions = {}): void {
  const heads = options.heads ?? [];
  const tensors = new Map<string, tf.Tensor>();
  const prefix = heads.length > 0 ? `${BERT_BASE_PREFIX}.` : '';
  try {
    for (const [name, tensor] of model.stateDict()) tensors.set(`${prefix}${name}`, tensor);
    let headConfig: Record<string, unknown> = {};
    for (const head of heads) {
      for (const [name, tensor] of head.stateDict()) {
        if (BERT_TIED_HEAD_NAMES.includes(name) || tensors.has(name)) {
          tensor.dispose();
          if (!BERT_TIED_HEAD_NAMES.includes(name)) throw new PretrainError(`savePretrained: two modules both provide tensor "${name}"`);
          continue;
        }
        tensors.set(name, tensor);
      }
      headConfig = { ...headConfig, ...(head.configJSON?.() ?? {}) };
    }
    const config = { ...model.configJSON(), architectures: [inferArchitecture([...tensors.keys()])], ...headConfig, ...(options.config ?? {}) };
    fs.mkdirSync(dir, { recursive: true });
    writeSafetensors(path.join(dir, WEIGHTS_FILE), tensors, { format: 'pt' });
    writeJsonAtomic(path.join(dir, CONFIG_FILE), sortKeys(config));
  } finally {
    for (const tensor of tensors.values()) tensor.dispose();
  }
}

function inferArchitecture(names: string[]): string {
  const hasMlm = names.includes(BERT_PRETRAINING_HEAD_NAMES.mlmBias);
  const hasNsp = names.includes(BERT_PRETRAINING_HEAD_NAMES.nspWeight);
  if (hasMlm && hasNsp) return 'BertForPreTraining';
  if (hasMlm) return 'BertForMaskedLM';
  if (hasNsp) return 'BertForNextSentencePrediction';
  return 'BertModel';
}

/** HF writes config keys sorted; so do we, for byte-comparable files. */
function sortKeys(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Reads and validates `dir/config.json`. */
export function readBertConfig(dir: string, overrides: Record<string, unknown> = {}) {
  const file = path.join(dir, CONFIG_FILE);
  if (!fs.existsSync(file)) throw new PretrainError(`${file}: not found (a pretrained BERT directory needs config.json and model.safetensors)`, { file });
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new PretrainError(`${file}: not valid JSON (${(error as Error).message})`, { file, cause: error });
  }
  return parseBertConfig({ ...(raw as Record<string, unknown>), ...overrides }, file);
}

/** Reads `dir/model.safetensors` as float32/int32 tensors (the caller disposes them). */
export function readCheckpointTensors(dir: string): Map<string, tf.Tensor> {
  const file = path.join(dir, WEIGHTS_FILE);
  if (!fs.existsSync(file)) throw new PretrainError(`${file}: not found`, { file });
  const tensors = new Map<string, tf.Tensor>();
  for (const [name, t] of readSafetensors(file).tensors) {
    tensors.set(name, tf.tensor(t.data as Float32Array | Int32Array, t.shape, t.dtype.startsWith('F') || t.dtype === 'BF16' ? 'float32' : 'int32'));
  }
  return tensors;
}

/**
 * Loads a BERT from an HF directory. Backbone tensors may be prefixed (`bert.`) or not; other
 * tensors go to `heads`; whatever nobody takes is reported in `loadReport.unexpected`.
 */
export function loadBertPretrained(dir: string, options: LoadOptions = {}): BertModel {
  const config = readBertConfig(dir, options.configOverrides);
  const model = new BertModel(config, options);
  const tensors = readCheckpointTensors(dir);
  try {
    model.loadReport = loadWithHeads(model, tensors, options.heads ?? []);
  } catch (error) {
    model.dispose();
    throw error instanceof PretrainError ? new PretrainError(`${path.join(dir, WEIGHTS_FILE)}: ${error.message}`, { file: dir, cause: error }) : error;
  } finally {
    for (const tensor of tensors.values()) tensor.dispose();
  }
  return model;
}

/** Splits a checkpoint between backbone and heads and merges their reports. */
export function loadWithHeads(model: BertModel, tensors: Map<string, tf.Tensor>, heads: ParameterModule[]): LoadReport {
  const backboneReport = model.loadStateDict(tensors);
  const rest = new Map([...tensors].filter(([name]) => backboneReport.unexpected.includes(name)).map(([name, t]) => [renameLegacyKey(name), t]));
  const missing = [...backboneReport.missing];
  let unclaimed = new Set(rest.keys());
  for (const head of heads) {
    const report = head.loadStateDict(rest);
    missing.push(...report.missing.filter((name) => !BERT_TIED_HEAD_NAMES.includes(name)));
    const headUnexpected = new Set(report.unexpected);
    unclaimed = new Set([...unclaimed].filter((name) => headUnexpected.has(name)));
  }
  const unexpected = [...unclaimed].filter((name) => !BERT_TIED_HEAD_NAMES.includes(name));
  return { missing, unexpected };
}

export { stripPrefix };
