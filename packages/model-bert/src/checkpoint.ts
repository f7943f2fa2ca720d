/**
 * HF checkpoints in and out: `config.json` + `model.safetensors`, exactly as transformers'
 * `save_pretrained` writes them for BertModel / BertForPreTraining / BertFor... classes. Which class
 * and which tied names is what the heads declare; this package knows only BERT's own names.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { HF_CONFIG_FILE, HF_WEIGHTS_FILE, backbonePrefixWith, checkHeaderShapes, loadBackboneAndHeads, loadCheckpointWeights, readHfConfig, saveHfCheckpoint, type HfLoadOptions, type HfSaveOptions, type LoadReport, type ParameterModule } from '@pretrain/core';
import { parseBertConfig } from './config';
import { BERT_BASE_PREFIX, BertModel, bertParameterSpecs, renameLegacyKey, stripPrefix, type BertModelOptions } from './model';

export { readCheckpointTensors } from '@pretrain/core';
export const CONFIG_FILE = HF_CONFIG_FILE;
export const WEIGHTS_FILE = HF_WEIGHTS_FILE;

export type SaveOptions = HfSaveOptions;

export type LoadOptions = BertModelOptions & HfLoadOptions;

/**
 * Writes `config.json` and `model.safetensors` (atomically) in HF layout. The HF class and the tied
 * names come from what the heads declare (objectives' `hfArchitecture`, `hfHead`), composed by core.
 */
export function saveBertPretrained(model: BertModel, dir: string, options: SaveOptions = {}): void {
  const heads = options.heads ?? [];
  saveHfCheckpoint(model, dir, { heads, backbonePrefix: backbonePrefixWith(heads, BERT_BASE_PREFIX), config: options.config });
}

/** Reads and validates `dir/config.json`. */
export function readBertConfig(dir: string, overrides: Record<string, unknown> = {}) {
  return readHfConfig(dir, 'BERT', parseBertConfig, overrides);
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
  return loadBackboneAndHeads(model, tensors, heads, { renameHeadKey: renameLegacyKey });
}

export { stripPrefix };
