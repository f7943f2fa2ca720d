/**
 * HF checkpoints in and out: `config.json` + `model.safetensors`, exactly as transformers'
 * `save_pretrained` writes them for BertModel / BertForPreTraining / BertFor... classes.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { HF_CONFIG_FILE, HF_WEIGHTS_FILE, checkHeaderShapes, loadBackboneAndHeads, loadCheckpointWeights, readHfConfigJson, saveHfCheckpoint, type CheckpointHead, type LoadReport, type ParameterModule } from '@pretrain/core';
import { parseBertConfig } from './config';
import { BERT_BASE_PREFIX, BertModel, bertParameterSpecs, renameLegacyKey, stripPrefix, type BertModelOptions } from './model';

export { readCheckpointTensors } from '@pretrain/core';
export const CONFIG_FILE = HF_CONFIG_FILE;
export const WEIGHTS_FILE = HF_WEIGHTS_FILE;

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

export interface SaveOptions {
  /** Head modules saved with the backbone; backbone names then get the `bert.` prefix. */
  heads?: CheckpointHead[];
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
  const backbonePrefix = heads.length > 0 ? `${BERT_BASE_PREFIX}.` : '';
  // HF's BertForMaskedLM builds its BertModel without the pooler: saving one would be an unexpected tensor there.
  const absentFrom = { BertForMaskedLM: [`${BERT_BASE_PREFIX}.pooler.`] };
  saveHfCheckpoint(model, dir, { heads, backbonePrefix, tiedNames: BERT_TIED_HEAD_NAMES, architecture: inferArchitecture, config: options.config, absentFrom });
}

function inferArchitecture(names: string[]): string {
  const hasMlm = names.includes(BERT_PRETRAINING_HEAD_NAMES.mlmBias);
  const hasNsp = names.includes(BERT_PRETRAINING_HEAD_NAMES.nspWeight);
  if (hasMlm && hasNsp) return 'BertForPreTraining';
  if (hasMlm) return 'BertForMaskedLM';
  if (hasNsp) return 'BertForNextSentencePrediction';
  return 'BertModel';
}

/** Reads and validates `dir/config.json`. */
export function readBertConfig(dir: string, overrides: Record<string, unknown> = {}) {
  const { config, file } = readHfConfigJson(dir, 'BERT', overrides);
  return parseBertConfig(config, file);
}

/**
 * Loads a BERT from an HF directory. Backbone tensors may be prefixed (`bert.`) or not; other
 * tensors go to `heads`; whatever nobody takes is reported in `loadReport.unexpected`.
 */
export function loadBertPretrained(dir: string, options: LoadOptions = {}): BertModel {
  const config = readBertConfig(dir, options.configOverrides);
  const specs = bertParameterSpecs(config, options.addPoolingLayer ?? true).map((spec) => ({ name: spec.name, shape: spec.hfShape }));
  checkHeaderShapes(dir, specs, (name) => renameLegacyKey(stripPrefix(name, BERT_BASE_PREFIX)));
  const model = new BertModel(config, options);
  return loadCheckpointWeights(dir, model, (tensors) => loadWithHeads(model, tensors, options.heads ?? []));
}

/** Splits a checkpoint between backbone and heads and merges their reports. */
export function loadWithHeads(model: BertModel, tensors: Map<string, tf.Tensor>, heads: ParameterModule[]): LoadReport {
  return loadBackboneAndHeads(model, tensors, heads, { tiedNames: BERT_TIED_HEAD_NAMES, renameHeadKey: renameLegacyKey });
}

export { stripPrefix };
