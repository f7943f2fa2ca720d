/**
 * HF checkpoints in and out: `config.json` + `model.safetensors`, exactly as transformers'
 * `save_pretrained` writes them for GPT2Model / GPT2LMHeadModel.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { PretrainError, readSafetensors, writeJsonAtomic, writeSafetensors, type LoadReport, type ParameterModule } from '@pretrain/core';
import { parseGpt2Config } from './config';
import { GPT2_BASE_PREFIX, Gpt2Model, type Gpt2ModelOptions } from './model';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';

/**
 * HF names of GPT2LMHeadModel's head (owned by the CLM objective). `lm_head.weight` is tied to
 * `transformer.wte.weight`: HF does not store it, and neither should a head's stateDict.
 */
export const GPT2_LM_HEAD_NAMES = {
  lmHeadWeight: 'lm_head.weight',
} as const;

/** Head names tied to another tensor: never written, and ignored when a checkpoint has them. */
export const GPT2_TIED_HEAD_NAMES: readonly string[] = [GPT2_LM_HEAD_NAMES.lmHeadWeight];

/** A module whose config.json additions (architectures, ...) are merged on save. */
type HeadModule = ParameterModule & { configJSON?: () => Record<string, unknown> };

export interface SaveOptions {
  /** Head modules saved with the backbone; backbone names then get the `transformer.` prefix. */
  heads?: HeadModule[];
  /** Save as GPT2LMHeadModel (the tied LM head) even without head modules; default: true when heads are given. */
  lmHead?: boolean;
  /** Extra config.json keys (override inferred ones such as `architectures`). */
  config?: Record<string, unknown>;
}

export interface LoadOptions extends Gpt2ModelOptions {
  /** Head modules (already initialised) that take the checkpoint's non-backbone tensors. */
  heads?: ParameterModule[];
  /** Config keys to override after reading config.json (e.g. dropout probabilities). */
  configOverrides?: Record<string, unknown>;
}

/** Writes `config.json` and `model.safetensors` (atomically) in HF layout. */
export function saveGpt2Pretrained(model: Gpt2Model, dir: string, options: SaveOptions = {}): void {
  const heads = options.heads ?? [];
  const withHeads = heads.length > 0 || options.lmHead === true;
  const tensors = new Map<string, tf.Tensor>();
  const prefix = withHeads ? `${GPT2_BASE_PREFIX}.` : '';
  try {
    for (const [name, tensor] of model.stateDict()) tensors.set(`${prefix}${name}`, tensor);
    let headConfig: Record<string, unknown> = {};
    for (const head of heads) {
      for (const [name, tensor] of head.stateDict()) {
        const tied = GPT2_TIED_HEAD_NAMES.includes(name);
        if (tied || tensors.has(name)) {
          tensor.dispose();
          if (!tied) throw new PretrainError(`savePretrained: two modules both provide tensor "${name}"`);
          continue;
        }
        tensors.set(name, tensor);
      }
      headConfig = { ...headConfig, ...(head.configJSON?.() ?? {}) };
    }
    const architecture = tensors.has('score.weight') ? 'GPT2ForSequenceClassification' : withHeads ? 'GPT2LMHeadModel' : 'GPT2Model';
    const config = { ...model.configJSON(), architectures: [architecture], ...headConfig, ...(options.config ?? {}) };
    fs.mkdirSync(dir, { recursive: true });
    writeSafetensors(path.join(dir, WEIGHTS_FILE), tensors, { format: 'pt' });
    writeJsonAtomic(path.join(dir, CONFIG_FILE), sortKeys(config));
  } finally {
    for (const tensor of tensors.values()) tensor.dispose();
  }
}

/** HF writes config keys sorted; so do we. */
function sortKeys(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Reads and validates `dir/config.json`. */
export function readGpt2Config(dir: string, overrides: Record<string, unknown> = {}) {
  const file = path.join(dir, CONFIG_FILE);
  if (!fs.existsSync(file)) throw new PretrainError(`${file}: not found (a pretrained GPT-2 directory needs config.json and model.safetensors)`, { file });
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new PretrainError(`${file}: not valid JSON (${(error as Error).message})`, { file, cause: error });
  }
  return parseGpt2Config({ ...(raw as Record<string, unknown>), ...overrides }, file);
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
 * Loads a GPT-2 from an HF directory. Backbone tensors may be prefixed (`transformer.`) or not;
 * other tensors go to `heads`; whatever nobody takes is reported in `loadReport.unexpected`.
 */
export function loadGpt2Pretrained(dir: string, options: LoadOptions = {}): Gpt2Model {
  const config = readGpt2Config(dir, options.configOverrides);
  const model = new Gpt2Model(config, options);
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
export function loadWithHeads(model: Gpt2Model, tensors: Map<string, tf.Tensor>, heads: ParameterModule[]): LoadReport {
  const backboneReport = model.loadStateDict(tensors);
  const rest = new Map([...tensors].filter(([name]) => backboneReport.unexpected.includes(name)));
  const missing = [...backboneReport.missing];
  let unclaimed = new Set(rest.keys());
  for (const head of heads) {
    const report = head.loadStateDict(rest);
    missing.push(...report.missing.filter((name) => !GPT2_TIED_HEAD_NAMES.includes(name)));
    const headUnexpected = new Set(report.unexpected);
    unclaimed = new Set([...unclaimed].filter((name) => headUnexpected.has(name)));
  }
  return { missing, unexpected: [...unclaimed].filter((name) => !GPT2_TIED_HEAD_NAMES.includes(name)) };
}
