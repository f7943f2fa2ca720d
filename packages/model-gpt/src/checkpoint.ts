/**
 * HF checkpoints in and out: `config.json` + `model.safetensors`, exactly as transformers'
 * `save_pretrained` writes them for GPT2Model / GPT2LMHeadModel.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { HF_CONFIG_FILE, HF_WEIGHTS_FILE, backbonePrefixWith, checkHeaderShapes, loadBackboneAndHeads, loadCheckpointWeights, readHfConfig, saveHfCheckpoint, stripPrefix, type CheckpointHead, type HfLoadOptions, type HfSaveOptions, type LoadReport, type ParameterModule } from '@pretrain/core';
import { parseGpt2Config } from './config';
import { GPT2_BASE_PREFIX, Gpt2Model, gpt2ParameterSpecs, type Gpt2ModelOptions } from './model';

export { readCheckpointTensors } from '@pretrain/core';
export const CONFIG_FILE = HF_CONFIG_FILE;
export const WEIGHTS_FILE = HF_WEIGHTS_FILE;

/**
 * GPT2LMHeadModel's LM head is the token embedding matrix itself (`lm_head.weight` tied to
 * `transformer.wte.weight`): a head with no tensors of its own, declared as such. `savePretrained`
 * adds it with `lmHead` (the default when heads are given and none of them names another class).
 */
export const GPT2_TIED_LM_HEAD: CheckpointHead = {
  hfHead: { suffix: 'LMHeadModel', tiedNames: ['lm_head.weight'] },
  variables: () => new Map(),
  stateDict: () => new Map(),
  loadStateDict: () => ({ missing: [], unexpected: [] }),
  ownsTensorName: () => false,
  dispose: () => undefined,
};

export interface SaveOptions extends HfSaveOptions {
  /** Save as GPT2LMHeadModel (the tied LM head) even without head modules; default: true when heads are given. */
  lmHead?: boolean;
}

export type LoadOptions = Gpt2ModelOptions & HfLoadOptions;

/**
 * Writes `config.json` and `model.safetensors` (atomically) in HF layout. The HF class and the tied
 * names come from what the heads declare (objectives' `hfArchitecture`, `hfHead`), composed by core.
 */
export function saveGpt2Pretrained(model: Gpt2Model, dir: string, options: SaveOptions = {}): void {
  const given = options.heads ?? [];
  const namesClass = given.some((head) => head.hfHead?.suffix !== undefined || typeof (head as { hfArchitecture?: unknown }).hfArchitecture === 'function');
  const lmHead = options.lmHead ?? (given.length > 0 && !namesClass);
  const heads = lmHead ? [...given, GPT2_TIED_LM_HEAD] : given;
  saveHfCheckpoint(model, dir, { heads, backbonePrefix: backbonePrefixWith(heads, GPT2_BASE_PREFIX), config: options.config });
}

/** Reads and validates `dir/config.json`. */
export function readGpt2Config(dir: string, overrides: Record<string, unknown> = {}) {
  return readHfConfig(dir, 'GPT-2', parseGpt2Config, overrides);
}

/**
 * Loads a GPT-2 from an HF directory. Backbone tensors may be prefixed (`transformer.`) or not;
 * other tensors go to `heads`; whatever nobody takes is reported in `loadReport.unexpected`.
 */
export function loadGpt2Pretrained(dir: string, options: LoadOptions = {}): Gpt2Model {
  const config = readGpt2Config(dir, options.configOverrides);
  checkHeaderShapes(dir, gpt2ParameterSpecs(config), (name) => stripPrefix(name, GPT2_BASE_PREFIX));
  const model = new Gpt2Model(config, options);
  return loadCheckpointWeights(dir, model, (tensors) => loadWithHeads(model, tensors, options.heads ?? []));
}

/** Splits a checkpoint between backbone and heads and merges their reports. */
export function loadWithHeads(model: Gpt2Model, tensors: Map<string, tf.Tensor>, heads: ParameterModule[]): LoadReport {
  return loadBackboneAndHeads(model, tensors, heads);
}
