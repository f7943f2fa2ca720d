import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import {
  BackbonePlugin,
  ParameterModule,
  PretrainError,
  TokenizerPlugin,
  loadSafetensorsAsTensors,
  writeFileAtomic,
  writeJsonAtomic,
  writeSafetensors,
} from '@pretrain/core';

export interface CheckpointContents {
  backbone: BackbonePlugin;
  /** Objective heads or the task head, saved under their own HF names. */
  modules: ParameterModule[];
  tokenizer?: TokenizerPlugin;
  /** Merged into config.json (architectures, num_labels, id2label, ...). */
  config?: Record<string, unknown>;
  /** Written as trainer_state.json (step, losses, why the run stopped). */
  state?: Record<string, unknown>;
}

/**
 * Writes an HF-layout checkpoint folder: config.json, model.safetensors (backbone names with the
 * base prefix, e.g. `bert.embeddings...`, plus head names), tokenizer.json. Every file is atomic.
 */
export function saveCheckpoint(dir: string, contents: CheckpointContents): string {
  fs.mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const [name, tensor] of contents.backbone.stateDict()) tensors.set(`${contents.backbone.info.basePrefix}.${name}`, tensor);
    for (const module of contents.modules) for (const [name, tensor] of module.stateDict()) tensors.set(name, tensor);
    writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  } finally {
    for (const tensor of tensors.values()) tensor.dispose();
  }
  writeJsonAtomic(path.join(dir, 'config.json'), { ...contents.backbone.configJSON(), ...(contents.config ?? {}) });
  if (contents.tokenizer) writeFileAtomic(path.join(dir, 'tokenizer.json'), contents.tokenizer.toJSON());
  if (contents.state) writeJsonAtomic(path.join(dir, 'trainer_state.json'), contents.state);
  return dir;
}

/** HF config.json of a checkpoint folder, with a clear error when the folder is not one. */
export function readCheckpointConfig(dir: string): Record<string, unknown> {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(dir)) throw new PretrainError(`Checkpoint ${dir} does not exist`, { file: dir });
  if (!fs.existsSync(file)) throw new PretrainError(`Checkpoint ${dir} has no config.json (is it a checkpoint folder?)`, { file });
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new PretrainError(`Invalid JSON in ${file}: ${(error as Error).message}`, { file });
  }
}

/**
 * Loads model.safetensors into the backbone (names with or without the base prefix) and the given
 * modules; returns the names nobody claimed and the parameters that stayed at their initial values.
 */
export function loadCheckpointWeights(dir: string, backbone: BackbonePlugin, modules: ParameterModule[] = []): { missing: string[]; unused: string[] } {
  const file = path.join(dir, 'model.safetensors');
  if (!fs.existsSync(file)) throw new PretrainError(`Checkpoint ${dir} has no model.safetensors`, { file });
  const tensors = loadSafetensorsAsTensors(file);
  try {
    const prefix = `${backbone.info.basePrefix}.`;
    const backboneTensors = new Map<string, tf.Tensor>();
    const rest = new Map<string, tf.Tensor>();
    const backboneNames = new Set(backbone.variables().keys());
    for (const [name, tensor] of tensors) {
      if (name.startsWith(prefix)) backboneTensors.set(name.slice(prefix.length), tensor);
      else if (backboneNames.has(name)) backboneTensors.set(name, tensor);
      else rest.set(name, tensor);
    }
    const report = backbone.loadStateDict(backboneTensors);
    const missing = [...report.missing];
    const claimed = new Set<string>();
    for (const module of modules) {
      const own = new Map([...rest].filter(([name]) => module.variables().has(name) || [...module.variables().keys()].some((k) => k === name)));
      const moduleReport = module.loadStateDict(own);
      missing.push(...moduleReport.missing);
      for (const name of own.keys()) claimed.add(name);
    }
    const unused = [...report.unexpected.map((n) => prefix + n), ...[...rest.keys()].filter((n) => !claimed.has(n))];
    return { missing, unused };
  } finally {
    for (const tensor of tensors.values()) tensor.dispose();
  }
}
